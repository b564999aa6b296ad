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

"""Membership of the Raft group: voters, and the lock on changing them."""

from __future__ import annotations

import copy
from typing import Any

from sodos.kb import schemas
from sodos.kb.sections import base

COMMANDS = base.Family()


@COMMANDS.command(
    'member.role',
    schemas.obj(
        ['site', 'role', 'voters'],
        site=schemas.NAME,
        role={'enum': ['voter', 'readonly']},
        voters={'type': 'array', 'items': schemas.ADDRESS, 'maxItems': 15},
    ),
    leader_only=True,
)
def _member_role(data: dict[str, Any], cmd: dict[str, Any]) -> base.Result:
    args = cmd['args']
    site = base.site(data, args['site'])
    site['role'] = args['role']
    data['membership']['voters'] = sorted(set(args['voters']))
    return {}


@COMMANDS.command(
    'membership.lock',
    schemas.obj(
        ['change_id', 'owner', 'ttl'],
        change_id=schemas.UUID_HEX,
        owner=schemas.NAME,
        description=schemas.SMALL_TEXT,
        ttl={'type': 'number', 'exclusiveMinimum': 0, 'maximum': 3600},
    ),
    leader_only=True,
)
def _membership_lock(data: dict[str, Any], cmd: dict[str, Any]) -> base.Result:
    args = cmd['args']
    lock = data['membership']['lock']
    granted = (
        lock is None
        or lock['change_id'] == args['change_id']
        # A leader's controller changes one thing at a time: a lock it
        # holds in its own term is a leftover of its own failed change.
        or (lock['owner'] == args['owner'] and lock['term'] == cmd['term'])
        # Only the leader changes membership: a lock taken in an older
        # term belongs to a deposed leader's controller.
        or lock['term'] < cmd['term']
        or cmd['ts'] > lock['ts'] + lock['ttl']
    )
    if granted:
        lock = data['membership']['lock'] = {
            'change_id': args['change_id'],
            'owner': args['owner'],
            'description': args.get('description', ''),
            'ttl': args['ttl'],
            'ts': cmd['ts'],
            'term': cmd['term'],
        }
    return {'granted': granted, 'holder': copy.deepcopy(lock)}


@COMMANDS.command(
    'membership.unlock',
    schemas.obj(['change_id'], change_id=schemas.UUID_HEX),
    leader_only=True,
)
def _membership_unlock(
    data: dict[str, Any], cmd: dict[str, Any]
) -> base.Result:
    lock = data['membership']['lock']
    if lock is None or lock['change_id'] != cmd['args']['change_id']:
        return {'released': False}
    data['membership']['lock'] = None
    return {'released': True}
