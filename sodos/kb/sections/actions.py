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

"""Actions: what the leader asks a site's Exec to do, and how it went."""

from __future__ import annotations

from typing import Any

from sodos.kb import schemas
from sodos.kb.sections import base

COMMANDS = base.Family()

# One action, alone (action.put) or in a plan (plan.apply).
ACTION: dict[str, Any] = schemas.obj(
    ['action_id', 'site', 'kind', 'params'],
    action_id=schemas.UUID_HEX,
    site=schemas.NAME,
    kind=schemas.NAME,
    params=schemas.OBJECT,
)


def put_action(
    data: dict[str, Any], args: dict[str, Any], cmd: dict[str, Any]
) -> None:
    """Store a new pending action (its id and site checked by the caller)."""
    data['actions'][args['action_id']] = dict(
        args,
        state='pending',
        created_at=cmd['ts'],
        updated_at=cmd['ts'],
        term=cmd['term'],
    )


@COMMANDS.command('action.put', ACTION, leader_only=True)
def _action_put(data: dict[str, Any], cmd: dict[str, Any]) -> base.Result:
    args = cmd['args']
    if args['action_id'] in data['actions']:
        return {'created': False}
    base.site(data, args['site'])
    put_action(data, args, cmd)
    return {'created': True}


@COMMANDS.command(
    'action.prune',
    schemas.obj(
        ['ended_before'], ended_before={'type': 'number', 'minimum': 0}
    ),
    leader_only=True,
)
def _action_prune(data: dict[str, Any], cmd: dict[str, Any]) -> base.Result:
    """Drop the actions that ended before ``ended_before``.

    The time is in the command, so every member drops the same ones.
    """
    before = cmd['args']['ended_before']
    actions = data['actions']
    gone = [
        action_id
        for action_id, action in actions.items()
        if action['state'] in ('done', 'failed')
        and action['updated_at'] < before
    ]
    for action_id in gone:
        del actions[action_id]
    return {'pruned': len(gone)}


@COMMANDS.command(
    'action.update',
    schemas.obj(
        ['action_id', 'state'],
        action_id=schemas.UUID_HEX,
        state={'enum': ['running', 'done', 'failed']},
        result=schemas.OBJECT,
    ),
)
def _action_update(data: dict[str, Any], cmd: dict[str, Any]) -> base.Result:
    args = cmd['args']
    action = data['actions'].get(args['action_id'])
    if action is None:
        raise base.Rejected('unknown action %s' % args['action_id'])
    if action['state'] in ('done', 'failed'):
        raise base.Rejected(
            'action %s already ended (%s)'
            % (args['action_id'], action['state'])
        )
    action.update(
        state=args['state'],
        result=args.get('result', {}),
        updated_at=cmd['ts'],
    )
    return {}
