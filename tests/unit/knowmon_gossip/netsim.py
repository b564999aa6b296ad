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


"""A deterministic in-memory network of SWIM members, on simulated time.

Every message goes through a JSON round trip (so only what JSON carries
gets through) and may be lost, cut by a partition or delayed; all of it
decided by a seeded random generator, so a run replays exactly.
"""

from __future__ import annotations

import copy
import heapq
import json
import random
from typing import Any

from sodos.knowmon.gossip import params as gossip_params
from sodos.knowmon.gossip import swim

FED = 'fed-1'
STEP = 0.02


class Network:
    def __init__(
        self,
        names: list[str],
        seed: int = 1,
        params: gossip_params.Params | None = None,
        latency: float = 0.01,
    ) -> None:
        self.params = params or gossip_params.Params()
        self.names = list(names)
        self.now = 0.0
        self.latency = latency
        self._rng = random.Random(seed)
        self._seed = seed
        self.nodes = {name: self._node(name, 0) for name in names}
        self.killed: set[str] = set()
        # Loss of every message to or from a member.
        self.member_loss: dict[str, float] = {}
        # Links (a, b) on which every message is lost, both ways.
        self.cut: set[frozenset[str]] = set()
        self.sides: list[set[str]] | None = None
        self._queue: list[tuple[float, int, str, Any]] = []
        self._counter = 0
        # Every (observer, member) pair ever seen dead, and when first.
        self.ever_dead: dict[tuple[str, str], float] = {}
        self.ever_suspect: set[tuple[str, str]] = set()
        self.biggest_piggyback = 0
        # Off for long runs that look at one member's view themselves.
        self.observing = True
        # Members are ticked, as the endpoint ticks them, only once their
        # next_due() has come; with this on, a member not due is also
        # ticked in a copy, which must send nothing and change nothing.
        self.check_not_due = False
        self.ticks = 0

    def _node(self, name: str, incarnation: int) -> swim.Swim:
        return swim.Swim(
            name,
            FED,
            self.names,
            self.params,
            random.Random('%s-%s-%d' % (self._seed, name, incarnation)),
            self.now,
            incarnation=incarnation,
        )

    def live(self) -> list[str]:
        return [n for n in self.names if n not in self.killed]

    def kill(self, name: str) -> None:
        self.killed.add(name)

    def restart(self, name: str, incarnation: int) -> None:
        self.killed.discard(name)
        self.nodes[name] = self._node(name, incarnation)

    def partition(self, *sides: set[str]) -> None:
        self.sides = [set(side) for side in sides]

    def heal(self) -> None:
        self.sides = None

    def run(self, seconds: float) -> None:
        end = self.now + seconds
        while self.now < end:
            self.step()

    def step(self) -> None:
        self.now = round(self.now + STEP, 6)
        while self._queue and self._queue[0][0] <= self.now:
            _, _, to, payload = heapq.heappop(self._queue)
            if to not in self.killed:
                self._send(to, self.nodes[to].on_message(payload, self.now))
        for name in self.live():
            node = self.nodes[name]
            if self.now >= node.next_due():
                self.ticks += 1
                self._send(name, node.on_tick(self.now))
            elif self.check_not_due:
                _assert_idle(node, self.now)
        self._observe()

    def deliver(self, to: str, payload: Any) -> list[swim.Outgoing]:
        """Hand ``payload`` to ``to`` now, bypassing the network."""
        return self.nodes[to].on_message(payload, self.now)

    def _send(self, sender: str, outs: list[swim.Outgoing]) -> None:
        for out in outs:
            self.biggest_piggyback = max(
                self.biggest_piggyback, len(out.message.updates)
            )
            payload = json.loads(json.dumps(self.nodes[sender].payload(out)))
            if self._lost(sender, out.to):
                continue
            self._counter += 1
            heapq.heappush(
                self._queue,
                (self.now + self.latency, self._counter, out.to, payload),
            )

    def _lost(self, a: str, b: str) -> bool:
        if frozenset((a, b)) in self.cut:
            return True
        if self.sides is not None and not any(
            a in side and b in side for side in self.sides
        ):
            return True
        for name in (a, b):
            loss = self.member_loss.get(name, 0.0)
            if loss and self._rng.random() < loss:
                return True
        return False

    def _observe(self) -> None:
        if not self.observing:
            return
        for observer in self.live():
            for member, (state, _) in self.nodes[observer].view().items():
                if state == swim.DEAD:
                    self.ever_dead.setdefault((observer, member), self.now)
                elif state == swim.SUSPECT:
                    self.ever_suspect.add((observer, member))

    def state(self, observer: str, member: str) -> str:
        return self.nodes[observer].view()[member][0]

    def seen_dead_by(self, member: str) -> set[str]:
        return {o for (o, m) in self.ever_dead if m == member}


def _assert_idle(node: swim.Swim, now: float) -> None:
    twin = copy.deepcopy(node)
    assert twin.on_tick(now) == [], (node.me, now)
    assert twin.view() == node.view(), (node.me, now)
    assert twin.changes() == node.changes(), (node.me, now)
    assert twin.next_due() == node.next_due(), (node.me, now)


def names(count: int) -> list[str]:
    return ['site-%02d' % i for i in range(count)]
