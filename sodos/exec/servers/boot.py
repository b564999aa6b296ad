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

"""The boot request of a member: what its action says (image, flavor,
name) and what its appliance's spec says (owner, key, user data,
metadata).

The spec is read from the KB when the server is built, not carried in
the action: a member re-placed at another site, or rebuilt by a
reconcile, boots with the same key, user data and metadata as the
first, and the owner's project is named as the building site calls it.
"""

from __future__ import annotations

from typing import Any

from sodos.domain import ownership
from sodos.exec.drivers import base as driver


def request(
    params: dict[str, Any],
    action_id: str,
    spec: dict[str, Any] | None,
    ident: dict[str, Any],
    site: str,
    in_owner_project: bool = True,
) -> driver.ServerSpec:
    """The boot request; ``spec`` is the appliance's (None: deleted
    meanwhile, the server is built as the action says, and removed by
    the next reconcile), ``ident`` the KB's identity section (its ID
    map at least)."""
    spec = spec or {}
    owner = ownership.owner(spec)
    project = ownership.local_id(ident, site, owner) if owner else None
    return driver.ServerSpec(
        appliance_id=params['appliance_id'],
        member=params['member'],
        action_id=action_id,
        name=params.get('name')
        or 'sodos-%s-%s' % (params['appliance_id'][:8], params['member']),
        image=params['image'],
        flavor=params['flavor'],
        project_id=project if in_owner_project else None,
        public_key=spec.get('public_key', ''),
        user_data=spec.get('user_data', ''),
        user_metadata=dict(spec.get('metadata') or {}),
    )
