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

"""Health and metrics of real site processes: /healthcheck of the REST
API and of the [metrics] listeners, /metrics, before and after a site
is killed. One federation for the whole story (it takes a while)."""

import json
import time
import urllib.error
import urllib.request

from sodos.observe import scrape
from sodos.sim import ports


def get(url, accept='text/plain'):
    req = urllib.request.Request(url, headers={'Accept': accept})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def poll(what, read, check, timeout=60):
    """``read()`` until ``check(value)`` holds; the last value said."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = read()
            if check(last):
                return last
        except OSError as exc:  # the listener not up yet
            last = exc
        time.sleep(0.2)
    raise AssertionError('timed out waiting for %s; last: %r' % (what, last))


def metric(site_url, name, **labels):
    text = scrape.fetch(site_url + '/metrics')
    return scrape.value(text, name, **labels)


def test_health_and_metrics_follow_a_site_killed(local_federation):
    fed = local_federation(voter_count=3)
    listeners, api = {}, None
    for number in (1, 2, 3):
        site = fed.add_site(start=False)
        port = ports.free_port()
        listeners[site.name] = 'http://127.0.0.1:%d' % port
        extra = {'metrics': {'enabled': True, 'bind_port': port}}
        if number == 1:
            api_port = ports.free_port()
            api = 'http://127.0.0.1:%d' % api_port
            extra['api'] = {'bind_port': api_port, 'auth_strategy': 'noauth'}
            extra['DEFAULT'] = {'roles': fed.roles + ['api']}
        site.write_config(**extra)
        if number != 3:  # site-3 runs on a history database never synced
            synced = site.manage('db', 'sync')
            assert synced.returncode == 0, synced.stderr
        site.start()
        if number == 1:
            fed.wait(lambda r: r['leader'], 30, 'a leader')
    fed.wait(
        lambda r: (
            sum(v['connected'] for v in r['voters']) == 3
            and all(m['status'] == 'up' for m in r['members'])
            and len(r['members']) == 3
        ),
        60,
        'three voters up',
    )
    for url in listeners.values():
        poll(
            'three sites up in %s' % url,
            lambda url=url: metric(url, 'sodos_sites', state='up'),
            lambda up: up == 3,
        )

    # The API's health check, in detail (noauth: every caller is admin).
    status, body = get(api + '/healthcheck', accept='application/json')
    assert status == 200, body
    detail = {r['reason']: r['details'] for r in json.loads(body)['reasons']}
    assert set(detail) == {'KB member in quorum', 'history database reachable'}
    # The listeners of processes with no API: the same checks.
    assert get(listeners['site-2'] + '/healthcheck') == (
        200,
        'KB member in quorum\nhistory database reachable',
    )
    assert get(listeners['site-3'] + '/healthcheck') == (
        503,
        'KB member in quorum\nhistory database schema not current',
    )

    leader = fed.leader()
    assert leader is not None
    survivor = next(n for n in listeners if n != leader.name)
    url = listeners[survivor]
    term = metric(url, 'sodos_raft_term')
    assert metric(url, 'sodos_raft_leader_info', leader_site=leader.name) == 1
    assert metric(url, 'sodos_raft_voter') == 1
    assert metric(url, 'sodos_sites', state='down') is None
    survivors = [listeners[n] for n in listeners if n != leader.name]
    detections = 'sodos_failure_detection_duration_seconds_count'
    detected = sum(metric(u, detections) for u in survivors)

    leader.kill()
    poll(
        '%s down and a new term at %s' % (leader.name, survivor),
        lambda: scrape.fetch(url + '/metrics'),
        lambda text: (
            scrape.value(text, 'sodos_sites', state='down') == 1
            and scrape.value(text, 'sodos_raft_term') > term
        ),
    )
    text = scrape.fetch(url + '/metrics')
    assert scrape.value(text, 'sodos_sites', state='up') == 2
    assert (
        scrape.value(text, 'sodos_raft_leader_info', leader_site=leader.name)
        is None
    )
    # The new leader timed the detection of the failure it committed.
    assert sum(metric(u, detections) for u in survivors) == detected + 1
    # Two voters of three are a quorum: still healthy (the survivor
    # looked at is site-1 or site-2, on a synced database).
    assert get(url + '/healthcheck') == (
        200,
        'KB member in quorum\nhistory database reachable',
    )
