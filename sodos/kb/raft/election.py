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
a voter told so stands at once, after a short random delay so that the
voters do not split the vote.

Two checks keep a false verdict from deposing a live leader: the voter
must not have heard the leader (an append-entries, heartbeats included)
for ``silence`` seconds, and the leader must still be the one the
verdict is about.
"""

from __future__ import annotations

import logging
import random
from typing import Any

from pysyncobj.monotonic import monotonic

LOG = logging.getLogger(__name__)

# Private attribute of pysyncobj 0.3.17 (pinned): when a follower stands
# for election (the runner's candidacy hold sets it too).
DEADLINE = '_SyncObj__raftElectionDeadline'
# How many heartbeat periods of silence a voter waits for, at least,
# before it believes a verdict that its leader is dead.
SILENT_HEARTBEATS = 4
MIN_SILENCE = 1.0


def silence(heartbeat_period: float) -> float:
    """Seconds without a word from the leader that make a verdict
    believable."""
    return max(MIN_SILENCE, SILENT_HEARTBEATS * heartbeat_period)


def stand_soon(
    obj: Any,
    leader: str,
    quiet_for: float,
    within: float,
    rng: random.Random | None = None,
) -> bool:
    """Make follower ``obj`` stand within ``within`` seconds, if it still
    follows ``leader`` and has not heard it for ``quiet_for`` seconds.

    Runs in the tick thread (RaftRunner.call). Returns whether it will.
    """
    now = monotonic()
    current = getattr(obj, '_SyncObj__raftLeader', None)
    if getattr(current, 'address', None) != leader:
        return False  # Another leader already, or none known.
    if now - getattr(obj, 'leader_heard_at', 0.0) < quiet_for:
        return False  # The leader spoke lately: the verdict is wrong.
    if not hasattr(obj, DEADLINE):
        return False  # Not a voter, or not the pysyncobj this knows.
    at = now + (rng or random).uniform(0.0, within)
    if at < getattr(obj, DEADLINE):
        setattr(obj, DEADLINE, at)
        LOG.warning(
            'raft: the leader %s is confirmed dead: standing for election '
            'in %.2f s rather than at the election timeout',
            leader,
            at - now,
        )
    return True
