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

"""A voter whose leader's port refuses connections stands at once
(sodos.kb.raft.vigil); one whose leader still listens does not."""

import socket
import types

import pytest
from pysyncobj.monotonic import monotonic
from pysyncobj.poller import createPoller

from sodos.kb.raft import election
from sodos.kb.raft import vigil
from sodos.sim import ports
from tests.unit.kb.test_raft_election import TIMEOUT_MIN
from tests.unit.kb.test_raft_election import Node
from tests.unit.kb.test_raft_election import wait


def knock(address):
    host, port = address.rsplit(':', 1)
    poller = createPoller('auto')
    made = vigil.Knock(poller, types.SimpleNamespace(ip=host, port=int(port)))
    deadline = monotonic() + 10.0
    while not made.done and monotonic() < deadline:
        poller.poll(0.1)
    assert made.done
    return made


def test_a_port_nobody_listens_on_refuses_the_knock():
    assert knock(ports.free_address()).refused


def test_a_listening_port_takes_the_knock():
    with socket.socket() as server:
        server.bind(('127.0.0.1', 0))
        server.listen()
        assert not knock('127.0.0.1:%d' % server.getsockname()[1]).refused


def test_an_unresolvable_address_teaches_nothing():
    made = vigil.Knock(
        createPoller('auto'), types.SimpleNamespace(ip='not an ip', port=1)
    )
    assert made.done and not made.refused


@pytest.fixture
def voters(tmp_path):
    addresses = sorted(ports.free_address() for _ in range(3))
    made = []
    for i, address in enumerate(addresses):
        (tmp_path / str(i)).mkdir()
        others = [a for a in addresses if a != address]
        made.append(
            Node(
                address, others, str(tmp_path / str(i)), vigil.VigilantSyncObj
            )
        )
    # The first election at once rather than after a minute.
    with made[0].lock:
        setattr(made[0].obj, election.DEADLINE, monotonic())
    assert wait(made[0].leads)
    assert wait(lambda: all(n.leader() == made[0].address for n in made))
    yield made
    for node in made:
        if not node.stopping.is_set():
            node.stop()


def test_the_voters_elect_at_once_when_the_leaders_process_is_gone(voters):
    leader, survivors = voters[0], voters[1:]
    leader.stop()
    # A minute is the soonest Raft's timeout would elect: only the
    # refused knocks can. (Which voter wins is the turns' business,
    # tested with the gossip's word in test_raft_election.py: on a busy
    # machine the first may be late to hear of the drop.)
    assert wait(lambda: any(n.leads() for n in survivors))
    new = next(n for n in survivors if n.leads())
    assert wait(lambda: all(n.leader() == new.address for n in survivors))


def test_a_leader_that_still_listens_is_not_deposed(voters):
    leader, voter = voters[0], voters[1]
    with voter.lock:
        node = voter.obj._SyncObj__raftLeader
        # As when a connection to the leader drops for another reason.
        voter.obj._SyncObj__onNodeDisconnected(node)
        assert voter.obj._knock is not None
    assert wait(lambda: voter.obj._knock is None)
    with voter.lock:
        assert getattr(voter.obj, election.DEADLINE) > (
            voter.obj.leader_heard_at + TIMEOUT_MIN / 2
        )
    assert leader.leads()
    assert voter.leader() == leader.address
