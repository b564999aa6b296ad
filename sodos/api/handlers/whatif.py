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

"""What-if questions: what the planner would do, acting on nothing."""

from __future__ import annotations

from typing import Any

import webob

from sodos.api import errors
from sodos.api import tenant_view
from sodos.api import util
from sodos.api.handlers import appliances
from sodos.api.policies import whatif as policies
from sodos.api.schemas import whatif as schemas


def create(req: webob.Request) -> webob.Response:
    util.authorize(req, policies.CREATE)
    body = util.json_body(req, schemas.CREATE)
    view = tenant_view.View(req)
    # A tenant may name a site by the label it was shown.
    failed = [view.site_name(s) for s in body.get('fail_sites') or []]
    drained = [view.site_name(s) for s in body.get('drain_sites') or []]
    if not failed and not drained:
        raise errors.invalid_body(
            'body: name at least one site in fail_sites or drain_sites'
        )
    kb = util.read(req, None)
    try:
        report = util.services(req).whatif(kb, failed, drained)
    except ValueError as exc:
        raise errors.invalid_body(view.text('body: %s' % exc)) from None
    shown = appliances.visible(req, kb.get('appliances') or {})
    answer = result(report, shown)
    if not view.shows_everything():
        # Sites and reasons as the caller may read them; the names of
        # its own appliances as they are.
        answer = {
            key: value if key == 'affected_appliances' else view.tree(value)
            for key, value in answer.items()
        }
    return util.respond({'whatif': answer})


def result(
    report: dict[str, Any], shown: set[str] | None = None
) -> dict[str, Any]:
    """The planner's report in the API's terms; only the appliances in
    ``shown`` (None: all), so a tenant sees its own project's only."""
    names = report['appliance_names']
    if shown is not None:
        report = dict(
            report,
            affected_appliances=[
                a for a in report['affected_appliances'] if a in shown
            ],
            moves=[m for m in report['moves'] if m['appliance_id'] in shown],
            unplaced=[
                u for u in report['unplaced'] if u['appliance_id'] in shown
            ],
        )
    return {
        'events': report['events'],
        'affected_appliances': [
            {'id': aid, 'name': names.get(aid, aid)}
            for aid in report['affected_appliances']
        ],
        'moves': [
            {
                'appliance': names.get(m['appliance_id'], m['appliance_id']),
                'appliance_id': m['appliance_id'],
                'member': m['member'],
                'from': m.get('from_site') or '',
                'to': m['site'],
            }
            for m in report['moves']
        ],
        'unplaceable': [
            {
                'appliance': names.get(u['appliance_id'], u['appliance_id']),
                'appliance_id': u['appliance_id'],
                'member': u['member'],
                'reason': u['reason'],
            }
            for u in report['unplaced']
        ],
        'capacity_left': report['capacity_left'],
    }
