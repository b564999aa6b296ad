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

"""Make the status page's world map from Natural Earth's 1:110m countries.

The status page draws country outlines without a tile server or any
download, from ``sodos/api/dashboard/static/world.json``. That file is
made by this script from the public-domain Natural Earth low-resolution
countries that the geopandas 0.14 wheel ships; to make it again::

    pip download --no-deps geopandas==0.14.4 -d /tmp/ne
    python tools/make_world_map.py /tmp/ne/geopandas-0.14.4-*.whl

Outer rings only (holes such as Lesotho are dropped: a status map needs
shapes, not borders), coordinates rounded to 0.2 degrees.
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import zipfile

MEMBER = 'geopandas/datasets/naturalearth_lowres/naturalearth_lowres.%s'
OUT = os.path.join(
    os.path.dirname(__file__),
    '..',
    'sodos',
    'api',
    'dashboard',
    'static',
    'world.json',
)
STEP = 0.2


def _rings(shp: bytes) -> list[list[list[float]]]:
    """Every record's rings, from a polygon shapefile (ESRI format)."""
    records, offset = [], 100
    while offset < len(shp):
        _, words = struct.unpack('>ii', shp[offset : offset + 8])
        body = shp[offset + 8 : offset + 8 + 2 * words]
        offset += 8 + 2 * words
        (kind,) = struct.unpack('<i', body[:4])
        if kind != 5:
            records.append([])
            continue
        parts, points = struct.unpack('<ii', body[36:44])
        starts = list(struct.unpack('<%di' % parts, body[44 : 44 + 4 * parts]))
        base = 44 + 4 * parts
        coords = struct.unpack('<%dd' % (2 * points), body[base:])
        rings = []
        for i, start in enumerate(starts):
            end = starts[i + 1] if i + 1 < parts else points
            rings.append(list(coords[2 * start : 2 * end]))
        records.append(rings)
    return records


def _area(flat: list[float]) -> float:
    xs, ys = flat[0::2], flat[1::2]
    n = len(xs)
    return (
        sum(
            xs[i] * ys[(i + 1) % n] - xs[(i + 1) % n] * ys[i] for i in range(n)
        )
        / 2
    )


def _coarse(flat: list[float]) -> list[float]:
    out: list[float] = []
    for i in range(0, len(flat), 2):
        point = [round(round(v / STEP) * STEP, 1) for v in flat[i : i + 2]]
        if out[-2:] != point:
            out.extend(point)
    return out


def _names(dbf: bytes) -> list[str]:
    """The ``name`` column of a dBase III table."""
    count, header, size = struct.unpack('<IHH', dbf[4:12])
    fields, pos, at = {}, 32, 1
    while dbf[pos] != 0x0D:
        name = dbf[pos : pos + 11].split(b'\0')[0].decode()
        width = dbf[pos + 16]
        fields[name] = (at, width)
        at += width
        pos += 32
    start, width = fields['name']
    return [
        dbf[header + i * size + start : header + i * size + start + width]
        .decode('utf-8', 'replace')
        .strip()
        for i in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('wheel', help='the geopandas 0.14 wheel')
    parser.add_argument('--out', default=OUT)
    args = parser.parse_args()
    with zipfile.ZipFile(args.wheel) as wheel:
        shp = wheel.read(MEMBER % 'shp')
        names = _names(wheel.read(MEMBER % 'dbf'))
    countries = []
    for name, rings in zip(names, _rings(shp), strict=True):
        # Shapefiles wind outer rings clockwise: a negative area.
        outer = [_coarse(r) for r in rings if _area(r) < 0]
        outer = [r for r in outer if len(r) >= 6]
        if outer:
            countries.append({'name': name, 'rings': outer})
    data = {
        'source': 'Natural Earth 1:110m countries (public domain), '
        'from the geopandas 0.14 wheel; tools/make_world_map.py',
        'countries': sorted(countries, key=lambda c: c['name']),
    }
    with open(args.out, 'w', encoding='utf-8') as f:
        json.dump(data, f, separators=(',', ':'))
        f.write('\n')


if __name__ == '__main__':
    main()
