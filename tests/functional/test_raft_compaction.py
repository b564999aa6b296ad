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

"""Log compaction with read-only members, on real loopback TCP.

One voter and a read-only member, in-process, compacting every few dozen
entries: far more writes than that must reach the read-only member, which
compacts its own log as it goes and catches up from the leader's snapshot
after a restart.
"""

import gzip
import os
import time

import pytest
from oslo_config import cfg
from pysyncobj import pickle

from sodos import conf as sodos_conf
from sodos.kb import commands
from sodos.kb.raft import backend as raft_backend
from sodos.sim import ports

ENTRIES = 30
PERIOD = 1.0
WRITES = 400


@pytest.fixture
def make_conf(tmp_path, site_tls):
    def make(site, **raft):
        conf = cfg.ConfigOpts()
        sodos_conf.register_opts(conf)
        conf([], project='sodos', default_config_files=[])
        conf.set_override('site_name', site)
        conf.set_override('state_path', str(tmp_path / site))
        conf.set_override('data_dir', str(tmp_path / site / 'raft'), 'raft')
        conf.set_override('password', 'test-password', 'raft')
        for name, value in site_tls.items():
            conf.set_override(name, value, 'raft')
        conf.set_override('compaction_min_entries', ENTRIES, 'raft')
        conf.set_override('compaction_min_time', PERIOD, 'raft')
        for name, value in raft.items():
            conf.set_override(name, value, 'raft')
        return conf

    return make


@pytest.fixture
def members():
    running = []
    yield running
    for member in running:
        member.stop()


def started(conf, members):
    member = raft_backend.RaftBackend(conf)
    members.append(member)
    member.start()
    assert member.wait_ready(30), member.problem
    return member


def write_many(member, first, count):
    """``count`` alerts, pipelined; returns once all are committed."""
    futures = [
        member.submit_async(
            commands.make(
                'alert.raise',
                {
                    'alert_id': '%032x' % n,
                    'site': member.site,
                    'kind': 'compaction-test',
                    'severity': 'info',
                    'message': 'entry %d' % n,
                },
                member.site,
            ),
            timeout=60,
        )
        for n in range(first, first + count)
    ]
    for future in futures:
        assert future.result()['ok']


def raft_status(member):
    return member.runner.call(lambda obj: obj.getStatus())


def wait_same_state(voter, follower, timeout=30):
    """Until the follower applied the voter's last entry and has its KB."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        target = raft_status(voter)['commit_idx']
        if (
            follower.status().last_applied >= target
            and follower.read() == voter.read()
        ):
            return
        time.sleep(0.1)
    raise AssertionError(
        'read-only member stuck at %d (voter at %d), role %s'
        % (
            follower.status().last_applied,
            raft_status(voter)['commit_idx'],
            follower.status().role,
        )
    )


def snapshot_voters(member):
    with gzip.open(member.settings.dump, 'rb') as f:
        return pickle.load(f)[3]


def test_readonly_member_compacts_and_keeps_following(make_conf, members):
    voter_address = ports.free_address()
    voter = started(
        make_conf('site-a', address=voter_address, voter_count=1), members
    )
    follower = started(
        make_conf(
            'site-b', address=ports.free_address(), join=[voter_address]
        ),
        members,
    )
    write_many(voter, 0, WRITES)
    wait_same_state(voter, follower)
    assert follower.status().role == 'readonly'
    assert len(follower.read('alerts')) == WRITES
    # It compacts its own log (every 30 entries or second), more than
    # once, and keeps following.
    deadline = time.monotonic() + 30
    while raft_status(follower)['log_len'] >= WRITES // 2:
        assert time.monotonic() < deadline, raft_status(follower)
        time.sleep(0.2)
    assert os.path.isfile(follower.settings.dump)
    # Its snapshot names the voters only: a voter can load it once this
    # member is promoted.
    assert None not in snapshot_voters(follower)
    write_many(follower, WRITES, 50)
    wait_same_state(voter, follower)
    assert len(voter.read('alerts')) == WRITES + 50


def test_restarted_readonly_member_catches_up_from_snapshot(
    make_conf, members
):
    voter_address = ports.free_address()
    voter = started(
        make_conf('site-a', address=voter_address, voter_count=1), members
    )
    follower_conf = make_conf(
        'site-b', address=ports.free_address(), join=[voter_address]
    )
    follower = started(follower_conf, members)
    write_many(voter, 0, 50)
    wait_same_state(voter, follower)
    follower.stop()
    members.remove(follower)
    behind = follower.status().last_applied

    write_many(voter, 50, WRITES)
    # Give the leader a turn to compact past everything the stopped
    # member has.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        status = raft_status(voter)
        if status['commit_idx'] - status['log_len'] > behind + 1:
            break
        time.sleep(0.2)
    else:
        raise AssertionError('the leader did not compact its log')

    again = started(follower_conf, members)
    assert again.status().role == 'readonly'
    wait_same_state(voter, again)
    assert len(again.read('alerts')) == WRITES + 50
    write_many(voter, WRITES + 50, 50)
    wait_same_state(voter, again)
