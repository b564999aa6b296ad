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


"""The probes a member has under way: its own, and those it makes for
others (indirect probes)."""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Collection


@dataclasses.dataclass
class Probe:
    target: str
    seq: int
    # The target's incarnation when probed: a failure says nothing of a
    # later one (a restart answers no ping sent before it).
    inc: int
    started: float
    # When to ask others, scaled by this member's health when it started.
    timeout: float
    asked_others: bool = False
    acked: bool = False
    # The helpers asked, and those that said the target failed them too.
    helpers: frozenset[str] = frozenset()
    nacks: set[str] = dataclasses.field(default_factory=set)


@dataclasses.dataclass
class Relay:
    """A probe made on another member's behalf: its ack goes back to
    ``requester`` under the requester's own sequence number, or a nack
    once ``nack_at`` passed without one."""

    requester: str
    seq: int
    target: str
    nack_at: float
    expires: float
    nacked: bool = False


class Relays:
    """The probes under way for others, by their own sequence number."""

    def __init__(self) -> None:
        self._by_seq: dict[int, Relay] = {}

    def add(self, seq: int, relay: Relay) -> None:
        self._by_seq[seq] = relay

    def expire(self, now: float) -> None:
        if any(relay.expires <= now for relay in self._by_seq.values()):
            self._by_seq = {
                seq: relay
                for seq, relay in self._by_seq.items()
                if relay.expires > now
            }

    def next_due(self) -> float:
        """When a relay is next due a nack or to expire (inf: none)."""
        return min(
            (
                relay.expires
                if relay.nacked
                else min(relay.nack_at, relay.expires)
                for relay in self._by_seq.values()
            ),
            default=math.inf,
        )

    def nacks_due(self, now: float) -> list[Relay]:
        """Those whose target has not answered in time: each once."""
        due = [
            r
            for r in self._by_seq.values()
            if not r.nacked and now >= r.nack_at
        ]
        for relay in due:
            relay.nacked = True
        return due

    def answered(self, seq: int, target: str) -> Relay | None:
        """The relay ``target``'s ack to ``seq`` answers, now done."""
        relay = self._by_seq.get(seq)
        if relay is None or relay.target != target:
            return None
        del self._by_seq[seq]
        return relay


class Rounds:
    """Probe targets, round-robin over a shuffled list: every member is
    probed once per round (a bound on detection time random picks lack),
    in an order no one can predict."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._order: list[str] = []

    def next(self, members: Collection[str]) -> str | None:
        while True:
            if not self._order:
                self._order = sorted(members)
                self._rng.shuffle(self._order)
                if not self._order:
                    return None
            name = self._order.pop()
            if name in members:
                return name
