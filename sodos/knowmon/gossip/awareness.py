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


"""A member's estimate of its own health (Lifeguard's local health).

A member that is itself slow (a loaded machine, a paused process, a full
socket buffer) misses the acks of healthy members and would accuse them.
So it keeps a score: 0 is healthy, and each sign that the fault may be its
own raises it (a probe whose helpers did not even say they failed too, a
suspicion of itself it had to refute); each probe acked in time lowers it.
Its probe interval, probe timeout and suspicion timeouts are all scaled by
score + 1: a member in trouble probes less, waits longer and leaves the
verdicts to the healthy ones, which then decide first.
"""

from __future__ import annotations


class Awareness:
    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError('the awareness limit must be at least 1')
        # Scores go from 0 to limit - 1: timeouts grow limit times at most.
        self.limit = limit
        self.score = 0

    def apply(self, delta: int) -> None:
        self.score = min(self.limit - 1, max(0, self.score + delta))

    def scale(self, seconds: float) -> float:
        return seconds * (self.score + 1)
