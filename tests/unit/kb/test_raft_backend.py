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

"""The raft backend on real loopback TCP, one or two members in-process."""

import os
import time

import pytest

from sodos import exception
from sodos.kb.raft import admin
from sodos.kb.raft import backend as raft_backend
from sodos.kb.raft import store
from sodos.sim import ports


def started(conf):
    member = raft_backend.RaftBackend(conf)
    member.start()
    assert member.wait_ready(15), member.problem
    return member


def settled(member, timeout=15):
    """Wait until a bootstrapped leader has claimed its term and
    recorded itself as voter, so nothing else writes meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        site = member.read('sites').get(member.site, {})
        if member.read('federation').get('leader') and (
            site.get('role') == 'voter'
        ):
            return member
        time.sleep(0.05)
    raise AssertionError('the leader did not settle')


@pytest.fixture
def members():
    running = []
    yield running
    for member in running:
        member.stop()


def test_one_member_bootstraps_writes_and_reads(make_conf, members):
    member = started(make_conf(address=ports.free_address()))
    members.append(member)
    status = member.status()
    assert status.is_leader and status.role == 'voter'
    assert member.read('federation')['id']
    assert member.read('sites')['site-a']['status'] == 'up'
    result = member.propose('policy.set', {'key': 'paused', 'value': True})
    assert result == {'ok': True}
    assert member.read('policy')['paused'] is True


def test_site_bootstrapped_by_manage_names_the_federation(make_conf, members):
    # sodos-manage federation bootstrap writes the membership record
    # before the site first starts: the start must still name the
    # federation, and only once.
    conf = make_conf(address=ports.free_address(), voter_count=3)
    admin.bootstrap(admin.member(conf))
    member = started(conf)
    members.append(member)
    federation = member.read('federation')
    assert federation['id']
    assert member.read('policy')['voter_count'] == 3
    record = store.MembershipFile(member.settings.data_dir).load()
    assert record['founding'] is False
    member.stop()
    members.remove(member)
    again = started(conf)
    members.append(again)
    assert again.read('federation')['id'] == federation['id']


def test_restart_keeps_every_committed_entry(make_conf):
    conf = make_conf(address=ports.free_address())
    member = started(conf)
    for i in range(20):
        member.propose(
            'alert.raise',
            {
                'alert_id': '%032x' % i,
                'site': 'site-a',
                'kind': 'test',
                'severity': 'info',
                'message': 'm',
            },
        )
    federation = member.read('federation')['id']
    member.stop()
    again = started(conf)
    try:
        assert len(again.read('alerts')) == 20
        assert again.read('federation')['id'] == federation
    finally:
        again.stop()


def test_retried_command_is_applied_once(make_conf, members):
    member = started(make_conf(address=ports.free_address()))
    members.append(member)
    from sodos.kb import commands

    cmd = commands.make(
        'alert.raise',
        {
            'alert_id': 'e' * 32,
            'site': 'site-a',
            'kind': 'k',
            'severity': 'info',
            'message': 'm',
        },
        'site-a',
    )
    first = member.submit(cmd)
    second = member.submit(cmd)
    assert first == {'ok': True, 'created': True}
    assert second == {'ok': True, 'created': True, 'duplicate': True}
    assert len(member.read('alerts')) == 1


def test_rejected_command_raises_and_changes_nothing(make_conf, members):
    member = settled(started(make_conf(address=ports.free_address())))
    members.append(member)
    before = member.read()
    with pytest.raises(exception.CommandRejected, match='unknown site'):
        member.propose('monitoring.report', {'site': 'ghost', 'summary': {}})
    assert member.read() == before


def test_join_with_wrong_password_is_refused(make_conf, members):
    first_address = ports.free_address()
    first = started(make_conf(address=first_address))
    members.append(first)
    intruder = raft_backend.RaftBackend(
        make_conf(
            site='site-b',
            address=ports.free_address(),
            join=[first_address],
            password='wrong',
        )
    )
    with pytest.raises(
        exception.AuthenticationFailed, match=r'\[raft\]password'
    ):
        intruder.start()
    assert sorted(first.read('sites')) == ['site-a']


def test_second_member_joins_and_is_promoted(make_conf, members):
    first_address = ports.free_address()
    members.append(started(make_conf(address=first_address, voter_count=3)))
    second = started(
        make_conf(
            site='site-b', address=ports.free_address(), join=[first_address]
        )
    )
    members.append(second)
    deadline = time.monotonic() + 15
    while second.status().role != 'voter' and time.monotonic() < deadline:
        time.sleep(0.1)
    assert second.status().role == 'voter'
    # Membership is persisted for restarts.
    record = store.MembershipFile(second.settings.data_dir).load()
    assert sorted(record['voters']) == sorted([first_address, second.address])
    assert members[0].read('sites')['site-b']['role'] in ('voter', 'readonly')


def test_an_observer_writes_but_is_no_site_and_never_a_voter(
    make_conf, members
):
    first_address = ports.free_address()
    first = started(make_conf(address=first_address, voter_count=3))
    members.append(settled(first))
    # The observer joins first: were it a candidate, it would be the
    # first promoted and the last site below would stay read-only.
    observer = started(
        make_conf(
            site='tool',
            address=ports.free_address(),
            join=[first_address],
            observer=True,
        )
    )
    members.append(observer)
    for name in ('site-b', 'site-c'):
        members.append(
            started(
                make_conf(
                    site=name,
                    address=ports.free_address(),
                    join=[first_address],
                )
            )
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        roles = {n: s['role'] for n, s in first.read('sites').items()}
        if roles == {'site-a': 'voter', 'site-b': 'voter', 'site-c': 'voter'}:
            break
        time.sleep(0.1)
    assert roles == {'site-a': 'voter', 'site-b': 'voter', 'site-c': 'voter'}
    assert observer.status().role == 'readonly'
    from sodos.kb import commands

    done = observer.submit(
        commands.make(
            'alert.raise',
            {
                'alert_id': 'f' * 32,
                'site': 'site-a',
                'kind': 'k',
                'severity': 'info',
                'message': 'from a tool',
            },
            'tool',
        )
    )
    assert done['created']
    assert 'f' * 32 in first.read('alerts')


def test_an_observer_without_a_federation_to_join_is_refused(make_conf):
    conf = make_conf(address=ports.free_address(), observer=True)
    with pytest.raises(exception.ConfigError, match=r'\[raft\]join'):
        raft_backend.RaftBackend(conf).start()


def test_write_without_quorum_fails_with_a_clear_error(make_conf, tmp_path):
    conf = make_conf(
        site='lonely', address=ports.free_address(), commit_timeout=0.5
    )
    # A member whose only known voter is gone: it has no leader.
    store.MembershipFile(conf.raft.data_dir)
    import os

    os.makedirs(conf.raft.data_dir)
    store.MembershipFile(conf.raft.data_dir).save(
        voters=[ports.free_address()]
    )
    member = raft_backend.RaftBackend(conf)
    member.start()
    try:
        with pytest.raises(
            exception.CommitTimeout, match='not committed in time'
        ):
            member.propose('policy.set', {'key': 'paused', 'value': True})
        assert member.status().has_quorum is False
    finally:
        member.stop()


@pytest.mark.parametrize(
    'overrides, words',
    [
        ({'address': None}, r'\[raft\]address is not set'),
        ({'address': 'nohost'}, 'is not HOST:PORT'),
        ({'password': None}, r'\[raft\]password is not set'),
        (
            {
                'password': None,
                'insecure_dev_mode': True,
                'address': '192.0.2.1:7000',
            },
            'only on a loopback',
        ),
        ({'heartbeat_period': 0.5}, 'election_timeout_min must exceed'),
        ({'join': ['a:b']}, r'\[raft\]join'),
    ],
)
def test_bad_settings_are_named(make_conf, overrides, words):
    conf = make_conf(address='127.0.0.1:7000')
    for name, value in overrides.items():
        conf.set_override(name, value, 'raft')
    with pytest.raises(exception.ConfigError, match=words):
        raft_backend.RaftBackend(conf)


def test_dev_mode_without_password_on_loopback(make_conf, members):
    conf = make_conf(address=ports.free_address(), insecure_dev_mode=True)
    conf.set_override('password', None, 'raft')
    members.append(started(conf))
    assert members[0].status().is_leader


def test_plaintext_is_refused_outside_the_dev_mode(make_conf):
    conf = make_conf(address='127.0.0.1:7000')
    for name in ('ssl_ca_file', 'ssl_cert_file', 'ssl_key_file'):
        conf.set_override(name, None, 'raft')
    with pytest.raises(exception.ConfigError, match='mutual TLS only'):
        raft_backend.RaftBackend(conf)


def test_dev_mode_warns_loudly_at_start(make_conf, members, caplog, capsys):
    conf = make_conf(address=ports.free_address(), insecure_dev_mode=True)
    for name in ('password', 'ssl_ca_file', 'ssl_cert_file', 'ssl_key_file'):
        conf.set_override(name, None, 'raft')
    with caplog.at_level('WARNING'):
        members.append(started(conf))
    warnings = [
        r.getMessage() for r in caplog.records if r.levelname == 'WARNING'
    ]
    assert any(
        'INSECURE: [raft]insecure_dev_mode is on' in w
        and 'unauthenticated pickles' in w
        and 'plaintext' in w
        for w in warnings
    ), warnings
    err = capsys.readouterr().err
    assert 'WARNING: INSECURE: [raft]insecure_dev_mode is on' in err


def test_no_warning_without_the_dev_mode(make_conf, members, caplog, capsys):
    with caplog.at_level('WARNING'):
        members.append(started(make_conf(address=ports.free_address())))
    assert 'INSECURE' not in caplog.text
    assert 'INSECURE' not in capsys.readouterr().err


def test_address_in_use_is_a_clear_error(make_conf, members):
    address = ports.free_address()
    members.append(started(make_conf(address=address)))
    clash = raft_backend.RaftBackend(make_conf(site='other', address=address))
    with pytest.raises(exception.ConfigError, match='cannot listen on'):
        clash.start()


def test_read_only_member_hearing_no_leader_starts_afresh(make_conf, tmp_path):
    # A voter cut off long enough to be replaced comes back read-only
    # with a term raised by its vain elections: it refuses the leader's
    # appends for good. Its own address may still be among its log's
    # voters. It must not rebuild with the same voters every few seconds
    # but start afresh, once a minute at most.
    member = raft_backend.RaftBackend(make_conf(address='127.0.0.1:7005'))
    os.makedirs(member.settings.data_dir)
    voters = ['127.0.0.1:7001', '127.0.0.1:7002', '127.0.0.1:7003']
    member.runner.status = lambda: {
        'voter': False,
        'voters': sorted(voters + [member.address]),
    }
    asked, rebuilt, afresh = [], [], []
    member.discover = lambda peers: asked.append(peers) or (voters, None)
    member.runner.rebuild = lambda voter, vs: rebuilt.append((voter, vs))
    member.health.replicate_afresh = lambda problem, why: afresh.append(
        (problem, why)
    )
    member.rediscover()
    # No leader anywhere: nothing to start afresh for, nothing to rebuild.
    assert (rebuilt, afresh) == ([], [])
    member.discover = lambda peers: (voters, voters[0])
    member.rediscover()
    assert rebuilt == []
    [(problem, why)] = afresh
    assert why == 'leaderless'
    assert 'no leader heard while 127.0.0.1:7001 leads' in problem
    member.rediscover()
    assert len(afresh) == 1
    # Voters that changed: follow them (a rebuild), as before.
    member.discover = lambda peers: (voters[:2], voters[0])
    member.rediscover()
    assert rebuilt == [(False, voters[:2])]


def test_a_site_joining_again_under_a_left_name_is_not_stopped(make_conf):
    member = raft_backend.RaftBackend(make_conf(address='127.0.0.1:7005'))
    member.read = lambda section=None: {
        'site-a': {'status': 'left', 'address': '127.0.0.1:7001'}
    }
    member.runner.status = lambda: {'voter': False, 'voters': []}
    stopped = []
    member.runner.stop = lambda: stopped.append(True)
    member.membership.save = lambda **record: stopped.append(record)
    # Before its own registration: the record is the old site's.
    assert member.finish_leave() is False and stopped == []
    # Registered, then marked left: this site's leave is complete.
    member._registered.set()
    assert member.finish_leave() is True
    assert stopped == [{'left': True}, True]
