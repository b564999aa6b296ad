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

"""Alerts: raised and closed by the roles, acknowledged by operators."""

from __future__ import annotations

from typing import Any

from sodos.kb import schemas
from sodos.kb.sections import base

COMMANDS = base.Family()

# Closed alerts the KB keeps (oldest dropped first): enough for every
# site's history recorder to copy them between two of its runs.
CLOSED_ALERTS_KEPT = 200


@COMMANDS.command(
    'alert.raise',
    schemas.obj(
        ['alert_id', 'site', 'kind', 'severity', 'message'],
        alert_id=schemas.UUID_HEX,
        site=schemas.NAME,
        kind=schemas.NAME,
        severity={'enum': ['info', 'warning', 'critical']},
        message=schemas.SMALL_TEXT,
    ),
)
def _alert_raise(data: dict[str, Any], cmd: dict[str, Any]) -> base.Result:
    args = cmd['args']
    existing = data['alerts'].get(args['alert_id'])
    if existing is not None:
        # Raised again while open: the same alert, its cause told anew
        # (an unplaced member's reason changes as the federation does).
        # It keeps when it was raised and whether it was acknowledged.
        changed = {
            key: args[key]
            for key in ('message', 'severity')
            if key in args and existing.get(key) != args[key]
        }
        if not changed:
            return {'created': False}
        existing.update(changed, updated_at=cmd['ts'])
        return {'created': False, 'updated': True}
    data['alerts'][args['alert_id']] = dict(
        args, state='open', raised_at=cmd['ts']
    )
    return {'created': True}


@COMMANDS.command(
    'alert.close',
    schemas.obj(
        ['alert_id'], alert_id=schemas.UUID_HEX, reason=schemas.SMALL_TEXT
    ),
)
def _alert_close(data: dict[str, Any], cmd: dict[str, Any]) -> base.Result:
    args = cmd['args']
    closed = data['alerts'].pop(args['alert_id'], None)
    if closed is not None:
        kept = data.setdefault('closed_alerts', {})
        kept[args['alert_id']] = dict(
            closed,
            state='closed',
            closed_at=cmd['ts'],
            reason=args.get('reason', ''),
        )
        while len(kept) > CLOSED_ALERTS_KEPT:
            del kept[next(iter(kept))]
    return {'closed': closed is not None}


@COMMANDS.command(
    'alert.ack',
    schemas.obj(
        ['alert_id', 'by'],
        alert_id=schemas.UUID_HEX,
        by={'type': 'string', 'minLength': 1, 'maxLength': 255},
        comment=schemas.SMALL_TEXT,
    ),
)
def _alert_ack(data: dict[str, Any], cmd: dict[str, Any]) -> base.Result:
    """An operator has seen the alert.

    The alert stays ``open`` for the roles: whoever raised it still acts
    on it and closes it (an acknowledged overload is still relieved).
    """
    args = cmd['args']
    alert = data['alerts'].get(args['alert_id'])
    if alert is None:
        raise base.Rejected('no open alert %s' % args['alert_id'])
    if alert.get('acknowledged_at') is not None:
        return {'changed': False}
    alert.update(
        acknowledged_at=cmd['ts'],
        acknowledged_by=args['by'],
        comment=args.get('comment', ''),
    )
    return {'changed': True}
