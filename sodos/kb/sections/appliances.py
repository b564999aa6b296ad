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

"""Appliances and the placements of their members on sites."""

from __future__ import annotations

from typing import Any

from sodos.kb import schemas
from sodos.kb.sections import base

COMMANDS = base.Family()

# One placement, alone (placement.set) or in a plan (plan.apply).
PLACEMENT: dict[str, Any] = schemas.obj(
    ['appliance_id', 'member', 'site'],
    appliance_id=schemas.UUID_HEX,
    member=schemas.NAME,
    site=schemas.NAME,
    info=schemas.OBJECT,
)
# The placement of one member removed, alone or in a plan.
REMOVAL: dict[str, Any] = schemas.obj(
    ['appliance_id', 'member'],
    appliance_id=schemas.UUID_HEX,
    member=schemas.NAME,
)


def placement_key(item: dict[str, Any]) -> str:
    """Where the placement of ``item``'s member is kept."""
    return '%s/%s' % (item['appliance_id'], item['member'])


@COMMANDS.command(
    'appliance.put',
    schemas.obj(
        ['appliance_id', 'spec'],
        appliance_id=schemas.UUID_HEX,
        spec=schemas.OBJECT,
    ),
)
def _appliance_put(data: dict[str, Any], cmd: dict[str, Any]) -> base.Result:
    args = cmd['args']
    old = data['appliances'].get(args['appliance_id'])
    data['appliances'][args['appliance_id']] = {
        'spec': args['spec'],
        'created_at': old['created_at'] if old else cmd['ts'],
        'updated_at': cmd['ts'],
    }
    return {'created': old is None}


@COMMANDS.command(
    'appliance.update',
    schemas.obj(
        ['appliance_id', 'spec', 'updated_at'],
        appliance_id=schemas.UUID_HEX,
        spec=schemas.OBJECT,
        # As read: null for a record from before updated_at was kept.
        updated_at={'type': ['number', 'null']},
    ),
    # Added after the first release of the KB schema.
    since=2,
)
def _appliance_update(
    data: dict[str, Any], cmd: dict[str, Any]
) -> base.Result:
    """A changed spec of an appliance that still exists, as the proposer
    read it (``updated_at``): an update never brings back an appliance
    deleted meanwhile, nor undoes another update it did not see."""
    args = cmd['args']
    old = data['appliances'].get(args['appliance_id'])
    if old is None:
        raise base.Rejected(
            'appliance %s was deleted meanwhile' % args['appliance_id']
        )
    if old.get('updated_at') != args['updated_at']:
        raise base.Rejected(
            'appliance %s was changed meanwhile: read it again and retry'
            % args['appliance_id']
        )
    data['appliances'][args['appliance_id']] = dict(
        old, spec=args['spec'], updated_at=cmd['ts']
    )
    return {}


@COMMANDS.command(
    'appliance.delete',
    schemas.obj(['appliance_id'], appliance_id=schemas.UUID_HEX),
)
def _appliance_delete(
    data: dict[str, Any], cmd: dict[str, Any]
) -> base.Result:
    gone = data['appliances'].pop(cmd['args']['appliance_id'], None)
    return {'deleted': gone is not None}


@COMMANDS.command('placement.set', PLACEMENT, leader_only=True)
def _placement_set(data: dict[str, Any], cmd: dict[str, Any]) -> base.Result:
    args = cmd['args']
    if args['appliance_id'] not in data['appliances']:
        raise base.Rejected('unknown appliance %s' % args['appliance_id'])
    base.site(data, args['site'])
    data['placements'][placement_key(args)] = dict(
        args, placed_at=cmd['ts'], term=cmd['term']
    )
    return {}


@COMMANDS.command('placement.delete', REMOVAL, leader_only=True)
def _placement_delete(
    data: dict[str, Any], cmd: dict[str, Any]
) -> base.Result:
    key = placement_key(cmd['args'])
    return {'deleted': data['placements'].pop(key, None) is not None}
