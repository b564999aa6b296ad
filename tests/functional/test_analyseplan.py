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

"""AnalysePlan with five real site processes on the simulator driver.

Appliances spread over at least two sites; a site is SIGKILLed and its
members come back ACTIVE elsewhere, the spread kept, no member twice;
then the leader's site is killed and the new leader plans.
"""

import time

from sodos.sim import federation
from tests import kbwriter
from tests.functional.reports import formed

SETTINGS = dict(
    federation.FAST_SIMULATED_SETTINGS,
    analyseplan={'loop_interval': 0.5},
    # A lost voter is replaced soon, so that the leader can be lost next.
    raft={'voter_replace_timeout': 3.0},
)
SPEC = {
    'members': [
        {'name': 'web', 'image': 'fake-image', 'flavor': 'm1.tiny', 'count': 2}
    ],
    'constraints': {'spread': 2},
}


def running(kb, alive):
    """Placements whose server is ACTIVE at a live site, and doubles."""
    monitoring = kb.api.read('monitoring')
    placements = kb.api.read('placements')
    by_site = kbwriter.servers_by_site(monitoring)
    where = {}
    for name in alive:
        for key, status in by_site.get(name, {}).items():
            where.setdefault(key, []).append((name, status))
    ok = {
        key
        for key, placed in placements.items()
        if where.get(key) == [(placed['site'], 'ACTIVE')]
    }
    return ok, placements, where


def settled(kb, alive, appliances, members=2):
    ok, placements, where = running(kb, alive)
    if len(ok) != len(appliances) * members:
        return False
    for app in appliances:
        sites = {
            p['site'] for k, p in placements.items() if k.startswith(app + '/')
        }
        if len(sites) < 2 or not sites <= set(alive):
            return False
    return all(len(v) == 1 for v in where.values())


def wait_settled(kb, fed, alive, appliances, what):
    deadline = 60
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            if settled(kb, alive, appliances):
                return
        except Exception:
            pass
        time.sleep(0.3)
    ok, placements, where = running(kb, alive)
    raise AssertionError(
        '%s: not settled after %d s: placements %s; servers %s'
        % (what, deadline, placements, where)
    )


def test_site_loss_and_leader_loss(local_federation, transport_url):
    fed = local_federation(
        voter_count=3, transport_url=transport_url, settings=SETTINGS
    )
    fed.add_site()
    fed.wait(lambda r: r['leader'], 30, 'a leader')
    for _ in range(4):
        fed.add_site()
    fed.wait(
        formed(5, 3),
        60,
        'five sites up, three voters',
    )
    sites = list(fed.sites.values())
    leader = fed.leader()
    client_site = next(s for s in sites if s is not leader)
    kb = kbwriter.KBWriter(fed.knowmon(client_site))
    kb.wait_monitoring(lambda m: len(m) == 5, 30, 'every site reporting')
    apps = [kb.appliance(dict(SPEC, name='app%d' % n)) for n in range(4)]
    alive = {s.name for s in sites}
    wait_settled(kb, fed, alive, apps, 'first placement')

    placements = kb.api.read('placements')
    hosts = {p['site'] for p in placements.values()}
    victim = next(
        s
        for s in sites
        if s.name in hosts and s is not leader and s is not client_site
    )
    victim.kill()
    alive.discard(victim.name)
    wait_settled(kb, fed, alive, apps, 'after %s was killed' % victim.name)

    fed.wait(
        lambda r: sum(v['connected'] for v in r['voters']) == 3,
        60,
        'the lost voter replaced',
        via=client_site,
    )
    leader = fed.leader()
    assert leader is not None and leader is not client_site
    leader.kill()
    alive.discard(leader.name)
    fed.wait(
        lambda r: r['leader'] and r['leader'] != leader.address,
        30,
        'a new leader',
        via=client_site,
    )
    apps.append(kb.appliance(dict(SPEC, name='late')))
    wait_settled(kb, fed, alive, apps, 'after the leader was killed')
    new_leader = fed.leader()
    assert new_leader is not None and new_leader.name in alive
    assert 'analyseplan: active' in new_leader.log()
