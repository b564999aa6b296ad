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

"""What the ``shared`` writer refuses to change, whatever it is asked.

The same rules as converge's, kept by the writer itself: never an object
with a protected name (``[identity]protected_*``), and only objects
sodos marked (``sodos_id``) with the global id as their id.
"""

from __future__ import annotations

from typing import Any

from sodos.exec.drivers import base as driver
from sodos.exec.drivers.openstack.keystone_db import read
from sodos.identity import converge
from sodos.identity import model


def refuse_protected(
    protected: dict[str, set[str]], kind: str, lid: str, name: Any
) -> None:
    """The same rule as converge's: a protected name, or for a
    domain a protected id."""
    names = protected.get(kind, set())
    if name in names or (kind == 'domains' and lid in names):
        raise driver.PermanentError(
            '%s %s is protected ([identity]protected_%s): sodos does '
            'not change it' % (model.SINGULAR[kind], name or lid, kind)
        )


def refuse_unowned(op: converge.Op, lid: str, have: read.Found) -> None:
    """Refuse to change what sodos did not make; but an unmarked
    object that has the global id already may be marked (adopted)."""
    if lid == op.gid and (
        have.marker == op.gid
        or (not have.marker and op.attrs.get(model.MARKER) == op.gid)
    ):
        return
    single = model.SINGULAR[op.kind]
    if lid != op.gid:
        raise driver.PermanentError(
            "%s %s has the id %s at this site, not the federation's "
            '%s: shared identity needs the same id at every site'
            % (single, have.name, lid, op.gid)
        )
    mark = (
        'it has no %s' % model.MARKER
        if not have.marker
        else 'its %s is %s' % (model.MARKER, have.marker)
    )
    raise driver.PermanentError(
        '%s %s (%s) was not made by sodos (%s): sodos does not change it'
        % (single, have.name, lid, mark)
    )
