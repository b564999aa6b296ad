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

"""A bounded window of entries in flight (sodos.kb.raft.window): a fresh
member catches up on a long log with at most [raft]max_inflight_bytes of
it sent and not acknowledged, over TCP, ticked in this thread.
"""

import pytest
from pysyncobj import SyncObjConf
from pysyncobj.batteries import ReplDict
from pysyncobj.monotonic import monotonic

from sodos.kb.raft import settings
from sodos.kb.raft import window
from sodos.kb.raft.eager import EagerSyncObj
from sodos.sim import ports
from tests.unit.kb.raftmembers import Counting
from tests.unit.kb.test_raft_eager import NEVER
from tests.unit.kb.test_raft_eager import tick

ENTRIES = 300
# About five entries a batch, four batches a window: sixty batches, fifteen
# windows to catch up.
BATCH = 1024
WINDOW = 4 * BATCH


class Leader(EagerSyncObj):
    """Records the entries it sends and the most it had in flight."""

    def __init__(self, *args, **kwargs):
        self.sent = {}  # index -> bytes
        self.most_in_flight = 0
        self.heartbeats = 0
        self.empty = 0  # append-entries sent without entries
        super().__init__(*args, **kwargs)

    def _send(self, send, node, message):
        def sending(node, message):
            if message.get('type') == 'append_entries':
                self.empty += not message.get('entries', True)
                for command, index, _term in message.get('entries') or ():
                    self.sent[index] = len(command)
                acknowledged = self._SyncObj__raftMatchIndex.get(node, 0)
                self.most_in_flight = max(
                    self.most_in_flight,
                    sum(n for i, n in self.sent.items() if i > acknowledged),
                )
            return send(node, message)

        return super()._send(sending, node, message)

    def _SyncObj__sendAppendEntries(self):
        self.heartbeats += 1
        super()._SyncObj__sendAppendEntries()


def conf():
    made = SyncObjConf(
        autoTick=False,
        appendEntriesPeriod=0.05,
        raftMinTimeout=0.3,
        raftMaxTimeout=0.6,
        connectionRetryTime=0.1,
        appendEntriesBatchSizeBytes=BATCH,
    )
    setattr(made, window.CONF_KEY, WINDOW)
    return made


class Member:
    def __init__(self, obj_class, address, others):
        self.kb = ReplDict()
        self.obj = obj_class(address, others, conf(), consumers=[self.kb])

    @property
    def applied(self):
        return self.obj._SyncObj__raftLastApplied


@pytest.fixture
def leader():
    made = Member(Leader, ports.free_address(), [])
    tick([made], made.obj._isLeader, 'leader')
    for i in range(ENTRIES):
        made.kb.set('k%d' % i, 'v' * 200)
    tick([made], lambda: len(made.kb) == ENTRIES, 'the entries applied')
    yield made
    made.obj.destroy()


@pytest.fixture
def member(leader):
    address = leader.obj._SyncObj__selfNode.address
    made = Member(Counting, None, [address])
    yield made
    made.obj.destroy()


def matched(leader):
    """Once the leader has confirmed where the member's log ends."""
    return any(leader.obj._SyncObj__raftMatchIndex.values())


def caught_up(leader, member):
    last = leader.applied
    tick(
        [leader, member],
        lambda: member.applied >= last,
        'the member caught up',
    )
    assert member.kb.get('k%d' % (ENTRIES - 1)) == 'v' * 200


def test_a_fresh_member_catches_up_within_the_window(leader, member):
    caught_up(leader, member)
    assert sum(leader.obj.sent.values()) > 4 * WINDOW
    assert leader.obj.most_in_flight <= WINDOW
    received = member.obj.received
    assert set(received) == set(range(min(received), leader.applied + 1))
    assert max(received.values()) == 1, [
        i for i, n in received.items() if n > 1
    ]


def test_acknowledgements_move_the_window_between_heartbeats(leader, member):
    tick([leader, member], lambda: matched(leader), 'the member matched')
    # No heartbeat from now on: the rest can only go out as the member
    # acknowledges what it got.
    leader.obj._SyncObj__newAppendEntriesTime = monotonic() + NEVER
    caught_up(leader, member)
    assert leader.obj.most_in_flight <= WINDOW


def test_a_dropped_connection_loses_at_most_the_window(leader, member):
    tick([leader, member], lambda: matched(leader), 'the member matched')
    # The member reads nothing for two heartbeats of the leader's.
    heartbeats, empty = leader.obj.heartbeats, leader.obj.empty
    tick([leader], lambda: leader.obj.heartbeats >= heartbeats + 2, 'beats')
    # With its window full, the member still hears from the leader.
    assert leader.obj.empty > empty

    transport = member.obj._SyncObj__transport
    for connection in list(transport._connections.values()):
        connection.disconnect()
    got = member.obj.received
    lost = sum(n for i, n in leader.obj.sent.items() if i not in got)
    assert 0 < lost <= WINDOW

    caught_up(leader, member)


def beats(leader, count):
    """Tick the leader alone until it has sent ``count`` heartbeats."""
    heartbeats = leader.obj.heartbeats
    tick(
        [leader],
        lambda: leader.obj.heartbeats >= heartbeats + count,
        'heartbeats',
    )


def test_a_member_starved_as_it_connects_gets_one_probe(leader, member):
    # The member connects, then reads nothing for three heartbeats; it
    # refuses each of them at once when it reads, the first answered
    # long after, and then reads nothing again for three heartbeats.
    tick(
        [leader, member],
        lambda: leader.obj._SyncObj__readonlyNodes,
        'the member connected',
    )
    beats(leader, 3)
    member.obj.doTick(0.0)
    beats(leader, 3)
    caught_up(leader, member)
    received = member.obj.received
    assert max(received.values()) == 1, [
        i for i, n in received.items() if n > 1
    ]


def test_the_option_reaches_the_leader(make_conf):
    conf = make_conf(address=ports.free_address(), max_inflight_bytes=8192)
    made = settings.syncobj_conf(conf, settings.load(conf))
    assert getattr(made, window.CONF_KEY) == 8192
