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
(sodos.kb.raft.repair), over TCP, ticked in this thread.

The leader pipelines many batches per heartbeat to a member far behind.
On a busy machine a heartbeat falls between the member's answers to
them; pysyncobj's leader took each success as the place to resend from.
"""

import collections

import pytest
from pysyncobj import SyncObjConf
from pysyncobj.batteries import ReplDict

from sodos.kb.raft.eager import EagerSyncObj
from sodos.sim import ports
from tests.unit.kb.test_raft_eager import tick

ENTRIES = 300


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


class Counting(EagerSyncObj):
    """A member that counts the entries it receives, by index."""

    def __init__(self, *args, **kwargs):
        self.received = collections.Counter()
        super().__init__(*args, **kwargs)

    def _SyncObj__onMessageReceived(self, node, message):
        if message.get('type') == 'append_entries':
            self.received.update(i for _, i, _ in message.get('entries', ()))
        super()._SyncObj__onMessageReceived(node, message)


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
