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

"""``timeline.html``: a run's timeline as one standalone page.

Inline SVG, no script and nothing fetched: one band per site coloured by
its state over time (up, draining, crashed or frozen before the KB
noticed, down), the number of members running there written on each
change, and a chart of members running and pending in the federation,
with the events marked. The time axis is the scenario's clock (t = 0
when every member first ran, as the events' ``at:``), with ticks and a
grid; each failure's detection and recovery are marked. The summary
tables of the run follow: disruptions, availability, cost and the moves
a cost change comes from.
"""

from __future__ import annotations

import html
import math
from typing import Any

from sodos.sim import text

COLOURS = {
    'up': '#4caf50',
    'draining': '#ffb300',
    'drained': '#9e9e9e',
    'crashed': '#e57373',
    'frozen': '#90caf9',
    'down': '#c62828',
    'unknown': '#bdbdbd',
}
LEFT = 140
WIDTH = 900
ROW = 16
CHART = 160


def _x(t: float, end: float) -> float:
    return LEFT + (WIDTH - LEFT - 10) * (t / end if end else 0.0)


def _step(span: float) -> float:
    """A tick step of 1, 2 or 5 times a power of ten: 5 to 10 ticks."""
    if span <= 0:
        return 1.0
    rough = span / 8
    power = 10 ** math.floor(math.log10(rough))
    for factor in (1, 2, 5, 10):
        if rough <= factor * power:
            return float(factor * power)
    return float(10 * power)


def _axis(end: float, started: float, y0: int, y1: int) -> list[str]:
    """Ticks, labels and grid lines of the scenario's clock."""
    step = _step(end)
    out = []
    first = math.ceil(-started / step) * step
    k = first
    while started + k <= end + 1e-9:
        x = _x(started + k, end)
        out.append(
            '<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>'
            '<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#555"/>'
            '<text x="%.1f" y="%d" text-anchor="middle">%s</text>'
            % (x, y0, x, y1, x, y1, x, y1 + 5, x, y1 + 17, _tick(k))
        )
        k += step
    out.append(
        '<text x="%d" y="%d">t (s), from every member running</text>'
        % (LEFT, y1 + 32)
    )
    return out


def _tick(value: float) -> str:
    return ('%+g' % round(value, 6)) if value else '0'


def _failure_marks(
    report: dict[str, Any], end: float, y0: int, y1: int
) -> list[str]:
    """Each failure's detection (when the KB marked the site down) and
    recovery (every member it hit running again)."""
    out = []
    for f in report.get('failures', []):
        for offset, colour, label in (
            (f.get('detect_s'), '#6a1b9a', 'detected'),
            (
                f.get('recovery_s') if f.get('affected_members') else None,
                '#1565c0',
                'recovered',
            ),
        ):
            if offset is None:
                continue
            x = _x(f['t'] + offset, end)
            out.append(
                '<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" '
                'stroke-width="2"><title>%s %s after %.1f s</title></line>'
                '<text x="%.1f" y="%d" fill="%s">%s</text>'
                % (
                    x,
                    y0,
                    x,
                    y1,
                    colour,
                    html.escape(' '.join(f['sites'])),
                    label,
                    offset,
                    x + 2,
                    y0 + 10,
                    colour,
                    label,
                )
            )
    return out


def _tables(report: dict[str, Any]) -> str:
    """The run's summary tables, as the terminal prints them."""
    return '<pre>%s</pre>' % html.escape(text.summary(report))


def _bands(timeline: list[dict[str, Any]], name: str) -> list[tuple]:
    """(start, end, state, running) runs of equal state and count."""
    runs: list[list[Any]] = []
    for i, point in enumerate(timeline):
        state, running, _ = point['sites'].get(name, ['unknown', 0, 0])
        end = timeline[i + 1]['t'] if i + 1 < len(timeline) else point['t']
        if runs and runs[-1][2:] == [state, running]:
            runs[-1][1] = end
        else:
            runs.append([point['t'], end, state, running])
    return [tuple(r) for r in runs]


PALETTE = (
    '#1f77b4',
    '#ff7f0e',
    '#2ca02c',
    '#d62728',
    '#9467bd',
    '#8c564b',
    '#e377c2',
    '#7f7f7f',
    '#bcbd22',
    '#17becf',
)


def _shares(community: dict[str, Any]) -> str:
    """Each owner's share of the used vCPUs over time (solid) against
    its entitlement (dashed), the contended samples shaded, the reclaims
    marked; empty without a community part."""
    points = community.get('series') or []
    if not points:
        return ''
    owners = list(community['owners'])
    start, end = points[0]['t'], points[-1]['t']
    span = (end - start) or 1.0
    top = max(
        [max(p['share'].values(), default=0.0) for p in points]
        + [r['entitlement'] for r in community['owners'].values()]
        + [0.05]
    )
    height = 220

    def x(t: float) -> float:
        return LEFT + (WIDTH - LEFT - 10) * (t - start) / span

    def y(v: float) -> float:
        return 10 + height - height * v / top

    out = [
        '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
        'font-family="sans-serif" font-size="11">' % (WIDTH, height + 60)
    ]
    for before, after in zip(points, points[1:], strict=False):
        if before['contended']:
            out.append(
                '<rect x="%.1f" y="10" width="%.1f" height="%d" '
                'fill="#fff3e0"/>'
                % (
                    x(before['t']),
                    max(x(after['t']) - x(before['t']), 0.5),
                    height,
                )
            )
    for n, owner in enumerate(owners):
        colour = PALETTE[n % len(PALETTE)]
        line = ' '.join(
            '%.1f,%.1f' % (x(p['t']), y(p['share'][owner])) for p in points
        )
        out.append(
            '<polyline fill="none" stroke="%s" stroke-width="1.5" '
            'points="%s"><title>%s share</title></polyline>'
            % (colour, line, html.escape(owner))
        )
        level = y(community['owners'][owner]['entitlement'])
        out.append(
            '<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s" '
            'stroke-dasharray="4,3"><title>%s entitlement</title></line>'
            % (LEFT, level, WIDTH - 10, level, colour, html.escape(owner))
        )
        out.append(
            '<text x="4" y="%d" fill="%s">%s</text>'
            % (22 + 13 * n, colour, html.escape(owner))
        )
    for move in community['reclaims']['moved']:
        mark = x(move['at'])
        out.append(
            '<line x1="%.1f" y1="10" x2="%.1f" y2="%d" stroke="#6a1b9a">'
            '<title>reclaim %s: %s -> %s</title></line>'
            % (
                mark,
                mark,
                10 + height,
                html.escape(move['member']),
                html.escape(move['from']),
                html.escape(move['to']),
            )
        )
    out.append(
        '<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#888"/>'
        '<text x="%d" y="%d">t (s), %+g to %+g; share of used vCPUs, '
        'top %.0f %%</text></svg>'
        % (
            LEFT,
            10 + height,
            WIDTH - 10,
            10 + height,
            LEFT,
            height + 40,
            start,
            end,
            100 * top,
        )
    )
    return (
        "<h2>Fair share</h2><p>Each owner's share of the used vCPUs "
        '(solid) against its entitlement (dashed); contended samples '
        'shaded; reclaims marked in purple.</p>' + '\n'.join(out)
    )


def render(report: dict[str, Any]) -> str:
    timeline = report['timeline']
    end = max((p['t'] for p in timeline), default=1.0) or 1.0
    sites = list(report['sites'])
    top = 44  # room for the event labels, on two lines
    chart_top = top + ROW * len(sites) + 30
    height = chart_top + CHART + 50
    out = [
        '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
        'font-family="sans-serif" font-size="11">' % (WIDTH, height)
    ]
    for row, name in enumerate(sites):
        y = top + row * ROW
        out.append(
            '<text x="4" y="%d">%s</text>' % (y + 12, html.escape(name))
        )
        for start, stop, state, running in _bands(timeline, name):
            x0, x1 = _x(start, end), _x(stop, end)
            out.append(
                '<rect x="%.1f" y="%d" width="%.1f" height="%d" '
                'fill="%s"><title>%s %.1f-%.1f s: %s, %d running</title>'
                '</rect>'
                % (
                    x0,
                    y,
                    max(x1 - x0, 1.0),
                    ROW - 2,
                    COLOURS.get(state, '#bdbdbd'),
                    html.escape(name),
                    start,
                    stop,
                    html.escape(state),
                    running,
                )
            )
            if x1 - x0 > 14:
                out.append(
                    '<text x="%.1f" y="%d" fill="#fff">%d</text>'
                    % (x0 + 3, y + 11, running)
                )
    peak = max((p['running'] + p['pending'] for p in timeline), default=1) or 1
    for key, colour in (('running', '#2e7d32'), ('pending', '#ef6c00')):
        points = ' '.join(
            '%.1f,%.1f'
            % (
                _x(p['t'], end),
                chart_top + CHART - CHART * p[key] / peak,
            )
            for p in timeline
        )
        out.append(
            '<polyline fill="none" stroke="%s" stroke-width="2" '
            'points="%s"/>' % (colour, points)
        )
    out.append(
        '<text x="4" y="%d">members (max %d)</text>' % (chart_top + 12, peak)
    )
    out.append(
        '<text x="4" y="%d" fill="#2e7d32">running</text>'
        '<text x="60" y="%d" fill="#ef6c00">pending</text>'
        % (chart_top + 28, chart_top + 28)
    )
    out.append(
        '<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#888"/>'
        % (LEFT, chart_top + CHART, WIDTH - 10, chart_top + CHART)
    )
    started = report.get('started_s', 0.0)
    out[1:1] = _axis(end, started, top - 4, chart_top + CHART)
    out.extend(_failure_marks(report, end, top - 4, chart_top + CHART))
    marks = [(started, 'all running')] + [
        (e['t'], e['what']) for e in report.get('events', [])
    ]
    for n, (t, label) in enumerate(marks):
        x = _x(t, end)
        label_y = top - 8 - 14 * (n % 2)
        out.append(
            '<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#000" '
            'stroke-dasharray="3,3"/><text x="%.1f" y="%d">%s</text>'
            % (
                x,
                top - 4,
                x,
                chart_top + CHART,
                x + 2,
                label_y,
                html.escape(label),
            )
        )
    out.append('</svg>')
    legend = ' '.join(
        '<span style="background:%s;padding:0 6px">%s</span>' % (c, s)
        for s, c in COLOURS.items()
    )
    title = html.escape('sodos-sim: %s' % report.get('scenario', ''))
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        '<title>%s</title></head><body style="font-family:sans-serif">'
        '<h1>%s</h1><p>Site states: %s. The number on a band is the '
        'members running there. Marks: events (dashed), a failure '
        '<span style="color:#6a1b9a">detected</span> and its members '
        '<span style="color:#1565c0">recovered</span>.</p>%s%s'
        '</body></html>\n'
        % (
            title,
            title,
            legend,
            '\n'.join(out) + _shares(report.get('community') or {}),
            _tables(report),
        )
    )
