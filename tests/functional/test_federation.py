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

"""Federation membership with real site processes on loopback.

Every site is a ``sodos-site`` process; Raft runs over real TCP. Faults
are SIGKILL (crash) and SIGTERM (clean stop) of those processes.
"""

import json
import os
import subprocess
import sys
import time

import pytest

from sodos import exception
from sodos.kb import commands
from tests.functional.polling import wait_until
from tests.functional.reports import formed
from tests.functional.reports import voters


def role_of(report, name):
    return next(m for m in report['members'] if m['site'] == name)


def three_voters(local_federation, transport_url):
    """Three sites, all voters, with RPC over the message bus."""
    fed = local_federation(voter_count=3, transport_url=transport_url)
    fed.add_site()
    fed.wait(lambda r: r['leader'], 30, 'a leader')
    fed.add_site()
    fed.add_site()
    return fed, fed.wait(formed(3, 3), 60, 'three voters')


def test_sites_join_by_naming_any_member(local_federation):
    fed = local_federation(voter_count=3)
    first = fed.add_site()
    fed.wait(lambda r: r['leader'], 30, 'the first site to lead')
    second = fed.add_site(join=[first.address])
    third = fed.add_site(join=[second.address])
    fed.wait(formed(3, 3), 60, 'three voters')
    # The 4th and 5th name a different member each, not the leader.
    fed.add_site(join=[third.address])
    fed.add_site(join=[second.address])
    report = fed.wait(formed(5, 3), 60, 'five sites, three voters')
    readonly = [
        m['site'] for m in report['members'] if m['role'] == 'readonly'
    ]
    assert sorted(readonly) == ['site-4', 'site-5']
    assert len({report['federation_id']}) == 1

    # The operator's view, through the real command line.
    out = subprocess.run(
        [
            sys.executable,
            '-m',
            'sodos.cmd.manage',
            '--config-file',
            fed.sites['site-5'].config_path,
            'federation',
            'status',
            '--format',
            'json',
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    status = json.loads(out.stdout)
    assert status['leader_site'] == report['leader_site']
    assert status['asked']['site'] == 'site-5'
    assert status['asked']['role'] == 'readonly'
    assert sorted(m['site'] for m in status['members']) == [
        'site-1',
        'site-2',
        'site-3',
        'site-4',
        'site-5',
    ]
    table = subprocess.run(
        [
            sys.executable,
            '-m',
            'sodos.cmd.manage',
            '--config-file',
            first.config_path,
            'federation',
            'status',
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert 'Leader:' in table and 'site-5' in table


def test_lost_voter_is_replaced_by_a_readonly_member(local_federation):
    fed = local_federation(
        voter_count=3, settings={'raft': {'voter_replace_timeout': 3.0}}
    )
    fed.add_site()
    fed.wait(lambda r: r['leader'], 30, 'a leader')
    for _ in range(3):
        fed.add_site()
    report = fed.wait(formed(4, 3), 60, 'four sites, three voters')
    leader = report['leader_site']
    victim = next(n for n in voters(report) if n != leader)
    spare = next(
        m['site'] for m in report['members'] if m['role'] == 'readonly'
    )
    fed.sites[victim].kill()
    report = fed.wait(
        lambda r: (
            role_of(r, spare)['role'] == 'voter'
            and role_of(r, victim)['role'] == 'readonly'
            and sum(v['connected'] for v in r['voters']) == 3
            and r['has_quorum']
        ),
        60,
        '%s to replace the lost voter %s' % (spare, victim),
    )
    assert role_of(report, victim)['status'] == 'down'
    assert len(report['voters']) == 3


def test_leader_crash_loses_no_acknowledged_write(
    local_federation, transport_url
):
    fed, report = three_voters(local_federation, transport_url)
    leader = fed.sites[report['leader_site']]
    writer_site = next(s for s in fed.sites.values() if s is not leader)
    writer = fed.knowmon(writer_site)

    acked, failed = [], []

    def write(i):
        cmd = commands.make(
            'alert.raise',
            {
                'alert_id': '%032x' % i,
                'site': writer_site.name,
                'kind': 'test',
                'severity': 'info',
                'message': 'write %d' % i,
            },
            writer_site.name,
        )
        result = writer.submit(cmd.to_wire(), timeout=15)
        (acked if result.get('ok') else failed).append((i, result))

    for i in range(20):
        write(i)
    leader.kill()
    for i in range(20, 40):
        write(i)
    assert failed == []
    assert len(acked) == 40
    fed.wait(
        lambda r: r['leader'] and r['leader'] != leader.address,
        30,
        'a new leader',
        via=writer_site,
    )
    leader.start()
    ids = {'%032x' % i for i, _ in acked}
    for site in fed.sites.values():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            alerts = fed.knowmon(site).read('alerts')
            if ids <= set(alerts):
                break
            time.sleep(0.2)
        assert ids <= set(alerts), 'site %s lost acknowledged writes' % (
            site.name
        )


def test_full_restart_keeps_every_committed_entry(
    local_federation, transport_url
):
    fed, _ = three_voters(local_federation, transport_url)
    site = fed.sites['site-2']
    api = fed.knowmon(site)
    for i in range(30):
        cmd = commands.make(
            'alert.raise',
            {
                'alert_id': '%032x' % i,
                'site': site.name,
                'kind': 'test',
                'severity': 'info',
                'message': 'm',
            },
            site.name,
        )
        assert api.submit(cmd.to_wire())['ok']
    before = api.read()
    assert fed.stop_all() == {'site-1': 0, 'site-2': 0, 'site-3': 0}
    for s in fed.sites.values():
        s.start()
    fed.wait(formed(3, 3), 60, 'the federation to come back')
    for s in fed.sites.values():
        # A member serves its state as applied so far: a restarted one
        # replays its journal first (it may lag, never lose an entry).
        after = serving_again(fed.knowmon(s), before, s.name)
        assert after['federation']['id'] == before['federation']['id']
        assert sorted(after['sites']) == sorted(before['sites'])


def serving_again(reader, before, name):
    """The KB ``reader`` serves once it holds every alert of ``before``."""

    def caught_up():
        kb = reader.read()
        return kb if kb['alerts'] == before['alerts'] else None

    return wait_until(
        caught_up,
        '%s to serve every committed entry again' % name,
        60,
        seen=lambda: sorted(reader.read()['alerts']),
    )


def test_member_with_wrong_password_is_refused(local_federation):
    fed = local_federation(voter_count=3)
    first = fed.add_site()
    before = fed.wait(formed(1, 1), 30, 'a leader')
    intruder = fed.add_site(start=False)
    intruder.write_config(raft={'password': 'not-the-password'})
    intruder.start()
    assert intruder.process.wait(30) == 2
    with open(intruder.dir + '/stderr.log') as f:
        stderr = f.read()
    assert '[raft]password differs' in stderr
    assert 'Traceback' not in stderr
    after = fed.report(via=first)
    assert after['members'] == before['members']


def test_malformed_commands_change_nothing(local_federation, transport_url):
    fed = local_federation(voter_count=1, transport_url=transport_url)
    site = fed.add_site()
    fed.wait(formed(1, 1), 30, 'a leader')
    api = fed.knowmon(site)
    before = api.read()
    good = commands.make(
        'site.leave', {'site': site.name}, site.name
    ).to_wire()
    bad = [
        {'nonsense': True},
        dict(good, type='site.explode'),
        dict(good, args={'site': 'no spaces allowed'}),
        dict(good, v=99),
        dict(good, id='not-hex'),
        'a string',
    ]
    for command in bad:
        result = api.submit(command)
        assert result['ok'] is False
        assert result['error']
    with pytest.raises(exception.SodosError, match='unknown KB section'):
        api.read('bogus')
    assert api.read() == before


def leave(site):
    return site.manage('federation', 'leave', '--timeout', '60', timeout=90)


def test_voters_leave_gracefully_leader_included(local_federation):
    fed = local_federation(voter_count=3)
    fed.add_site()
    fed.wait(lambda r: r['leader'], 30, 'a leader')
    for _ in range(4):
        fed.add_site()
    report = fed.wait(formed(5, 3), 60, 'five sites, three voters')

    # A voter that is not the leader.
    quitter = next(n for n in voters(report) if n != report['leader_site'])
    done = leave(fed.sites[quitter])
    assert done.returncode == 0, done.stderr
    assert 'has left the federation' in done.stdout
    report = fed.wait(
        lambda r: (
            role_of(r, quitter)['status'] == 'left'
            and role_of(r, quitter)['role'] == 'readonly'
            and len(voters(r)) == 3
            and sum(v['connected'] for v in r['voters']) == 3
        ),
        60,
        '%s to leave and be replaced' % quitter,
    )
    assert fed.sites[quitter].stop() == 0

    # The leader hands leadership over before it leaves.
    old_leader = report['leader_site']
    done = leave(fed.sites[old_leader])
    assert done.returncode == 0, done.stderr
    report = fed.wait(
        lambda r: (
            r['leader_site'] not in (None, old_leader)
            and role_of(r, old_leader)['status'] == 'left'
            and len(voters(r)) == 3
            and sum(v['connected'] for v in r['voters']) == 3
        ),
        60,
        'the old leader %s to leave' % old_leader,
    )
    assert fed.sites[old_leader].stop() == 0
    # A site that left does not silently come back.
    gone = fed.sites[old_leader]
    gone.start()
    assert gone.process.wait(30) == 2
    # Its operator moves its Raft files aside, as the refusal says, and
    # it joins again under its own name.
    os.replace(gone.data_dir, gone.data_dir + '.left')
    leader_site = fed.sites[report['leader_site']]
    # It founded the federation: it joins through a member this time.
    gone.join = [leader_site.address]
    gone.write_config()
    gone.start()
    fed.wait(
        lambda r: role_of(r, old_leader)['status'] == 'up',
        60,
        '%s to join again' % old_leader,
        via=leader_site,
    )
    assert gone.running
