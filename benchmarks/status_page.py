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

"""The status page: how soon it is drawn, how soon it shows a change.

    python benchmarks/status_page.py [--appliances 50] [--loads 3]

Three ``sodos-site`` processes on loopback serve the API (noauth), with
``--appliances`` one-member appliances placed across them. Headless
Chromium (Debian ``chromium`` and ``chromium-driver``) opens the page:

* ``page_ready_s``: from navigation to the first complete drawing (the
  world map, every site and member), median of ``--loads`` cold loads,
  each in a new browser; ``baseline_json_s`` is the same browser opening
  the snapshot JSON alone, measured in the same run;
* ``update_lag_s``: SIGKILL of a site hosting members -> the page shows
  it down (red). ``detect_s``, the baseline: SIGKILL -> the API says it
  is down, polled every 0.1 s beside the page. The page polls every
  second, so ``update_lag_s`` should stay under ``detect_s`` + 2.
* ``metrics_series``: the series one site's ``[metrics]`` listener
  exports (``/metrics``) once the appliances are placed.

Progress goes to stderr; the last line of stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from typing import Any

from sodos.observe import scrape
from sodos.sim import browser as browser_mod
from sodos.sim import federation
from sodos.sim import ports
from sodos.sim import statuspage

SETTINGS = dict(
    federation.FAST_SIMULATED_SETTINGS, analyseplan={'loop_interval': 0.5}
)
READY = """
const page = window.sodosPage;
return page && page.firstRender !== null ? {
  ready: page.firstRender,
  sites: document.querySelectorAll('#map g.site').length,
  members: document.querySelectorAll('#appliances tr[data-member]').length,
} : null;
"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def call(base: str, method: str, path: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        base + path,
        data=data,
        method=method,
        headers={'Content-Type': 'application/json'},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b'null')


def until(what: str, predicate: Any, timeout: float, step: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = predicate()
        except OSError:
            found = None
        if found:
            return found
        time.sleep(step)
    raise SystemExit('timed out waiting for %s' % what)


def start(fed: federation.LocalFederation) -> tuple[dict[str, str], str]:
    """Three sites serving the page; the first exports its metrics too.

    Returns the API bases by site and the first site's metrics URL.
    """
    bases, metrics = {}, ''
    for _ in range(3):
        site = fed.add_site(start=False)
        extra, url = statuspage.options(site)
        if not metrics:
            port = ports.free_port()
            extra['metrics'] = {'enabled': True, 'bind_port': port}
            metrics = 'http://127.0.0.1:%d/metrics' % port
        site.write_config(**extra)
        bases[site.name] = url.removesuffix('/dashboard')
        site.start()
    return bases, metrics


def populate(base: str, count: int) -> None:
    for i in range(count):
        spec = {
            'name': 'app-%02d' % i,
            'members': [
                {'name': 'web', 'image': 'fake-image', 'flavor': 'm1.tiny'}
            ],
        }
        call(base, 'POST', '/v1/appliances', {'appliance': spec})

    def placed() -> bool:
        rows = call(base, 'GET', '/v1/appliances')['appliances']
        return all(r['members_active'] == r['members_total'] for r in rows)

    until('every member active', placed, 300, 0.5)


def load(base: str, members: int) -> tuple[float, float]:
    """(page ready, snapshot JSON alone) in one new browser, seconds."""
    with browser_mod.Browser() as page:
        page.open(base + '/v1/dashboard')
        json_s = page.run(
            'const n = performance.getEntriesByType("navigation")[0];'
            'return n.loadEventEnd / 1000;'
        )
        page.open(base + '/dashboard')
        shown = until(
            'the page drawn',
            lambda: (
                (found := page.run(READY))
                and found['members'] == members
                and found['sites'] == 3
                and found
            ),
            60,
            0.05,
        )
        return shown['ready'], json_s


def lag(
    fed: federation.LocalFederation, base: str, victim: str
) -> tuple[float, float]:
    """(SIGKILL -> page shows down, SIGKILL -> API says down)."""
    with browser_mod.Browser() as page:
        page.open(base + '/dashboard')
        until('the page drawn', lambda: page.run(READY), 60)
        killed = time.time()
        fed.sites[victim].kill()

        def api_down() -> float | None:
            sites = call(base, 'GET', '/v1/sites')['sites']
            down = any(
                s['name'] == victim and s['status'] == 'down' for s in sites
            )
            return time.time() if down else None

        detected = until('the API says down', api_down, 60)
        seen = until(
            'the page shows down',
            lambda: page.run(
                'const s = window.sodosPage.seen[arguments[0]];'
                'return s && s.state === "down" ? s.at : null;',
                victim,
            ),
            60,
        )
        return seen - killed, detected - killed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--appliances', type=int, default=50)
    parser.add_argument('--loads', type=int, default=3)
    args = parser.parse_args()
    if browser_mod.find() is None:
        raise SystemExit(
            'headless Chromium is missing: apt-get install chromium '
            'chromium-driver'
        )
    root = tempfile.mkdtemp(prefix='sodos-status-page-')
    fed = federation.LocalFederation(
        root,
        voter_count=3,
        roles=('knowmon', 'exec', 'analyseplan', 'api'),
        settings=SETTINGS,
        tls=False,
    )
    with fed:
        bases, metrics_url = start(fed)
        base = bases['site-1']

        def settled() -> bool:
            view = call(base, 'GET', '/v1/federation')['federation']
            return statuspage.formed(view, 3, 3)

        until('three sites up, three voters', settled, 120, 0.3)
        log('placing %d appliances ...' % args.appliances)
        populate(base, args.appliances)
        series = scrape.count_series(scrape.fetch(metrics_url))
        log('site-1 exports %d metric series' % series)
        loads = []
        for i in range(args.loads):
            loads.append(load(base, args.appliances))
            log(
                'load %d: ready %.3f s, JSON alone %.3f s' % ((i,) + loads[-1])
            )
        placed = call(base, 'GET', '/v1/sites')['sites']
        victim = max(
            (s for s in placed if s['name'] != 'site-1'),
            key=lambda s: s['members'],
        )['name']
        log('killing %s ...' % victim)
        update_lag, detect = lag(fed, base, victim)
    result = {
        'sites': 3,
        'appliances': args.appliances,
        'page_ready_s': round(statistics.median(r for r, _ in loads), 3),
        'page_ready_loads_s': [round(r, 3) for r, _ in loads],
        'baseline_json_s': round(statistics.median(j for _, j in loads), 3),
        'update_lag_s': round(update_lag, 3),
        'detect_s': round(detect, 3),
        'site_down_timeout_s': federation.LAN_SETTINGS['knowmon'][
            'site_down_timeout'
        ],
        'metrics_series': series,
    }
    shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == '__main__':
    sys.exit(main())
