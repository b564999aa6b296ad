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
with the events marked.
"""

from __future__ import annotations

import html
from typing import Any

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


def render(report: dict[str, Any]) -> str:
    timeline = report['timeline']
    end = max((p['t'] for p in timeline), default=1.0) or 1.0
    sites = list(report['sites'])
    top = 44  # room for the event labels, on two lines
    chart_top = top + ROW * len(sites) + 30
    height = chart_top + CHART + 40
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
    marks = [(report.get('started_s', 0.0), 'all running')] + [
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
    out.append(
        '<text x="%d" y="%d">0 s</text><text x="%d" y="%d">%.0f s</text>'
        % (LEFT, height - 10, WIDTH - 50, height - 10, end)
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
        'members running there.</p>%s</body></html>\n'
        % (title, title, legend, '\n'.join(out))
    )
