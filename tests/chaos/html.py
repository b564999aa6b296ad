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

"""A history and its faults on one time axis: a self-contained HTML page
(inline SVG, no external assets) to look at a run."""

from __future__ import annotations

import html
import json
from typing import Any

COLOURS = {'ok': '#3a3', 'fail': '#c33', 'info': '#e90'}
FAULT_COLOURS = {'freeze': '#55f', 'partition': '#963', 'bitflip': '#90c'}
LANE = 14
SCALE = 40.0  # pixels per second
LEFT = 110


def _bar(x0: float, x1: float, y: float, colour: str, title: str) -> str:
    return (
        '<rect x="%.1f" y="%.1f" width="%.1f" height="%d" fill="%s">'
        '<title>%s</title></rect>'
        % (
            LEFT + x0 * SCALE,
            y,
            max(1.0, (x1 - x0) * SCALE),
            LANE - 3,
            colour,
            html.escape(title),
        )
    )


def render(
    history: list[dict[str, Any]],
    faults: list[dict[str, Any]],
    summary: dict[str, Any],
    violations: list[str],
) -> str:
    end = max(
        [o['complete'] or o['invoke'] for o in history]
        + [f['end'] or f['start'] for f in faults]
        + [1.0]
    )
    sites = sorted({f['site'] for f in faults})
    processes = sorted({o['process'] for o in history})
    lanes = ['fault ' + s for s in sites] + [
        'process %d' % p for p in processes
    ]
    row = {name: i for i, name in enumerate(lanes)}
    shapes = []
    for name, i in row.items():
        shapes.append(
            '<text x="4" y="%d" font-size="10">%s</text>'
            % (i * LANE + 10, html.escape(name))
        )
    for f in faults:
        shapes.append(
            _bar(
                f['start'],
                f['end'] if f['end'] is not None else end,
                row['fault ' + f['site']] * LANE,
                FAULT_COLOURS.get(f['kind'].split('-')[0], '#000'),
                '%s %s %s %.2f-%s'
                % (
                    f['kind'],
                    f['site'],
                    f.get('detail', ''),
                    f['start'],
                    f['end'],
                ),
            )
        )
    bad = set(violations)
    for o in history:
        colour = COLOURS.get(o['type'], '#999')
        if o['key'] in bad:
            colour = '#f0f' if o['type'] == 'ok' else colour
        complete = o['complete'] if o['complete'] is not None else end
        shapes.append(
            _bar(
                o['invoke'],
                complete,
                row['process %d' % o['process']] * LANE,
                colour,
                '%s %s %s=%r %s %.3f-%.3f'
                % (
                    o['type'],
                    o['f'],
                    o['key'],
                    o['value'],
                    'at ' + o['node'] if 'node' in o else '',
                    o['invoke'],
                    complete,
                ),
            )
        )
    for second in range(int(end) + 1):
        if second % 5 == 0:
            x = LEFT + second * SCALE
            shapes.append(
                '<line x1="%.1f" x2="%.1f" y1="0" y2="%d" stroke="#ddd"/>'
                '<text x="%.1f" y="%d" font-size="9">%ds</text>'
                % (
                    x,
                    x,
                    len(lanes) * LANE,
                    x + 2,
                    len(lanes) * LANE + 10,
                    second,
                )
            )
    width = LEFT + end * SCALE + 20
    height = len(lanes) * LANE + 20
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        '<title>sodos chaos run, seed %s</title></head><body>'
        '<h1>Chaos run, seed %s</h1><pre>%s</pre>'
        '<p>ok green, fail red, unknown orange; faults: kill black, '
        'freeze blue, partition brown, bit flip purple; ops of a key '
        'without linearization magenta. Hover for details.</p>'
        '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d">'
        '%s</svg></body></html>'
        % (
            summary.get('seed'),
            summary.get('seed'),
            html.escape(json.dumps(summary, indent=1, sort_keys=True)),
            width,
            height,
            ''.join(shapes),
        )
    )
