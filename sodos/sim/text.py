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

"""What a sodos-sim run prints: its progress lines and its summary
tables (from the report :mod:`sodos.sim.report` builds)."""

from __future__ import annotations

from typing import Any

import prettytable

from sodos.sim import fairness
from sodos.sim import sample as sample_mod

SHOWN = 10  # appliances listed in the summary


def clock_label(t: float, started: float | None) -> str:
    """One clock for every progress line: the scenario's.

    Its zero is the moment every member first ran, where events count
    from (``at:`` in the scenario); before it, the set-up's own time.
    """
    if started is None:
        return '[setup %5.1f s]' % t
    return '[t = %+7.1f s]' % (t - started)


def progress_line(
    sample: dict[str, Any], last_event: str, started: float | None = None
) -> str:
    n = sample_mod.counts(sample)
    return '%s %-28s sites %d up, %d down | members %d running, %d pending' % (
        clock_label(sample['t'], started),
        (last_event or '-')[:28],
        n['sites_up'],
        n['sites_down'],
        n['running'],
        n['pending'],
    )


def _pct(value: float | None) -> str:
    return '-' if value is None else '%.1f %%' % (100 * value)


def _seconds(value: float | None) -> str:
    return '-' if value is None else '%.1f s' % value


def summary(report: dict[str, Any]) -> str:
    """The tables printed at the end of a run."""
    parts = []
    table = prettytable.PrettyTable(
        ['event', 'at t=', 'members hit', 'detected', 'all running again']
    )
    table.align = 'l'
    for f in report['failures']:
        table.add_row(
            [
                '%s %s' % (f['action'], ','.join(f['sites'])),
                '%+.1f s' % (f['t'] - report.get('started_s', 0.0)),
                len(f['affected_members']),
                _seconds(f['detect_s']),
                _seconds(f['recovery_s'])
                if f['affected_members']
                else 'nothing to move',
            ]
        )
    parts.append('Disruptions\n' + table.get_string())
    table = prettytable.PrettyTable(
        ['appliance', 'all members running', 'at least one running']
    )
    table.align = 'l'
    any_running = report.get('availability_any', {})
    # The least available first; a long list is cut, its spread kept.
    ranked = sorted(report['availability'].items(), key=lambda i: i[::-1])
    for name, value in ranked[:SHOWN]:
        table.add_row([name, _pct(value), _pct(any_running.get(name))])
    if len(ranked) > SHOWN:
        values = [v for _, v in ranked]
        table.add_row(
            [
                '(%d more)' % (len(ranked) - SHOWN),
                'mean %.1f %%, max %.1f %%'
                % (100 * sum(values) / len(values), 100 * max(values)),
                '',
            ]
        )
    parts.append(
        'Appliances (availability from the moment each was complete)\n'
        + table.get_string()
    )
    table = prettytable.PrettyTable(
        ['', 'cost/h', 'power kW', 'CO2 kg/h', 'sites in use']
    )
    table.align = 'l'
    for when in ('before', 'after'):
        c = report['cost'][when]
        table.add_row(
            [
                when,
                '%.3f' % c['cost_per_hour'],
                '%.1f' % c['power_kw'],
                '%.2f' % c['co2_kg_per_hour'],
                len(c['sites_in_use']),
            ]
        )
    moved = report['cost'].get('moves') or []
    lines = ['Cost of the running placement\n' + table.get_string()]
    for move in moved[:SHOWN]:
        lines.append(
            '  %s: %s -> %s'
            % (move['member'], move['from'] or '-', move['to'] or '-')
        )
    if len(moved) > SHOWN:
        lines.append('  (%d more moved)' % (len(moved) - SHOWN))
    parts.append('\n'.join(lines))
    end = report['end']
    lines = [
        'End: %d member(s) not running, %d on a site that does not run, '
        '%d running twice.'
        % (
            len(end['not_running']),
            len(end['on_dead_sites']),
            len(end['doubles']),
        )
    ]
    for key, reason in sorted(report['unplaced']['reasons'].items())[:10]:
        lines.append('  could not place %s: %s' % (key, reason))
    parts.append('\n'.join(lines))
    if report.get('community'):
        parts.append(fairness.summary(report['community']))
    return '\n\n'.join(parts)
