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

"""Open alerts, and their acknowledgement by an operator.

An admin sees every alert as raised. Anyone else sees the sites'
health alerts, and the unplaced and reclaimed members (told they will
be stopped for the site's owner) of its own project's appliances,
through :class:`sodos.api.tenant_view.View` (sites' owners unnamed, and
sites labelled unless the operator shows their names): the alerts about
another project's appliance, and the operators' own (identity, keys,
the Knowledge Base, images), are not theirs to read.
"""

from __future__ import annotations

from typing import Any

import webob

from sodos import readmodel
from sodos.analyseplan import notices
from sodos.analyseplan import role as analyseplan_role
from sodos.api import errors
from sodos.api import tenant_view
from sodos.api import util
from sodos.api.handlers import appliances
from sodos.api.policies import alert as policies
from sodos.api.schemas import alert as schemas
from sodos.domain import appliance as appliance_mod

STATES = ('open', 'acknowledged', 'all')
# What a project's members may read of the sites' health.
TENANT_KINDS = frozenset({'site_down', 'overload'})


def _state(value: str) -> str:
    if value not in STATES:
        raise ValueError(
            'must be one of %s, not %r' % (', '.join(STATES), value)
        )
    return value


class _Shown:
    """Which alerts the caller may read, and how."""

    def __init__(self, req: webob.Request) -> None:
        self.view = tenant_view.View(req)
        self.own: set[str] | None = None
        if not self.view.admin:
            self.own = _unplaced_alert_ids(req)

    def row(self, alert_id: str, alert: dict[str, Any]) -> dict[str, Any]:
        row: dict[str, Any] = readmodel.alert_row(alert_id, alert)
        if self.view.shows_everything():
            return row
        row['site'] = self.view.site(row['site'])
        row['message'] = self.view.text(row['message'])
        return row

    def allows(self, alert_id: str, alert: dict[str, Any]) -> bool:
        if self.own is None:
            return True
        if alert.get('kind') in ('unplaced', notices.KIND):
            return alert_id in self.own
        return alert.get('kind') in TENANT_KINDS


def _unplaced_alert_ids(req: webob.Request) -> set[str]:
    """The ids the unplaced and reclaim alerts of the caller's
    appliances have."""
    every = util.read(req, 'appliances')
    found = set()
    for aid in appliances.visible(req, every):
        spec = every[aid].get('spec') or {}
        for inst in appliance_mod.instances(aid, {'members': [], **spec}):
            found.add(analyseplan_role.unplaced_alert_id(inst.key))
            found.add(notices.alert_id(inst.key))
    return found


def _alert(
    req: webob.Request, alert_id: str, shown: _Shown | None = None
) -> dict[str, Any]:
    util.check_id(alert_id, 'alert')
    alert = util.read(req, 'alerts').get(alert_id)
    shown = shown or _Shown(req)
    if alert is None or not shown.allows(alert_id, alert):
        raise errors.not_found(
            'no open alert %s (closed alerts are in /v1/history/alerts)'
            % alert_id
        )
    return shown.row(alert_id, alert)


def list_alerts(req: webob.Request) -> webob.Response:
    util.authorize(req, policies.LIST)
    state = util.query(req, {'state': _state}).get('state', 'open')
    shown = _Shown(req)
    rows = [
        shown.row(aid, alert)
        for aid, alert in sorted(util.read(req, 'alerts').items())
        if shown.allows(aid, alert)
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
