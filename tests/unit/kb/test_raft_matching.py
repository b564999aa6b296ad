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

"""A follower truncates its log only where it conflicts
(sodos.kb.raft.matching), fed append-entries by hand, and by a leader
over TCP."""

import logging

import pytest
from pysyncobj import SyncObjConf
from pysyncobj import pickle as pysyncobj_pickle
from pysyncobj.batteries import ReplDict

from sodos.kb.raft.eager import EagerSyncObj
from sodos.kb.raft.matching import MatchingSyncObj
from sodos.sim import ports
from tests.unit.kb.test_raft_eager import tick

A, B, C = (b'a', 2, 1), (b'b', 3, 1), (b'c', 4, 1)


class Follower:
    def __init__(self):
        self.obj = MatchingSyncObj(
            None, [ports.free_address()], SyncObjConf(autoTick=False)
        )
        self.leader = next(iter(self.obj._SyncObj__otherNodes))
        self.answers = []
        self.obj._SyncObj__transport.send = lambda n, m: self.answers.append(m)

    def append(self, prev, prev_term, entries, commit=0, term=1):
        self.obj._SyncObj__onMessageReceived(
            self.leader,
            {
                'type': 'append_entries',
                'term': term,
                'commit_index': commit,
                'prevLogIdx': prev,
                'prevLogTerm': prev_term,
                'entries': list(entries),
            },
        )
        return self.answers[-1]

    @property
    def log(self):
        return [tuple(e) for e in self.obj._SyncObj__raftLog[1:]]

    @property
    def commit(self):
        return self.obj._SyncObj__raftCommitIndex


@pytest.fixture
def follower():
    made = Follower()
    yield made
    made.obj.destroy()


def test_a_stale_heartbeat_keeps_the_acknowledged_entries(follower):
    assert follower.append(1, 0, [A, B, C])['next_node_idx'] == 5
    answer = follower.append(2, 1, [], commit=4)
    assert follower.log == [A, B, C]
    # It vouched for index 2 only: no further may be committed yet.
    assert (answer['success'], answer['next_node_idx']) == (True, 3)
    assert follower.commit == 2
    follower.append(4, 1, [], commit=4)
    assert follower.commit == 4


def test_a_repeated_batch_appends_only_what_is_new(follower):
    follower.append(1, 0, [A, B])
    answer = follower.append(1, 0, [A, B, C], commit=3)
    assert follower.log == [A, B, C]
    assert answer['next_node_idx'] == 5 and follower.commit == 3


def test_a_shorter_repeated_batch_cuts_nothing(follower):
    follower.append(1, 0, [A, B, C])
    assert follower.append(1, 0, [A], commit=4)['next_node_idx'] == 3
    assert follower.log == [A, B, C] and follower.commit == 2


def test_a_conflicting_entry_is_replaced_with_all_after_it(follower):
    follower.append(1, 0, [A, B, C])
    other = (b'x', 3, 2)
    answer = follower.append(2, 1, [other], commit=3, term=2)
    assert follower.log == [A, other]
    assert answer['next_node_idx'] == 4 and follower.commit == 3


def test_a_mismatch_at_prev_is_refused_as_before(follower):
    follower.append(1, 0, [A, B])
    answer = follower.append(3, 2, [C])
    assert not answer['success'] and follower.log == [A, B]


def test_a_stale_heartbeat_logs_no_truncation(follower, caplog):
    follower.append(1, 0, [A, B, C], commit=4)
    # As if applied: this follower is never ticked.
    follower.obj._SyncObj__raftLastApplied = 4
    caplog.set_level(logging.CRITICAL, logger='pysyncobj')
    follower.append(2, 1, [], commit=4)
    assert follower.log == [A, B, C]
    assert not [r for r in caplog.records if 'truncating' in r.getMessage()]


def test_a_stale_message_is_ignored(follower):
    follower.append(1, 0, [A, B, C], commit=4, term=2)
    answers = len(follower.answers)
    follower.obj._SyncObj__onMessageReceived(
        follower.leader,
        {
            'type': 'append_entries',
            'term': 1,
            'commit_index': 4,
            'prevLogIdx': 2,
            'prevLogTerm': 1,
            'entries': [],
        },
    )
    assert len(follower.answers) == answers and follower.log == [A, B, C]


def chunk(follower, transmission, data, prev=1, prev_term=0):
    follower.obj._SyncObj__onMessageReceived(
        follower.leader,
        {
            'type': 'append_entries',
            'transmission': transmission,
            'data': data,
            'term': 1,
            'commit_index': 0,
            'prevLogIdx': prev,
            'prevLogTerm': prev_term,
        },
    )
    return follower.answers[-1]


def test_chunks_are_joined_even_when_finish_comes_early(follower):
    big = (b'x' * 300, 2, 1)
    data = pysyncobj_pickle.dumps(big)
    assert not chunk(follower, 'start', data[:100])['success']
    # pysyncobj's leader can mark a chunk before the last as 'finish'.
    assert not chunk(follower, 'finish', data[100:-5])['success']
    assert follower.log == []
    answer = chunk(follower, 'finish', data[-5:])
    assert answer['success'] and answer['next_node_idx'] == 3
    assert follower.log == [big]


class Watching(EagerSyncObj):
    """A read-only member that notes, after every append-entries, its
    last index and whether it counts ``ghost`` among the voters."""

    ghost = None

    def __init__(self, *args, **kwargs):
        self.seen = []
        super().__init__(*args, **kwargs)

    def _SyncObj__onMessageReceived(self, node, message):
        super()._SyncObj__onMessageReceived(node, message)
        if message.get('type') == 'append_entries':
            voters = {n.address for n in self._SyncObj__otherNodes}
            self.seen.append((self._last_index(), self.ghost in voters))


def tcp_conf():
    return SyncObjConf(
        autoTick=False,
        appendEntriesPeriod=0.05,
        raftMinTimeout=0.3,
        raftMaxTimeout=0.6,
        dynamicMembershipChange=True,
        # About four entries a batch.
        appendEntriesBatchSizeBytes=1024,
    )


class Member:
    def __init__(self, obj_class, address, others):
        self.kb = ReplDict()
        self.obj = obj_class(address, others, tcp_conf(), consumers=[self.kb])

    def last(self):
        return self.obj._SyncObj__raftLog[-1][1]


def test_a_batch_with_nothing_new_undoes_no_membership_change(caplog):
    # A leader that sends again, from a nextIndex moved back (a refusal,
    # a repair probe, a reconnect), a batch of entries the member holds,
    # ending before a membership change the member holds too.
    leader = Member(EagerSyncObj, ports.free_address(), [])
    member = None
    try:
        tick([leader], leader.obj._isLeader, 'leader')
        for i in range(12):
            leader.kb.set('k%d' % i, 'v' * 200)
        tick([leader], lambda: len(leader.kb) == 12, 'the entries applied')
        first = leader.obj._SyncObj__raftLog[0][1] + 1
        Watching.ghost = ports.free_address()
        leader.obj.addNodeToCluster(Watching.ghost)
        address = leader.obj._SyncObj__selfNode.address
        member = Member(Watching, None, [address])
        match = leader.obj._SyncObj__raftMatchIndex
        tick(
            [leader, member],
            lambda: (
                member.obj.seen
                and member.obj.seen[-1][1]
                # Every batch acknowledged: none overwrites what follows.
                and max(match.values()) == member.last() == leader.last()
            ),
            'the member holds the change',
        )
        held = member.last()
        caplog.set_level(logging.CRITICAL, logger='pysyncobj')
        member.obj.seen.clear()

        node = max(match, key=match.get)
        leader.obj._SyncObj__raftNextIndex[node] = first
        tick(
            [leader, member],
            lambda: len(member.obj.seen) >= 4,
            'the batches sent again',
        )
    finally:
        leader.obj.destroy()
        if member is not None:
            member.obj.destroy()
    # The change stayed in the log and in force all along.
    assert set(member.obj.seen) == {(held, True)}
    assert not [r for r in caplog.records if 'truncating' in r.getMessage()]
