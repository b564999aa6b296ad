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

"""Open alerts, and their acknowledgement by an operator."""

from __future__ import annotations

from typing import Any

import webob

from sodos import readmodel
from sodos.api import errors
from sodos.api import util
from sodos.api.policies import alert as policies
from sodos.api.schemas import alert as schemas

STATES = ('open', 'acknowledged', 'all')


def _state(value: str) -> str:
    if value not in STATES:
        raise ValueError(
            'must be one of %s, not %r' % (', '.join(STATES), value)
        )
    return value


def _alert(req: webob.Request, alert_id: str) -> dict[str, Any]:
    util.check_id(alert_id, 'alert')
    alert = util.read(req, 'alerts').get(alert_id)
    if alert is None:
        raise errors.not_found(
            'no open alert %s (closed alerts are in /v1/history/alerts)'
            % alert_id
        )
    row: dict[str, Any] = readmodel.alert_row(alert_id, alert)
    return row


def list_alerts(req: webob.Request) -> webob.Response:
    util.authorize(req, policies.LIST)
    state = util.query(req, {'state': _state}).get('state', 'open')
    rows = [
        readmodel.alert_row(aid, alert)
        for aid, alert in sorted(util.read(req, 'alerts').items())
    ]
    if state != 'all':
        rows = [row for row in rows if row['state'] == state]
    return util.respond({'alerts': rows})


def show(req: webob.Request, alert_id: str) -> webob.Response:
    util.authorize(req, policies.GET)
    return util.respond({'alert': _alert(req, alert_id)})


def ack(req: webob.Request, alert_id: str) -> webob.Response:
    util.authorize(req, policies.ACK)
    body = util.json_body(req, schemas.ACK)
    _alert(req, alert_id)
    context = util.context(req)
    args = {
        'alert_id': alert_id,
        'by': (context.user_name or context.user_id or 'unknown')[:255],
    }
    if 'comment' in body:
        args['comment'] = body['comment']
    util.propose(req, 'alert.ack', args)
    return util.respond({'alert': _alert(req, alert_id)})
