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

"""What one member believes of the others, and the rules that order it.

Each other member has a state and an incarnation. What is heard is
ordered by (incarnation, alive < suspect < dead) and the greater kept,
so every member's beliefs converge whatever order the news comes in; a
suspicion not refuted in time becomes a death. The SWIM protocol
(:mod:`.swim`) feeds this table what it hears and what its own probes
find; every change is news to spread (:mod:`.broadcasts`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable

from sodos.knowmon.gossip import awareness as awareness_mod
from sodos.knowmon.gossip import broadcasts as broadcasts_mod
from sodos.knowmon.gossip import messages
from sodos.knowmon.gossip import params as gossip_params

ALIVE, SUSPECT, DEAD = messages.STATES
_RANK = {ALIVE: 0, SUSPECT: 1, DEAD: 2}


@dataclasses.dataclass
class Member:
    state: str
    inc: int
    since: float
    # Members that suspected it at this incarnation, the first included.
    suspecters: set[str] = dataclasses.field(default_factory=set)


class Beliefs:
    """Every other member's state, incarnation and suspecters."""

    def __init__(
        self,
        me: str,
        params: gossip_params.Params,
        awareness: awareness_mod.Awareness,
        news: broadcasts_mod.Broadcasts,
    ) -> None:
        self.me = me
        self.params = params
        self.awareness = awareness
        self.news = news
        self.members: dict[str, Member] = {}
        # The members held suspect: a tick looks at these only, so that
        # it costs the same with 10 members or 1,000.
        self.suspects: set[str] = set()
        # Moves whenever a state or the members change.
        self.changes = 0

    def watch(self, names: Iterable[str], now: float) -> None:
        """New members start alive at incarnation 0 (their own first
        word overrides that); gone ones are forgotten."""
        wanted = set(names) - {self.me}
        gone = set(self.members) - wanted
        new = sorted(wanted - set(self.members))
        for name in gone:
            del self.members[name]
            self.suspects.discard(name)
            self.news.forget(name)
        for name in new:
            self.members[name] = Member(ALIVE, 0, now)
        if gone or new:
            self.changes += 1

    def apply(self, update: messages.Update, now: float) -> None:
        """Keep ``update`` (of another member) if it is news."""
        member = self.members.get(update.member)
        if member is None:
            return
        new = (update.inc, _RANK[update.state])
        held = (member.inc, _RANK[member.state])
        if new < held:
            return
        if new == held:
            if update.state == SUSPECT and update.by not in member.suspecters:
                # Another independent suspicion shortens the timeout;
                # spread it so the others count it too.
                member.suspecters.add(update.by)
                self.news.queue(update)
            return
        member.state, member.inc, member.since = update.state, update.inc, now
        self.changes += 1
        if update.state == SUSPECT:
            self.suspects.add(update.member)
        else:
            self.suspects.discard(update.member)
        member.suspecters = {update.by} if update.state == SUSPECT else set()
        self.news.queue(update)

    def expire_suspicions(self, now: float) -> None:
        """Suspects not refuted in time are dead."""
        n = len(self.members) + 1
        for name in sorted(self.suspects):
            member = self.members[name]
            if now - member.since >= self._suspicion(member, n):
                self.apply(
                    messages.Update(name, DEAD, member.inc, self.me), now
                )

    def next_expiry(self) -> float:
        """When the first suspicion ends (inf: none held)."""
        n = len(self.members) + 1
        return min(
            (
                self.members[name].since
                + self._suspicion(self.members[name], n)
                for name in self.suspects
            ),
            default=math.inf,
        )

    def _suspicion(self, member: Member, n: int) -> float:
        """How long ``member``'s suspicion lasts, as things stand."""
        return self.awareness.scale(
            gossip_params.suspicion_timeout(
                self.params, n, len(member.suspecters) - 1
            )
        )
