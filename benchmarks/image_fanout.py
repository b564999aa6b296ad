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

"""Image fan-out: rounds of copies until an image is at every site.

    python benchmarks/image_fanout.py [--sites 10,30,100] [--limit 2]
        [--seed 1]

One image at one origin site, target ``all``, sites scattered over the
globe (each with an image relay). Each round the AnalysePlan scheduler
(sodos.analyseplan.images.schedule, the function the leader runs) starts
the copies it wants; every copy of a round ends before the next round, and
each site that received the image serves it in the rounds after. Reported
per site count: the rounds until every site holds the image, the most
copies one source served at once (never above ``--limit``,
``[analyseplan]image_uploads_per_source``), and ``ceil(log2(N)) + 2``, the
bound the rounds must stay under. ``schedule_ms_100``: the median time of
one scheduler call at 100 sites, half of them holding the image.

Last line of stdout: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import time
from collections import Counter
from typing import Any

from sodos.analyseplan import images

IMAGE = '0b7e4a1c-2d3f-4e5a-8b9c-0d1e2f3a4b5c'
HASH = 'ab' * 64
DETAILS = {
    'name': 'bench',
    'status': 'active',
    'size': 1 << 30,
    'os_hash_algo': 'sha512',
    'os_hash_value': HASH,
}


def federation(n: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    kb: dict[str, Any] = {'sites': {}, 'monitoring': {}, 'actions': {}}
    for i in range(n):
        name = 's%03d' % i
        location = '%.3f,%.3f' % (rng.uniform(-60, 60), rng.uniform(-180, 180))
        kb['sites'][name] = {
            'name': name,
            'status': 'up',
            'info': {
                'profile': {
                    'location': location,
                    'image_relay': 'http://%s:8788' % name,
                }
            },
        }
        kb['monitoring'][name] = {
            'summary': {
                'api': {'ok': True},
                'collected_at': 1.0,
                'image_details': {IMAGE: dict(DETAILS)} if i == 0 else {},
            }
        }
    kb['images'] = {
        IMAGE: {
            'id': IMAGE,
            'name': 'bench',
            'disk_format': 'raw',
            'container_format': 'bare',
            'size': DETAILS['size'],
            'os_hash_algo': 'sha512',
            'os_hash_value': HASH,
            'metadata': {},
            'target': {'kind': 'all'},
            'state': 'active',
            'failed_sites': {},
            'created_at': 1.0,
        }
    }
    return kb


def rounds(n: int, limit: int, seed: int) -> tuple[int, int]:
    """(rounds until every site holds the image, most served at once)."""
    kb = federation(n, seed)
    count = busiest = 0
    while True:
        decision = images.schedule(kb, limit, 60.0, 2.0)
        if not decision.missing:
            return count, busiest
        started = [a for a in decision.actions if a['kind'] == 'image.copy']
        if not started:
            raise RuntimeError('no progress: %s' % decision.summary())
        count += 1
        served = Counter(a['params']['source_site'] for a in started)
        busiest = max(busiest, *served.values())
        for action in started:
            summary = kb['monitoring'][action['site']]['summary']
            summary['image_details'][IMAGE] = dict(DETAILS)


def schedule_ms(limit: int, seed: int) -> float:
    kb = federation(100, seed)
    for i, name in enumerate(sorted(kb['sites'])):
        if i % 2:
            summary = kb['monitoring'][name]['summary']
            summary['image_details'][IMAGE] = dict(DETAILS)
    times = []
    for _ in range(7):
        start = time.perf_counter()
        images.schedule(kb, limit, 60.0, 2.0)
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sites', default='10,30,100')
    parser.add_argument('--limit', type=int, default=2)
    parser.add_argument('--seed', type=int, default=1)
    args = parser.parse_args(argv)
    report: dict[str, Any] = {}
    ok = True
    for n in (int(x) for x in args.sites.split(',')):
        count, busiest = rounds(n, args.limit, args.seed)
        bound = math.ceil(math.log2(n)) + 2
        print(
            '%4d sites: %d rounds (bound %d), at most %d copies per source'
            % (n, count, bound, busiest)
        )
        report['fanout_rounds_%d' % n] = count
        report['fanout_bound_%d' % n] = bound
        report['max_uploads_per_source_%d' % n] = busiest
        ok = ok and count <= bound and busiest <= args.limit
    report['uploads_per_source_limit'] = args.limit
    report['schedule_ms_100'] = schedule_ms(args.limit, args.seed)
    report['within_bounds'] = ok
    print(json.dumps(report))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
