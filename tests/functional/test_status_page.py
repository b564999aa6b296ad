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

"""The status page in headless Chromium, over a local federation.

Chromium and its driver come from the distribution: the test installs
them with apt-get when they are absent, and under CI a failure to do
so fails the test.
"""

import os
import shutil
import subprocess
import time

import pytest

from sodos.sim import browser as browser_mod
from sodos.sim import statuspage
from tests.functional.test_analyseplan import SETTINGS
from tests.functional.test_api import call
from tests.functional.test_api import wait
from tests.functional.test_benchmarks import run_benchmark

LOCATIONS = {
    'site-1': '48.85,2.35',
    'site-2': '40.71,-74.01',
    'site-3': '35.68,139.69',
}
SPEC = {
    'name': 'shop',
    'members': [
        {'name': 'web', 'image': 'fake-image', 'flavor': 'm1.tiny', 'count': 3}
    ],
    # At least one member away from site-1 (the API's site): the one
    # killed.
    'constraints': {'spread': 2},
}
# What the page shows, read in the page: sites by their map marker,
# members and alerts by their table rows.
SHOWN = """
const page = window.sodosPage || {};
const attr = (sel, name) => Array.from(document.querySelectorAll(sel))
    .map(e => [e.getAttribute(name), e.getAttribute('data-site'),
               e.getAttribute('data-state')]);
return {
  ready: document.body.getAttribute('data-ready') === 'true',
  sites: attr('#map g.site', 'data-site'),
  members: attr('#appliances tr[data-member]', 'data-member'),
  alerts: attr('#alerts tr[data-alert-kind]', 'data-alert-kind'),
  raft: Array.from(document.querySelectorAll('#map g.site')).map(
      e => [e.getAttribute('data-site'), e.getAttribute('data-leader'),
            e.getAttribute('data-voter')]),
  countries: document.querySelectorAll('#map path.country').length,
  ticks: document.querySelectorAll('#timeline .x.axis .tick').length,
  resources: performance.getEntriesByType('resource').map(r => r.name),
  seen: page.seen || {},
  errors: page.errors || [],
};
"""


def _install():
    """apt-get install Chromium and its driver (needs root)."""
    env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
    for command in (
        ['apt-get', 'update', '-q'],
        [
            'apt-get',
            'install',
            '-y',
            '-q',
            '--no-install-recommends',
            'chromium',
            'chromium-driver',
        ],
    ):
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=900
        )
        if done.returncode:
            return '%s: %s' % (' '.join(command), done.stderr[-2000:])
    return None


@pytest.fixture(scope='session')
def chromium():
    if browser_mod.find() is None:
        error = (
            _install()
            if shutil.which('apt-get')
            else 'apt-get is not here to install chromium'
        )
        if browser_mod.find() is None:
            message = 'headless Chromium is missing: %s' % error
            if os.environ.get('CI') == 'true':
                pytest.fail(message)
            pytest.skip(message)
    return browser_mod.find()


def _shown(page):
    return page.run(SHOWN)


def test_the_status_page_shows_a_killed_site_down(
    local_federation, chromium, tmp_path
):
    fed = local_federation(
        voter_count=3,
        roles=('knowmon', 'exec', 'analyseplan', 'api'),
        settings=SETTINGS,
    )
    bases = {}
    for _ in range(3):
        site = fed.add_site(start=False)
        url = statuspage.serve(site, LOCATIONS[site.name])
        bases[site.name] = url.removesuffix('/dashboard')
        site.start()
    base = bases['site-1']

    def settled():
        status, body = call(base, 'GET', '/v1/federation')
        view = body.get('federation') or {}
        return (status == 200 and statuspage.formed(view, 3, 3)) or (
            status,
            body,
        )

    wait('three sites up, three voters', settled)
    status, body = call(base, 'POST', '/v1/appliances', {'appliance': SPEC})
    assert status == 201, body
    aid = body['appliance']['id']

    def members():
        status, body = call(base, 'GET', '/v1/appliances/' + aid)
        found = body['appliance']['members']
        return all(m['state'] == 'ACTIVE' for m in found) or found

    wait('every member active', members)
    placed = {
        m['member']: m['site']
        for m in call(base, 'GET', '/v1/appliances/' + aid)[1]['appliance'][
            'members'
        ]
    }

    with browser_mod.Browser() as page:
        page.open(base + '/dashboard')

        def drawn():
            shown = _shown(page)
            complete = (
                shown['ready']
                and sorted(s[0] for s in shown['sites']) == sorted(LOCATIONS)
                and {m[0]: m[1] for m in shown['members']} == placed
            )
            return complete or shown

        wait('the page drawn', drawn)
        shown = _shown(page)
        assert shown['countries'] > 100  # the world map
        assert shown['ticks'] > 2  # the timeline's time axis
        assert all(s[2] == 'up' for s in shown['sites']), shown['sites']
        fed_view = call(base, 'GET', '/v1/federation')[1]['federation']
        assert [n for n, leader, _ in shown['raft'] if leader == 'true'] == [
            fed_view['leader']
        ]
        assert (
            sorted(n for n, _, v in shown['raft'] if v == 'true')
            == (fed_view['voters'])
        )
        # Nothing came from anywhere but the API.
        assert shown['resources']
        assert all(r.startswith(base + '/') for r in shown['resources'])
        # No script error, nothing refused by the page's CSP.
        assert shown['errors'] == []

        victim = fed.sites[
            sorted(s for s in set(placed.values()) if s != 'site-1')[0]
        ]
        killed_at = time.time()
        victim.kill()

        def down():
            shown = _shown(page)
            states = {s[0]: s[2] for s in shown['sites']}
            alerts = {(a[0], a[1]) for a in shown['alerts']}
            return (
                states[victim.name] == 'down'
                and ('site_down', victim.name) in alerts
            ) or shown

        wait('%s shown down, with its alert' % victim.name, down)
        shown = _shown(page)
        print(
            '%s shown down %.1f s after SIGKILL'
            % (victim.name, shown['seen'][victim.name]['at'] - killed_at)
        )
        path = page.screenshot(str(tmp_path / 'status-page.png'))
        print('screenshot of the status page: %s' % path)
        assert os.path.getsize(path) > 0
        assert _shown(page)['errors'] == []


def test_the_benchmark_reports_every_key(chromium):
    report = run_benchmark(
        'status_page.py', '--appliances', '3', '--loads', '1'
    )
    assert (report['sites'], report['appliances']) == (3, 3)
    for key in ('page_ready_s', 'baseline_json_s', 'update_lag_s', 'detect_s'):
        assert isinstance(report[key], float) and report[key] > 0, key
    assert len(report['page_ready_loads_s']) == 1
    # A site's metrics: Raft, KB and histogram series at least.
    assert report['metrics_series'] > 50
