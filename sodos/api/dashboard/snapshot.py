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

"""What the status page shows, in one JSON document.

Built from the read model's rows (:mod:`sodos.readmodel`): the page
shows sites, members and alerts exactly as ``/v1/sites``,
``/v1/appliances/{id}`` and ``/v1/alerts`` do. What is added here is
the page's own view of time: the actions of the last minutes and a
timeline of the last hour (site outages, re-placements, drains). A pure
function of the KB's sections and the time: no I/O.
"""

from __future__ import annotations

import datetime
from typing import Any

from sodos import readmodel
from sodos.knowmon import sitedown

# The sections of the KB a snapshot is made from.
SECTIONS = (
    'sites',
    'monitoring',
    'placements',
    'appliances',
    'alerts',
    'closed_alerts',
    'actions',
    'policy',
)
WINDOW_S = 3600.0
LAST_ACTIONS = 20
# Exec's server actions, as the timeline names them.
ACTION_LABELS = {'server.create': 'placed', 'server.delete': 'removed'}


def iso(ts: float | None) -> str | None:
    """An epoch time as UTC ISO 8601 (what the page prints)."""
    if ts is None:
        return None
    moment = datetime.datetime.fromtimestamp(ts, datetime.UTC)
    return moment.isoformat(timespec='seconds').replace('+00:00', 'Z')


def build(
    kb: dict[str, Any], status: dict[str, Any], now: float
) -> dict[str, Any]:
    """The page's snapshot; ``kb``: the :data:`SECTIONS`, ``status``: a
    KnowMon's ``status()``, ``now``: epoch seconds."""
    sites = kb.get('sites') or {}
    placements = kb.get('placements') or {}
    monitoring = kb.get('monitoring') or {}
    fed = readmodel.federation(status, kb.get('policy') or {}, sites)
    rows = readmodel.site_rows(sites, monitoring, placements)
    for row in rows:
        row['leader'] = row['name'] == fed['leader']
        row['voter'] = row['name'] in fed['voters']
    appliances = [
        {
            'id': aid,
            'name': (record.get('spec') or {}).get('name', ''),
            'members': readmodel.member_states(
                aid, record.get('spec'), placements, monitoring
            ),
        }
        for aid, record in sorted((kb.get('appliances') or {}).items())
    ]
    alerts = [
        readmodel.alert_row(aid, alert)
        for aid, alert in sorted(
            (kb.get('alerts') or {}).items(),
            key=lambda item: (-(item[1].get('raised_at') or 0), item[0]),
        )
    ]
    names = {a['id']: a['name'] for a in appliances}
    actions = _actions(kb.get('actions') or {}, names)
    return {
        'generated_at': iso(now),
        'now': now,
        'federation': fed,
        'sites': rows,
        'appliances': appliances,
        'alerts': alerts,
        'actions': actions[:LAST_ACTIONS],
        'timeline': timeline(kb, actions, now),
    }


def _actions(
    section: dict[str, Any], names: dict[str, str]
) -> list[dict[str, Any]]:
    """Every action, newest first; ``names``: appliance id -> name."""
    rows = []
    for aid, action in section.items():
        params = action.get('params') or {}
        rows.append(
            {
                'id': aid,
                'site': action.get('site', ''),
                'kind': action.get('kind', ''),
                'state': action.get('state', ''),
                'member': params.get('member', ''),
                'appliance_id': params.get('appliance_id', ''),
                'appliance': names.get(params.get('appliance_id', ''), ''),
                'created_at': action.get('created_at'),
                'updated_at': action.get('updated_at'),
            }
        )
    rows.sort(key=lambda r: (-(r['created_at'] or 0), r['id']))
    return rows


def timeline(
    kb: dict[str, Any], actions: list[dict[str, Any]], now: float
) -> dict[str, Any]:
    """The last hour: outages (from site-down alerts: when each was
    detected, when the site recovered and when its members ran again
    elsewhere), then drains and server actions as events."""
    start = now - WINDOW_S
    outages = _outages(kb, actions, start)
    events = []
    for name, site in sorted((kb.get('sites') or {}).items()):
        changed = site.get('maintenance_changed_at')
        if changed is not None and changed >= start:
            events.append(
                {
                    'at': changed,
                    'site': name,
                    'kind': 'maintenance',
                    'label': site.get('maintenance') or 'back in service',
                }
            )
    for action in actions:
        at = action['created_at']
        if at is None or at < start:
            continue
        events.append(
            {
                'at': at,
                'site': action['site'],
                'kind': 'action',
                'label': '%s %s (%s)'
                % (
                    action['member'] or action['kind'],
                    ACTION_LABELS.get(action['kind'], action['kind']),
                    action['state'],
                ),
            }
        )
    events.sort(key=lambda e: (e['at'], e['site'], e['label']))
    return {'start': start, 'end': now, 'outages': outages, 'events': events}


def _outages(
    kb: dict[str, Any], actions: list[dict[str, Any]], start: float
) -> list[dict[str, Any]]:
    spells = list((kb.get('alerts') or {}).values()) + list(
        (kb.get('closed_alerts') or {}).values()
    )
    out = []
    for alert in spells:
        if alert.get('kind') != sitedown.KIND:
            continue
        detected, recovered = alert.get('raised_at'), alert.get('closed_at')
        if detected is None or (recovered or float('inf')) < start:
            continue
        out.append(
            {
                'site': alert.get('site', ''),
                'detected_at': detected,
                'recovered_at': recovered,
                'replaced_at': _replaced(
                    actions, alert.get('site', ''), detected, recovered
                ),
                'message': alert.get('message', ''),
            }
        )
    out.sort(key=lambda o: (o['detected_at'], o['site']))
    return out


def _replaced(
    actions: list[dict[str, Any]],
    site: str,
    detected: float,
    recovered: float | None,
) -> float | None:
    """When the last member placed elsewhere during the outage was
    built (None: none was, or one is still building)."""
    moved = [
        a
        for a in actions
        if a['kind'] == 'server.create'
        and a['site'] != site
        and a['created_at'] is not None
        and detected <= a['created_at'] <= (recovered or float('inf'))
    ]
    if not moved or any(a['state'] != 'done' for a in moved):
        return None
    return max(a['updated_at'] or a['created_at'] for a in moved)
