# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""The ``shared`` identity writer: a site's Keystone database, directly.

Keystone's API gives every project, user and group an id of its own and
takes no password hash; writing its tables (as StarlingX's dcdbsync does)
gives every site the same ids, so one token is good at every site.

* :mod:`.schema`: the tables written, and the gate that refuses a
  Keystone schema version this writer was not checked against;
* :mod:`.rows`: pure functions from an operation to rows, and back;
* :mod:`.writer`: :class:`~.writer.KeystoneDBWriter`, one transaction
  per operation, with :mod:`.read`, :mod:`.delete`, :mod:`.passwords`
  and the rules it keeps (:mod:`.rules`);
* :func:`shared_writer`: the writer the openstack driver gives the
  identity loop in ``[identity]mode = shared``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from oslo_config import cfg

from sodos import exception

if TYPE_CHECKING:
    from sodos.exec.drivers.openstack.keystone_db import writer


def shared_writer(conf: cfg.ConfigOpts) -> writer.KeystoneDBWriter:
    """The writer of the Keystone database ``[identity]`` names.

    :raises ConfigError: the database URL is missing or unusable.
    """
    url = conf.identity.keystone_database_connection
    if not url:
        raise exception.ConfigError(
            '[identity]mode = shared needs [identity]'
            'keystone_database_connection, the SQLAlchemy URL of this '
            "site's Keystone database (or set [identity]mode = api)"
        )
    # SQLAlchemy costs a site ~9 MB: only shared mode loads it.
    from sqlalchemy import exc as sa_exc

    from sodos.exec.drivers.openstack.keystone_db import writer as db_writer

    try:
        return db_writer.KeystoneDBWriter(conf)
    except (sa_exc.ArgumentError, ImportError) as exc:
        raise exception.ConfigError(
            '[identity]keystone_database_connection %s cannot be used: %s'
            % (db_writer.safe_url(url), exc)
        ) from None
