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

"""Exec in real site processes, on the simulator driver.

Fencing: a site frozen (SIGSTOP) past the down-timeout has its members
re-placed elsewhere; once resumed it deletes its stale servers, and no
member ever ends up running at two sites.
"""

from sodos.sim import federation
from tests import kbwriter
from tests.functional.reports import formed

EXEC_SETTINGS = federation.FAST_SIMULATED_SETTINGS


def federation(local_federation, transport_url, count, **kwargs):
    fed = local_federation(
        voter_count=min(count, 3),
        transport_url=transport_url,
        settings=EXEC_SETTINGS,
        **kwargs,
    )
    fed.add_site()
    fed.wait(lambda r: r['leader'], 30, 'a leader')
    for _ in range(count - 1):
        fed.add_site()
    voter_count = min(count, 3)
    fed.wait(
        formed(count, voter_count),
        60,
        '%d sites up, %d of them voters' % (count, voter_count),
    )
    return fed


def active_at(site, keys):
    def check(monitoring):
        servers = kbwriter.servers_by_site(monitoring).get(site, {})
        return all(servers.get(key) == 'ACTIVE' for key in keys)

    return check


def test_frozen_site_deletes_what_was_re_placed_meanwhile(
    local_federation, transport_url
):
    fed = federation(local_federation, transport_url, 3)
    first, second, third = fed.sites.values()
    kb = kbwriter.KBWriter(fed.knowmon(first))
    app = kb.appliance()
    members = ['web', 'db']
    keys = ['%s/%s' % (app, m) for m in members]
    for member in members:
        action = kb.create(app, member, third.name, 'fake-image', 'm1.tiny')
        assert kb.wait_action(action, 30)['state'] == 'done'
    kb.wait_monitoring(active_at(third.name, keys), 30, 'servers at third')

    third.freeze()
    try:
        fed.wait(
            lambda r: any(
                m['site'] == third.name and m['status'] == 'down'
                for m in r['members']
            ),
            30,
            'the frozen site marked down',
            via=first,
        )
        for member in members:
            action = kb.create(
                app, member, second.name, 'fake-image', 'm1.tiny'
            )
            assert kb.wait_action(action, 30)['state'] == 'done'
    finally:
        third.thaw()

    def settled(monitoring):
        by_site = kbwriter.servers_by_site(monitoring)
        return all(
            by_site.get(second.name, {}).get(k) == 'ACTIVE' for k in keys
        ) and not any(k in by_site.get(third.name, {}) for k in keys)

    final = kb.wait_monitoring(settled, 60, 'stale servers deleted')
    by_site = kbwriter.servers_by_site(final)
    for key in keys:
        running = [site for site, s in by_site.items() if key in s]
        assert running == [second.name], (key, by_site)
    # Whichever came first removed the stale copies: the thawed site's
    # own reconcile, or the delete the leader's AnalysePlan asks of it
    # once the new servers are built.
    log = third.log()
    assert 'reconcile' in log
    assert 'deleting stale server' in log or '(server.delete) done' in log


def test_exec_and_knowmon_in_separate_processes(
    local_federation, transport_url
):
    """sodos-exec reaches its site's KnowMon over RPC and acts."""
    fed = federation(
        local_federation,
        transport_url,
        1,
        roles=('knowmon', 'analyseplan'),
    )
    site = fed.sites['site-1']
    exec_process = site.spawn('sodos.cmd.exec', 'exec')
    fed.extra_processes.append(exec_process)
    kb = kbwriter.KBWriter(fed.knowmon(site))
    app = kb.appliance()
    action = kb.create(app, 'web', site.name, 'fake-image', 'm1.tiny')
    done = kb.wait_action(action, 60)
    assert done['state'] == 'done', done
    kb.wait_monitoring(
        active_at(site.name, ['%s/web' % app]), 30, 'the server reported'
    )
    bad = kb.create(app, 'db', site.name, 'no-such-image', 'm1.tiny')
    failed = kb.wait_action(bad, 60)
    assert failed['result']['error'] == (
        'Image no-such-image could not be found. (HTTP 400)'
    )
