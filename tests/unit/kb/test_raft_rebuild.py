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

"""A member rebuilt, or told its leader is dead, is not wedged nor fooled.

A promotion or a demotion destroys the member's SyncObj and builds a new
one. When the new one could not be built (its Raft port taken by another
process), the member used to keep ticking the destroyed object: every
tick failed, for ever, while it looked alive to the others.
"""

import socket
import threading

import pytest

from sodos import exception
from sodos.kb.raft import backend as raft_backend
from sodos.kb.raft import endpoints
from sodos.kb.raft import runner as raft_runner
from sodos.sim import ports
from tests.unit.kb.test_raft_files import raise_alerts


@pytest.fixture
def member(make_conf, monkeypatch):
    monkeypatch.setattr(raft_runner, 'REBUILD_RETRY', 0.1)
    # The only voter: nobody else's heartbeat would end its hold.
    monkeypatch.setattr(raft_runner, 'CANDIDACY_HOLD', 0.5)
    conf = make_conf(address=ports.free_address(), voter_count=1)
    member = raft_backend.RaftBackend(conf)
    member.start()
    yield member
    member.stop()


def take_port(address):
    host, port = address.rsplit(':', 1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((host, int(port)))
    sock.listen()
    return sock


def rebuilt_with_port_taken(member):
    """Rebuild ``member`` as a voter while another process takes its
    port between the old object's end and the new one's start; returns
    that process's socket, which holds the port until closed."""
    taken = []
    member.runner.rebuild(
        True,
        [member.address],
        between=lambda: taken.append(take_port(member.address)),
    )
    return taken[0]


def test_a_rebuild_whose_port_is_taken_retries_until_it_is_free(
    member, monkeypatch
):
    assert member.wait_ready(15), member.problem
    raise_alerts(member, 2)

    failed, built = threading.Event(), threading.Event()
    build = raft_runner.RaftRunner._build

    def watched(self, *args, **kwargs):
        try:
            build(self, *args, **kwargs)
        except Exception:
            failed.set()
            raise
        built.set()

    monkeypatch.setattr(raft_runner.RaftRunner, '_build', watched)
    taken = rebuilt_with_port_taken(member)
    try:
        assert failed.wait(15)
        problem = member.runner.problem
        assert problem is not None
        assert member.address in problem and 'retrying' in problem
        # What `federation status` shows for this member.
        assert endpoints.on_status(member, {})['problem'] == problem
        assert not member.runner.status()['ready']
        # Work for the tick thread fails at once, saying why.
        with pytest.raises(exception.NotReady, match='cannot start'):
            member.runner.call(lambda obj: obj.getStatus())
    finally:
        taken.close()

    # The port is free again: the member runs, with its KB, and commits.
    assert built.wait(15), member.runner.problem
    assert member.runner.problem is None
    assert member.runner.voter
    member.propose(
        'alert.raise',
        {
            'alert_id': 'f' * 32,
            'site': member.site,
            'kind': 'test',
            'severity': 'info',
            'message': 'after the rebuild',
        },
    )
    assert len(member.read('alerts')) == 2 + 1


def test_a_write_submitted_while_the_member_cannot_start_expires(
    member, monkeypatch
):
    assert member.wait_ready(15), member.problem
    monkeypatch.setattr(raft_runner.writes, 'RETRY_DELAY', 0.05)
    taken = rebuilt_with_port_taken(member)
    try:
        future = member.runner.submit(
            {'type': 'alert.raise', 'id': 'x' * 32, 'args': {}}, timeout=0.3
        )
        with pytest.raises(exception.CommitTimeout):
            future.result(15)
    finally:
        taken.close()


def test_a_leader_told_of_its_own_death_does_not_stand(member):
    assert member.wait_ready(15), member.problem
    assert member.status().is_leader
    assert not member.leader_confirmed_dead(member.site)
    assert not member.leader_confirmed_dead('another-site')
    assert member.status().is_leader
