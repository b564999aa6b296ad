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

"""The federation itself: its creation, its leader and its policy."""

from __future__ import annotations

from typing import Any

from sodos.kb import schemas
from sodos.kb.sections import base

COMMANDS = base.Family()

# Values accepted for each federation-wide policy key.
POLICY_VALUES: dict[str, Any] = {
    'voter_count': {'enum': [1, 3, 5, 7]},
    'paused': {'type': 'boolean'},
    'consolidate': {'type': 'boolean'},
    # The half-life of the owners' usage in the fair share
    # (sodos.domain.fairshare), in seconds: an hour to a year.
    'fairshare_half_life_s': {
        'type': 'number',
        'minimum': 3600,
        'maximum': 365 * 86400,
    },
}


@COMMANDS.command(
    'federation.init',
    schemas.obj(
        ['federation_id', 'voter_count'],
        federation_id=schemas.UUID_HEX,
        voter_count={'enum': [1, 3, 5, 7]},
    ),
)
def _federation_init(data: dict[str, Any], cmd: dict[str, Any]) -> base.Result:
    args = cmd['args']
    current = data['federation'].get('id')
    if current is not None:
        if current != args['federation_id']:
            raise base.Rejected(
                'federation already initialised as %s' % current
            )
        return {'created': False}
    # The first leader may have claimed its term already.
    data['federation'].update(
        id=args['federation_id'],
        created_at=cmd['ts'],
        created_by=cmd['origin'],
    )
    if data['policy']['voter_count'] is None:
        data['policy']['voter_count'] = args['voter_count']
    return {'created': True}


@COMMANDS.command(
    'leader.claim', schemas.obj(['site'], site=schemas.NAME), leader_only=True
)
def _leader_claim(data: dict[str, Any], cmd: dict[str, Any]) -> base.Result:
    # The term check of the state machine did the real work: from now
    # on, commands of older leaders are refused.
    data['federation']['leader'] = {
        'site': cmd['args']['site'],
        'term': cmd['term'],
        'since': cmd['ts'],
    }
    return {}


# The value is checked against POLICY_VALUES[key] by sodos.kb.commands.
@COMMANDS.command(
    'policy.set',
    schemas.obj(
        ['key', 'value'],
        key={'enum': sorted(POLICY_VALUES)},
        value={},
    ),
)
def _policy_set(data: dict[str, Any], cmd: dict[str, Any]) -> base.Result:
    data['policy'][cmd['args']['key']] = cmd['args']['value']
    return {}
