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

"""A fresh member catches up without the leader resending what it sent
(sodos.kb.raft.repair) nor dropping its connection while it is busy
(sodos.kb.raft.frames), over TCP, ticked in this thread.

The leader pipelines many batches per heartbeat to a member far behind.
On a busy machine a heartbeat falls between the member's answers to
them; pysyncobj's leader took each success as the place to resend from.
"""

import pytest
from pysyncobj import SyncObjConf
from pysyncobj.batteries import ReplDict
from pysyncobj.monotonic import monotonic
from pysyncobj.tcp_connection import CONNECTION_STATE

from sodos.kb.raft import frames
from sodos.kb.raft.eager import EagerSyncObj
from sodos.sim import ports
from tests.unit.kb.raftmembers import Counting
from tests.unit.kb.test_raft_eager import tick

ENTRIES = 300
CONNECTED = CONNECTION_STATE.CONNECTED


class Busy(EagerSyncObj):
    """A leader whose heartbeat falls between every two answers."""

    def _SyncObj__onMessageReceived(self, node, message):
        super()._SyncObj__onMessageReceived(node, message)
        if (
            self._isLeader()
            and message.get('type') == 'next_node_idx'
            and message.get('success')
        ):
            self._SyncObj__sendAppendEntries()


def conf():
    return SyncObjConf(
        autoTick=False,
        appendEntriesPeriod=0.05,
        raftMinTimeout=0.3,
        raftMaxTimeout=0.6,
        # About five entries a batch: sixty batches to catch up.
        appendEntriesBatchSizeBytes=1024,
    )


class Member:
    def __init__(self, obj_class, address, others):
        self.kb = ReplDict()
        self.obj = obj_class(address, others, conf(), consumers=[self.kb])

    @property
    def applied(self):
        return self.obj._SyncObj__raftLastApplied


@pytest.fixture
def leader():
    made = Member(Busy, ports.free_address(), [])
    yield made
    made.obj.destroy()


def test_a_fresh_member_gets_every_entry_once(leader):
    tick([leader], leader.obj._isLeader, 'leader')
    for i in range(ENTRIES):
        leader.kb.set('k%d' % i, 'v' * 200)
    tick([leader], lambda: len(leader.kb) == ENTRIES, 'the entries applied')
    last = leader.applied

    address = leader.obj._SyncObj__selfNode.address
    member = Member(Counting, None, [address])
    try:
        members = [leader, member]
        tick(members, lambda: member.applied >= last, 'the member caught up')
    finally:
        member.obj.destroy()
    assert member.kb.get('k%d' % (ENTRIES - 1)) == 'v' * 200
    received = member.obj.received
    assert len(received) >= ENTRIES
    assert max(received.values()) == 1, [
        i for i, n in received.items() if n > 1
    ]


@pytest.fixture
def bounded_frames():
    # What RaftBackend installs (process-wide, idempotent).
    frames.install()


def connection(member):
    connections = member.obj._SyncObj__transport._connections
    return next(iter(connections.values()))


def busy_for(member, seconds):
    """As if the member's last tick took ``seconds``: it read nothing,
    and what it had sent before was not answered."""
    conn = connection(member)
    conn._TcpConnection__lastReadTime = monotonic() - seconds
    conn._unanswered_since = monotonic() - seconds


def idle_for(member, seconds):
    """As if nothing went either way on the connection for ``seconds``
    (two voters all through a leader's term)."""
    conn = connection(member)
    conn._TcpConnection__lastReadTime = monotonic() - seconds
    conn._unanswered_since = None


@pytest.fixture
def first_entry(bounded_frames):
    """A leader and a read-only member that holds its first entry."""
    leader = Member(EagerSyncObj, ports.free_address(), [])
    member = None
    try:
        tick([leader], leader.obj._isLeader, 'leader')
        address = leader.obj._SyncObj__selfNode.address
        member = Member(EagerSyncObj, None, [address])
        leader.kb.set('k', 'first')
        tick(
            [leader, member],
            lambda: member.kb.get('k') == 'first',
            'the member has the first entry',
        )
        yield leader, member
    finally:
        leader.obj.destroy()
        if member is not None:
            member.obj.destroy()


@pytest.mark.parametrize('leader_sent', [True, False])
def test_a_busy_member_keeps_a_connection_its_peer_sends_on(
    first_entry, leader_sent
):
    leader, member = first_entry
    assert connection(member).state == CONNECTED
    if leader_sent:
        leader.kb.set('k', 'second')
        next_index = leader.obj._SyncObj__raftNextIndex
        tick(
            [leader],
            lambda: (
                leader.kb.get('k') == 'second'
                and min(next_index.values()) > leader.applied
            ),
            'the second entry sent',
        )
    timeout = member.obj._SyncObj__conf.connectionTimeout
    busy_for(member, 2 * timeout)
    # A write forwarded to the leader: a send, which checks the
    # timeout first (so does a read).
    member.kb.set('from the member', 'x')
    member.obj.doTick(0.5)
    # A peer that sent is alive; one silent for the timeout is not.
    assert (connection(member).state == CONNECTED) is leader_sent


def test_the_first_message_on_a_connection_idle_both_ways_arrives(
    first_entry,
):
    leader, member = first_entry
    timeout = member.obj._SyncObj__conf.connectionTimeout
    idle_for(member, 2 * timeout)
    # pysyncobj dropped the connection, and the write with it.
    member.kb.set('from the member', 'x')
    assert connection(member).state == CONNECTED
    tick(
        [leader, member],
        lambda: leader.kb.get('from the member') == 'x',
        'the write applied at the leader',
    )
