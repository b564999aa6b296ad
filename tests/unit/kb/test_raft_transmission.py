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

"""Entries sent in chunks keep a follower's log (sodos.kb.raft.matching).

Two members over TCP, ticked in this thread. An entry larger than
``appendEntriesBatchSizeBytes`` travels alone, in several transmissions;
when the leader sends again entries the follower holds (a reply to an
earlier batch moved its ``nextIndex`` back), the follower must keep its
log, not cut it at the joined entry and append it again.
"""

import logging

import pytest
from pysyncobj import SyncObjConf
from pysyncobj.batteries import ReplDict

from sodos.kb.raft.matching import MatchingSyncObj
from sodos.sim import ports
from tests.unit.kb.test_raft_eager import tick

CHUNK = 512


class Member:
    def __init__(self, address, others):
        self.kb = ReplDict()
        conf = SyncObjConf(
            autoTick=False,
            appendEntriesPeriod=0.05,
            raftMinTimeout=0.3,
            raftMaxTimeout=0.6,
            appendEntriesBatchSizeBytes=CHUNK,
        )
        self.obj = MatchingSyncObj(address, others, conf, consumers=[self.kb])
        self.cut = []
        delete = self.obj._SyncObj__raftLog.deleteEntriesFrom
        self.obj._SyncObj__raftLog.deleteEntriesFrom = lambda i: (
            self.cut.append(i),
            delete(i),
        )
        self.chunks = []
        transport = self.obj._SyncObj__transport
        send = transport.send

        def recording(node, message):
            if 'transmission' in message:
                self.chunks.append(message['transmission'])
            return send(node, message)

        transport.send = recording

    @property
    def log(self):
        return [tuple(e) for e in self.obj._SyncObj__raftLog[:]]

    @property
    def applied(self):
        return self.obj._SyncObj__raftLastApplied


@pytest.fixture
def members():
    addresses = [ports.free_address() for _ in range(2)]
    made = [Member(a, [o for o in addresses if o != a]) for a in addresses]
    yield made
    for member in made:
        member.obj.destroy()


def test_a_chunked_entry_sent_again_cuts_nothing(members, caplog):
    tick(members, lambda: any(m.obj._isLeader() for m in members), 'leader')
    leader = next(m for m in members if m.obj._isLeader())
    follower = next(m for m in members if m is not leader)
    first = leader.obj._SyncObj__getCurrentLogIndex() + 1
    for i in range(4):
        leader.kb.set('k%d' % i, '%d' % i * (3 * CHUNK))
    last = first + 3
    tick(
        members,
        lambda: follower.applied == last and leader.applied == last,
        'the four entries applied on both',
    )
    assert leader.chunks.count('start') >= 4
    before = follower.log
    follower.cut.clear()
    leader.chunks.clear()
    caplog.set_level(logging.CRITICAL, logger='pysyncobj')

    # As a reply to an earlier batch does: the leader's nextIndex for
    # the follower moves back to entries the follower holds and applied.
    node = next(iter(leader.obj._SyncObj__otherNodes))
    leader.obj._SyncObj__raftNextIndex[node] = first
    leader.obj._SyncObj__raftMatchIndex[node] = first - 1
    tick(
        members,
        lambda: leader.obj._SyncObj__raftMatchIndex[node] == last,
        'the follower acknowledged the entries again',
    )
    assert leader.chunks.count('finish') >= 4
    assert follower.cut == []
    assert not [r for r in caplog.records if 'truncating' in r.getMessage()]
    assert follower.log == before
    assert follower.kb.get('k3') == '3' * (3 * CHUNK)
