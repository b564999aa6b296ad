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

"""Plans: the leader's placements, removals and actions, as one entry."""

from __future__ import annotations

from typing import Any

from sodos.kb import schemas
from sodos.kb.sections import actions
from sodos.kb.sections import appliances
from sodos.kb.sections import base

COMMANDS = base.Family()


@COMMANDS.command(
    'plan.apply',
    schemas.obj(
        ['plan_id'],
        plan_id=schemas.UUID_HEX,
        placements={
            'type': 'array',
            'maxItems': schemas.PLAN_CHUNK,
            'items': appliances.PLACEMENT,
        },
        removals={
            'type': 'array',
            'maxItems': schemas.PLAN_CHUNK,
            'items': appliances.REMOVAL,
        },
        actions={
            'type': 'array',
            'maxItems': 2 * schemas.PLAN_CHUNK,
            'items': actions.ACTION,
        },
        summary=schemas.SMALL_TEXT,
    ),
    leader_only=True,
)
def _plan_apply(data: dict[str, Any], cmd: dict[str, Any]) -> base.Result:
    """A plan (or a chunk of one), applied as one entry.

    The state machine's term check refuses a deposed leader's plan
    whole. An item that no longer fits the state (its appliance was
    deleted, its site left) is skipped and counted; the others apply.
    """
    args = cmd['args']
    skipped = 0
    for item in args.get('placements', []):
        site = data['sites'].get(item['site'])
        if item['appliance_id'] not in data['appliances'] or (
            site is None or site['status'] == 'left'
        ):
            skipped += 1
            continue
        data['placements'][appliances.placement_key(item)] = dict(
            item, placed_at=cmd['ts'], term=cmd['term']
        )
    for item in args.get('removals', []):
        data['placements'].pop(appliances.placement_key(item), None)
    for item in args.get('actions', []):
        if item['action_id'] in data['actions'] or (
            item['site'] not in data['sites']
        ):
            skipped += 1
            continue
        actions.put_action(data, item, cmd)
    return {'skipped': skipped}
