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

"""A voter told that its leader is dead stands for election at once
(sodos.kb.raft.election), and only then."""

import os
import random
import threading
import types

import pytest
from pysyncobj import SyncObjConf
from pysyncobj.monotonic import monotonic

from sodos.kb.raft import election
from sodos.kb.raft.matching import MatchingSyncObj
from sodos.sim import ports

# Far beyond what the test waits for a new leader: only a told voter
# can stand in time.
TIMEOUT_MIN, TIMEOUT_MAX = 60.0, 70.0
PATIENCE = 20.0


def follower(leader='10.0.0.1:4000', heard_ago=5.0, deadline_in=30.0):
    now = monotonic()
    obj = types.SimpleNamespace(
        _SyncObj__raftLeader=types.SimpleNamespace(address=leader),
        leader_heard_at=now - heard_ago,
    )
    setattr(obj, election.DEADLINE, now + deadline_in)
    return obj


def test_a_silent_leader_confirmed_dead_makes_the_voter_stand_soon():
    obj = follower()
    rng = random.Random(1)
    assert election.stand_soon(obj, '10.0.0.1:4000', 1.0, 0.5, rng)
    assert getattr(obj, election.DEADLINE) <= monotonic() + 0.5


def test_a_voter_that_heard_the_leader_lately_waits_for_the_silence():
    obj = follower(heard_ago=0.2)
    assert election.stand_soon(obj, '10.0.0.1:4000', 10.0, 0.5)
    # Not before ten seconds of silence; the leader's next word (which
    # resets the deadline) calls it off.
    assert getattr(obj, election.DEADLINE) >= obj.leader_heard_at + 10.0


def test_a_verdict_on_another_leader_changes_nothing():
    obj = follower(leader='10.0.0.2:4000')
    before = getattr(obj, election.DEADLINE)
    assert not election.stand_soon(obj, '10.0.0.1:4000', 1.0, 0.5)
    assert getattr(obj, election.DEADLINE) == before


def test_a_sooner_election_is_not_put_off():
    obj = follower(deadline_in=0.01)
    before = getattr(obj, election.DEADLINE)
    assert election.stand_soon(obj, '10.0.0.1:4000', 1.0, 5.0)
    assert getattr(obj, election.DEADLINE) == before


def test_silence_is_the_longest_of_a_second_heartbeats_and_a_fourth_timeout():
    assert election.silence(0.1, 0.4) == election.MIN_SILENCE
    assert election.silence(0.5, 0.4) == 0.5 * election.SILENT_HEARTBEATS
    assert election.silence(0.25, 5.0) == 1.25


def test_gaps_are_between_words_of_the_same_leader_and_fade():
    gaps = election.LeaderGaps()
    assert gaps.longest(100.0) == 0.0
    gaps.heard('a', 100.0)
    gaps.heard('a', 100.25)
    gaps.heard('a', 102.25)  # two seconds late
    gaps.heard('a', 102.5)
    assert gaps.longest(102.5) == pytest.approx(2.0, rel=0.01)
    assert gaps.longest(102.5 + election.GAP_HALF_LIFE) == pytest.approx(
        1.0, rel=0.01
    )
    # An election is no gap between a leader's words: the 37.5 s
    # without a word does not count, the last gap keeps fading.
    gaps.heard('b', 140.0)
    assert gaps.longest(140.0) < 1.0


def late_follower(gap, heard_ago=5.0):
    """A follower whose leader's words lately came ``gap`` s apart."""
    obj = follower(heard_ago=heard_ago)
    obj.leader_gaps = election.LeaderGaps()
    at = obj.leader_heard_at
    obj.leader_gaps.heard('10.0.0.1:4000', at - gap)
    obj.leader_gaps.heard('10.0.0.1:4000', at)
    return obj


def test_a_voter_whose_leader_was_late_waits_longer_before_standing():
    obj = late_follower(gap=1.5, heard_ago=0.5)
    assert election.stand_soon(obj, '10.0.0.1:4000', 1.0, 0.5, give_up=10.0)
    # The gap fades by half every GAP_HALF_LIFE s, from the leader's last
    # word half a second before: a little under 3 x 1.5 s by now.
    assert getattr(obj, election.DEADLINE) >= (
        obj.leader_heard_at + election.GAP_FACTOR * 1.5 * 0.97
    )


def test_a_voter_whose_leader_was_very_late_leaves_it_to_the_timeout():
    obj = late_follower(gap=3.0)
    before = getattr(obj, election.DEADLINE)
    assert not election.stand_soon(obj, '10.0.0.1:4000', 1.0, 0.5, give_up=5.0)
    assert getattr(obj, election.DEADLINE) == before


def test_a_certain_verdict_is_not_put_off_by_the_leaders_late_words():
    # Its port refuses connections (sodos.kb.raft.vigil): late
    # heartbeats were no sign of life.
    obj = late_follower(gap=3.0, heard_ago=0.1)
    assert election.stand_soon(
        obj, '10.0.0.1:4000', 0.0, 0.5, give_up=5.0, certain=True
    )
    assert getattr(obj, election.DEADLINE) <= monotonic() + 0.5


def test_a_voter_whose_leader_was_on_time_stands_after_the_silence():
    obj = late_follower(gap=0.25)
    assert election.stand_soon(obj, '10.0.0.1:4000', 1.0, 0.5, give_up=5.0)
    assert getattr(obj, election.DEADLINE) <= monotonic() + 0.5


def voter_at(me, others, leader='10.0.0.1:4000'):
    obj = follower(leader=leader)
    obj._SyncObj__selfNode = types.SimpleNamespace(address=me)
    obj._SyncObj__otherNodes = [
        types.SimpleNamespace(address=a) for a in others + [leader]
    ]
    return obj


def test_told_voters_stand_one_after_another_in_address_order():
    addresses = ['10.0.0.2:4000', '10.0.0.3:4000', '10.0.0.4:4000']
    voters = [
        voter_at(me, [a for a in addresses if a != me]) for me in addresses
    ]
    # The dead leader does not count; nor does the order voters are told.
    assert [election.rank(v, '10.0.0.1:4000') for v in voters] == [0, 1, 2]
    for obj in reversed(voters):
        assert election.stand_soon(
            obj, '10.0.0.1:4000', 1.0, 0.25, random.Random(3), turn=1.0
        )
    at = [getattr(v, election.DEADLINE) for v in voters]
    assert at[0] + 0.75 <= at[1] and at[1] + 0.75 <= at[2]


def test_the_turn_between_stands_outlasts_a_few_heartbeats():
    assert election.slot(0.05) == election.MIN_SLOT
    assert election.slot(0.25) == 0.25 * election.SILENT_HEARTBEATS


class Node:
    """A voter ticked by a thread of its own; ``held`` pauses the thread
    so the test may touch the SyncObj as the runner's tick thread does."""

    def __init__(self, address, others, data_dir, cls=MatchingSyncObj):
        conf = SyncObjConf(
            autoTick=False,
            raftMinTimeout=TIMEOUT_MIN,
            raftMaxTimeout=TIMEOUT_MAX,
            appendEntriesPeriod=0.05,
            connectionTimeout=TIMEOUT_MAX,
            journalFile=os.path.join(data_dir, 'journal'),
            fullDumpFile=os.path.join(data_dir, 'dump'),
        )
        self.address = address
        self.obj = cls(address, others, conf)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._tick, daemon=True)
        self.thread.start()

    def _tick(self):
        while not self.stopping.is_set():
            with self.lock:
                self.obj.doTick(0.01)

    def stop(self):
        self.stopping.set()
        self.thread.join()
        self.obj.destroy()

    def leads(self):
        with self.lock:
            return self.obj._isLeader()

    def leader(self):
        with self.lock:
            leader = self.obj._getLeader()
        return getattr(leader, 'address', None)


@pytest.fixture
def nodes(tmp_path):
    addresses = [ports.free_address() for _ in range(3)]
    made = []
    for i, address in enumerate(addresses):
        (tmp_path / str(i)).mkdir()
        others = [a for a in addresses if a != address]
        made.append(Node(address, others, str(tmp_path / str(i))))
    yield made
    for node in made:
        if not node.stopping.is_set():
            node.stop()


def wait(predicate, timeout=PATIENCE):
    done = threading.Event()
    deadline = monotonic() + timeout
    while not predicate():
        if monotonic() > deadline:
            return False
        done.wait(0.05)
    return True


def test_told_voters_elect_a_new_leader_long_before_their_timeout(nodes):
    first = nodes[0]
    # The first election, at once rather than after a minute.
    with first.lock:
        setattr(first.obj, election.DEADLINE, monotonic())
    assert wait(first.leads)
    assert wait(lambda: all(n.leader() == first.address for n in nodes))

    # Told while the leader still speaks: its next word calls it off.
    voter = nodes[1]
    with voter.lock:
        told_at = monotonic()
        assert election.stand_soon(voter.obj, first.address, 1.0, 0.1)
    assert wait(lambda: voter.obj.leader_heard_at > told_at + 2.0)
    with voter.lock:
        assert getattr(voter.obj, election.DEADLINE) > told_at + TIMEOUT_MIN
    assert voter.leader() == first.address

    first.stop()
    survivors = nodes[1:]
    quiet = election.silence(0.05, 0.4)
    assert wait(lambda: monotonic() - voter.obj.leader_heard_at > quiet)
    # Both told at once, as the gossip tells them: they stand in turn
    # (one whose vote went to the other does not stand), so they do not
    # split the vote, which only the (minute-long) timeout would settle.
    # The turn is long enough for a vote's round trip on a busy machine.
    # Both paused while told: on a busy machine the first could stand,
    # and win the other's vote (which forgets the old leader), before
    # the test got to tell the other.
    with survivors[0].lock, survivors[1].lock:
        for node in reversed(survivors):
            assert election.stand_soon(
                node.obj, first.address, quiet, 0.1, turn=3.0
            )
    # A minute is the soonest an untold voter would stand.
    assert wait(lambda: any(n.leads() for n in survivors))
    new = next(n for n in survivors if n.leads())
    assert new.address == min(n.address for n in survivors)
    assert wait(lambda: all(n.leader() == new.address for n in survivors))
