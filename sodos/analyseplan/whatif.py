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

"""What-if questions: what would the planner do if sites failed or were
drained? Asked of the live KB, acting on nothing.

The question is planned as the leader plans, at the time it is asked:
a member kept off a site where its server failed goes back there after
``[analyseplan]failed_site_retry_after`` seconds in the answer too
(:mod:`failures`). Only the reclaims differ: a question tells no guest
and stops none (:mod:`reclaim`)."""

from __future__ import annotations

from typing import Any

import prettytable

from sodos.analyseplan import planner as planner_mod
from sodos.analyseplan.view import Events


def ask(
    planner: planner_mod.Planner,
    kb: dict[str, Any],
    failed: list[str],
    drained: list[str],
    now: float | None,
) -> dict[str, Any]:
    """What the events change in the plan: every member they move, send
    elsewhere than the plan without them would, or leave without a site
    (pending members included); members whose fate is the same either
    way are left out. ``now``: the time asked at (the planner's
    clock; None: failures count for good)."""
    known = set(kb.get('sites', {}))
    unknown = sorted(set(failed + drained) - known)
    if unknown:
        raise ValueError(
            'no site named %s in the federation (known: %s)'
            % (', '.join(unknown), ', '.join(sorted(known)))
        )
    events = Events(failed=frozenset(failed), drained=frozenset(drained))
    baseline = planner.plan(kb, now=now, notify=False)
    plan = planner.plan(kb, events, now=now, notify=False)
    going = {m.key: m.site for m in baseline.moves}
    stuck = {u.key for u in baseline.unplaced}
    report = plan.to_dict()
    report['moves'] = [
        m for m in report['moves'] if going.get(m['key']) != m['site']
    ]
    report['unplaced'] = [
        u for u in report['unplaced'] if u['key'] not in stuck
    ]
    report['affected_appliances'] = sorted(
        {m['appliance_id'] for m in report['moves']}
        | {u['appliance_id'] for u in report['unplaced']}
    )
    names = {
        a: (r.get('spec') or {}).get('name', a)
        for a, r in kb.get('appliances', {}).items()
    }
    report['appliance_names'] = {
        a: names.get(a, a) for a in report['affected_appliances']
    }
    report['events'] = {'failed': sorted(failed), 'drained': sorted(drained)}
    return report


def as_text(report: dict[str, Any]) -> str:
    events = report['events']
    lines = [
        'What if %s:'
        % ' and '.join(
            ['%s fails' % s for s in events['failed']]
            + ['%s is drained' % s for s in events['drained']]
        )
    ]
    names = report['appliance_names']
    lines.append(
        '%d appliance(s) affected: %s'
        % (
            len(report['affected_appliances']),
            ', '.join(names[a] for a in report['affected_appliances'])
            or 'none',
        )
    )
    if report['moves']:
        table = prettytable.PrettyTable(['appliance', 'member', 'from', 'to'])
        table.align = 'l'
        for move in report['moves']:
            table.add_row(
                [
                    names.get(move['appliance_id'], move['appliance_id']),
                    move['member'],
                    move['from_site'] or '-',
                    move['site'],
                ]
            )
        lines.append(table.get_string())
    for unplaced in report['unplaced']:
        lines.append(
            'CANNOT PLACE %s/%s: %s'
            % (
                names.get(unplaced['appliance_id'], unplaced['appliance_id']),
                unplaced['member'],
                unplaced['reason'],
            )
        )
    table = prettytable.PrettyTable(['site', 'vcpu left', 'ram_mb left'])
    table.align = 'l'
    for site, left in sorted(report['capacity_left'].items()):
        table.add_row([site, '%g' % left['vcpu'], '%g' % left['ram_mb']])
    lines.append('Capacity left:')
    lines.append(table.get_string())
    return '\n'.join(lines)
