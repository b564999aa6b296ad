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

"""A voter stands for election as soon as its leader is known dead.

Raft's followers wait out an election timeout after the leader's last
word. At a hundred sites on small machines that timeout is several
seconds (examples/edge-100.yaml: 5 to 12), because a loaded leader can
be late with its heartbeats and an election it did not need disrupts
every write. With the gossip failure detector ([knowmon]failure_detector
= gossip) a dead leader is confirmed by several members within seconds;
a voter told so stands at once, the voters one after another in the
order of their addresses (:func:`rank`) so that they do not split the
vote.

Three checks keep a false verdict from deposing a live leader: the
voter stands only once it has not heard the leader (an append-entries,
heartbeats included) for ``silence`` seconds, any word from the leader
calling the stand off; that silence is at least a few times the longest
recent gap between the leader's words (:class:`LeaderGaps`), so that on
a loaded machine, where heartbeats come late, the voter waits longer and
leaves the election to Raft's timeout when it would wait as long; and
the leader must still be the one the verdict is about. Without the
second check, false verdicts about a live but late leader caused
needless elections at a hundred sites on two cores. This is asked for
with [knowmon]gossip_leader_election.
"""

from __future__ import annotations

import logging
import random
from typing import Any

from pysyncobj.monotonic import monotonic

from sodos import exception

LOG = logging.getLogger(__name__)

# Private attribute of pysyncobj 0.3.17 (pinned): when a follower stands
# for election (the runner's candidacy hold sets it too).
DEADLINE = '_SyncObj__raftElectionDeadline'
# How many heartbeat periods of silence a voter waits for, at least,
# before it believes a verdict that its leader is dead.
SILENT_HEARTBEATS = 4
MIN_SILENCE = 1.0
# A verdict is believed only after this many times the longest recent
# gap between two words of the leader, a gap being forgotten by half
# every GAP_HALF_LIFE seconds.
GAP_FACTOR = 3.0
GAP_HALF_LIFE = 30.0
# Told voters stand one after another, in the order of their addresses,
# at least this many seconds apart: two that stood within a vote's round
# trip of each other split the vote, and then only Raft's timeout
# elected (measured: 30 sites, load 20 to 60, two leader losses of three).
MIN_SLOT = 0.5


def slot(heartbeat_period: float) -> float:
    """Seconds between the stands of two told voters."""
    return max(MIN_SLOT, SILENT_HEARTBEATS * heartbeat_period)


def rank(obj: Any, leader: str) -> int:
    """This voter's place among the voters but ``leader``, by address:
    who stands first when they are all told at once. A voter that
    grants another's vote has its deadline put off by pysyncobj, so
    those behind the winner do not stand; one that refuses it (the
    candidate's log is behind) stands in its turn."""
    me = getattr(getattr(obj, '_SyncObj__selfNode', None), 'address', None)
    others = getattr(obj, '_SyncObj__otherNodes', None) or ()
    addresses = {getattr(n, 'address', None) for n in others}
    addresses.discard(leader)
    addresses.discard(None)
    if me is None:
        return 0
    return sum(1 for a in addresses if a < me)


class LeaderGaps:
    """The longest recent gap between two words of the same leader, as
    this member received them: long when the leader or this member is
    starved. The gap across a change of leader (the election) is not
    one."""

    def __init__(self) -> None:
        self._leader: Any = None
        self._at: float | None = None
        self._longest = 0.0

    def heard(self, leader: Any, now: float) -> None:
        if self._at is not None:
            decayed = self.longest(now)
            if leader == self._leader:
                decayed = max(decayed, now - self._at)
            self._longest = decayed
        self._leader, self._at = leader, now

    def longest(self, now: float) -> float:
        if self._at is None:
            return 0.0
        return self._longest * 0.5 ** (
            max(0.0, now - self._at) / GAP_HALF_LIFE
        )


def silence(heartbeat_period: float, election_timeout_min: float) -> float:
    """Seconds without a word from the leader that make a verdict
    believable, at least: a second, a few heartbeats, and a quarter of
    the time after which Raft would stand anyway. A loaded leader's
    heartbeats come late, and the gossip may then wrongly confirm it
    dead (measured at a hundred sites on two cores): the longest recent
    gap stretches this (:class:`LeaderGaps`)."""
    return max(
        MIN_SILENCE,
        SILENT_HEARTBEATS * heartbeat_period,
        election_timeout_min / 4,
    )


def stand_soon(
    obj: Any,
    leader: str,
    quiet_for: float,
    within: float,
    rng: random.Random | None = None,
    give_up: float | None = None,
    turn: float = 0.0,
    certain: bool = False,
) -> bool:
    """Make follower ``obj`` stand once it has not heard ``leader`` for
    ``quiet_for`` seconds (or :data:`GAP_FACTOR` times the longest
    recent gap between the leader's words, if longer), plus ``turn``
    seconds for each voter before it (:func:`rank`), within ``within``
    seconds more, if it still follows that leader. A word from the
    leader before then resets the election deadline (pysyncobj does on
    every append-entries), which calls the stand off. If the silence to
    wait for is ``give_up`` seconds or more, Raft's own timeout is left
    to decide. A ``certain`` verdict (the leader's port refuses
    connections: sodos.kb.raft.vigil) is not stretched by late words.

    Runs in the tick thread (RaftRunner.call). Returns whether it will
    stand, unless the leader speaks.
    """
    current = getattr(obj, '_SyncObj__raftLeader', None)
    if getattr(current, 'address', None) != leader:
        return False  # Another leader already, or none known.
    if not hasattr(obj, DEADLINE):
        return False  # Not a voter, or not the pysyncobj this knows.
    now = monotonic()
    gaps = getattr(obj, 'leader_gaps', None)
    late = 0.0
    if gaps is not None and not certain:
        late = GAP_FACTOR * gaps.longest(now)
    if late > quiet_for:
        quiet_for = late
        if give_up is not None and quiet_for >= give_up:
            LOG.info(
                'raft: the leader %s is confirmed dead, but its words '
                'came up to %.1f s apart lately: the election timeout '
                'decides',
                leader,
                late / GAP_FACTOR,
            )
            return False
    quiet_from = getattr(obj, 'leader_heard_at', now) + quiet_for
    at = max(now, quiet_from) + turn * rank(obj, leader)
    at += (rng or random).uniform(0.0, within)
    if at < getattr(obj, DEADLINE):
        setattr(obj, DEADLINE, at)
        LOG.warning(
            'raft: the leader %s is confirmed dead: standing for election '
            'in %.2f s unless it speaks, rather than at the election '
            'timeout',
            leader,
            at - now,
        )
    return True


def told(runner: Any, leader: str, raft: Any) -> bool:
    """Have ``runner``'s tick thread stand (:func:`stand_soon`) on the
    member's ``[raft]`` settings; False when it cannot be asked."""
    quiet_for = silence(raft.heartbeat_period, raft.election_timeout_min)
    turn = slot(raft.heartbeat_period)
    try:
        return bool(
            runner.call(
                lambda obj: stand_soon(
                    obj,
                    leader,
                    quiet_for,
                    turn / 4,
                    give_up=raft.election_timeout_min,
                    turn=turn,
                ),
                timeout=1.0,
            )
        )
    except (exception.SodosError, TimeoutError):
        return False  # Stopping, or rebuilding: the timeout decides.
