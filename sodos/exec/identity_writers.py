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

"""Which identity writer a site's Exec uses (``[identity]mode``).

``api``: the site's Keystone API (or the simulated Keystone);
``shared``: the writer of the site's Keystone database (or the simulated
Keystone with the federation's ids).
"""

from __future__ import annotations

from oslo_config import cfg

from sodos import exception
from sodos.exec import driver as exec_driver
from sodos.identity import writer as writer_mod


def for_mode(
    mode: str, conf: cfg.ConfigOpts, site_driver: exec_driver.Driver
) -> writer_mod.IdentityWriter | None:
    """The writer of ``mode`` for this site's driver, None if it has none.

    :raises ConfigError: the shared mode's database URL is missing or
        unusable.
    """
    if mode == 'shared':
        return _shared_writer(conf)
    return _api_writer(conf, site_driver)


def _api_writer(
    conf: cfg.ConfigOpts, site_driver: exec_driver.Driver
) -> writer_mod.IdentityWriter | None:
    session = getattr(site_driver, 'session', None)
    if conf.exec.driver == 'openstack' and session is not None:
        from sodos.exec.openstack import identity

        return identity.KeystoneWriter(conf, session)
    if conf.exec.driver == 'simulator':
        from sodos.exec import simulator_identity

        return simulator_identity.SimulatedKeystone()
    return None


def _shared_writer(conf: cfg.ConfigOpts) -> writer_mod.IdentityWriter | None:
    """The writer of Keystone's database (the simulated Keystone with
    the global ids under the simulator driver).

    :raises ConfigError: the database URL is missing or unusable.
    """
    if conf.exec.driver == 'simulator':
        from sodos.exec import simulator_identity

        return simulator_identity.SimulatedKeystone(same_ids=True)
    if conf.exec.driver != 'openstack':
        return None
    url = conf.identity.keystone_database_connection
    if not url:
        raise exception.ConfigError(
            '[identity]mode = shared needs [identity]'
            'keystone_database_connection, the SQLAlchemy URL of this '
            "site's Keystone database (or set [identity]mode = api)"
        )
    from sqlalchemy import exc as sa_exc

    from sodos.exec.openstack.keystone_db import writer as db_writer

    try:
        return db_writer.KeystoneDBWriter(conf)
    except (sa_exc.ArgumentError, ImportError) as exc:
        raise exception.ConfigError(
            '[identity]keystone_database_connection %s cannot be used: %s'
            % (db_writer.safe_url(url), exc)
        ) from None
