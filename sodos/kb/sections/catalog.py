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

"""The federated catalog: each site publishes its Keystone endpoints.

Only the site itself writes its catalog (see :mod:`sodos.kb.catalog`).
The applier is deterministic, as every applier
(:mod:`sodos.kb.sections.base`).
"""

from __future__ import annotations

from typing import Any

from sodos.kb import schemas
from sodos.kb.sections import base

COMMANDS = base.Family()


def _catalog(data: dict[str, Any]) -> dict[str, Any]:
    # A state snapshotted before the catalog existed has no section yet.
    found: dict[str, Any] = data.setdefault('catalog', {})
    return found


@COMMANDS.command(
    'site.catalog',
    schemas.obj(
        ['site', 'endpoints'],
        site=schemas.NAME,
        endpoints={
            'type': 'array',
            'items': schemas.CATALOG_ENDPOINT,
            'maxItems': 500,
        },
    ),
)
def _site_catalog(data: dict[str, Any], cmd: dict[str, Any]) -> base.Result:
    args = cmd['args']
    site = base.own_site(data, cmd, 'write the catalog of')
    old = _catalog(data).get(site)
    if old is not None and old['endpoints'] == args['endpoints']:
        return {'changed': False}
    _catalog(data)[site] = {
        'endpoints': args['endpoints'],
        'updated_at': cmd['ts'],
    }
    return {'changed': True}
