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

"""A restarted member serves nothing older than what it served before.

pysyncobj replays the journal in the tick thread; a read made before
that (the API's first request, a role's first cycle) used to see the
empty state of a fresh member.
"""

import threading

import pytest

from sodos import exception
from sodos.kb.raft import backend as raft_backend
from sodos.kb.raft import runner as raft_runner
from sodos.sim import ports
from tests.unit.kb.test_raft_files import raise_alerts


@pytest.fixture
def member_conf(make_conf):
    return make_conf(address=ports.free_address(), voter_count=1)


def start(conf):
    member = raft_backend.RaftBackend(conf)
    member.start()
    return member


def test_a_restarted_member_reads_its_journal_before_serving(
    member_conf, monkeypatch
):
    member = start(member_conf)
    try:
        assert member.wait_ready(15), member.problem
        raise_alerts(member, 300)
        assert len(member.read('alerts')) == 300
    finally:
        member.stop()

    # Hold the tick thread before its first tick (the replay), read
    # meanwhile, then let it go: the read waits for the replay.
    held, release, read_done = (threading.Event() for _ in range(3))
    tick = raft_runner.RaftRunner._tick

    def first_tick_held(self):
        if not held.is_set():
            held.set()
            release.wait(30)
        return tick(self)

    monkeypatch.setattr(raft_runner.RaftRunner, '_tick', first_tick_held)
    member = start(member_conf)
    read = []

    def reader():
        read.append(len(member.read('alerts')))
        read_done.set()

    try:
        assert held.wait(10)
        thread = threading.Thread(target=reader)
        thread.start()
        read_done.wait(0.5)
        release.set()
        thread.join(30)
        # Never the empty KB of a fresh member.
        assert read == [300]
    finally:
        release.set()
        member.stop()


def test_a_read_during_a_replay_that_does_not_end_is_refused(
    member_conf, monkeypatch
):
    member = start(member_conf)
    try:
        assert member.wait_ready(15), member.problem
        raise_alerts(member, 3)
    finally:
        member.stop()

    monkeypatch.setattr(raft_runner, 'REPLAY_WAIT', 0.2)
    held = threading.Event()
    release = threading.Event()
    refresh = raft_runner.RaftRunner._refresh_status

    def stuck(self):
        # The tick thread never gets past the replay while this holds.
        held.set()
        release.wait(30)
        return refresh(self)

    monkeypatch.setattr(raft_runner.RaftRunner, '_refresh_status', stuck)
    member = start(member_conf)
    try:
        assert held.wait(10)
        with pytest.raises(exception.NotReady, match='replaying its journal'):
            member.read('alerts')
        release.set()
        monkeypatch.setattr(raft_runner, 'REPLAY_WAIT', 30)
        assert len(member.read('alerts')) == 3
    finally:
        release.set()
        member.stop()
