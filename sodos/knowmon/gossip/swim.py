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


"""SWIM failure detection as a pure, deterministic state machine.

The caller owns the clock, the randomness and the network: it calls
:meth:`Swim.on_tick` once :meth:`Swim.next_due` has come (a tick before
then does nothing) and :meth:`Swim.on_message` with every decoded
datagram, and sends the
:class:`Outgoing` messages both return. Given the same inputs it makes the
same decisions, which is what lets the tests replay a lossy network.

What each member believes of another is a state and an incarnation. The
member alone raises its own incarnation, to refute a suspicion of itself;
everyone else orders what they hear by (incarnation, alive < suspect <
dead) and keeps the greater, so every member's view converges to the same
state whatever order the updates arrive in. Dead is final for an
incarnation: only the member itself, with a higher one, comes back.
"""

from __future__ import annotations

import collections
import dataclasses
import random
from collections.abc import Iterable
from typing import Any

from sodos.knowmon.gossip import awareness
from sodos.knowmon.gossip import beliefs
from sodos.knowmon.gossip import broadcasts
from sodos.knowmon.gossip import messages
from sodos.knowmon.gossip import params as gossip_params
from sodos.knowmon.gossip import probes

ALIVE, SUSPECT, DEAD = messages.STATES


@dataclasses.dataclass(frozen=True)
class Outgoing:
    to: str
    message: messages.Message


class Swim:
    def __init__(
        self,
        me: str,
        federation: str,
        members: Iterable[str],
        params: gossip_params.Params,
        rng: random.Random,
        now: float,
        incarnation: int = 0,
    ) -> None:
        self.me = me
        self.federation = federation
        self.params = params
        self.incarnation = incarnation
        self._rng = rng
        self._broadcasts = broadcasts.Broadcasts()
        self._probe: probes.Probe | None = None
        self._next_probe_at = now
        self._next_gossip_at = now
        self._rounds = probes.Rounds(rng)
        # Every member but this one, sorted: whom the gossip picks from.
        self._names: list[str] = []
        self._seq = 0
        self._relays = probes.Relays()
        self.awareness = awareness.Awareness(params.awareness_max)
        self._beliefs = beliefs.Beliefs(
            me, params, self.awareness, self._broadcasts
        )
        # The same table, read throughout the protocol.
        self._members = self._beliefs.members
        # Messages refused, by reason: for the operator, never raised.
        self.dropped: collections.Counter[str] = collections.Counter()
        self.set_members(members, now)
        # Say we are here (a restart comes back with a higher incarnation).
        self._broadcasts.queue(messages.Update(me, ALIVE, incarnation, me))

    # -- what the caller reads --------------------------------------------

    def size(self) -> int:
        return len(self._members) + 1

    def view(self) -> dict[str, tuple[str, int]]:
        """Every member's state and incarnation as this member sees it."""
        seen = {name: (m.state, m.inc) for name, m in self._members.items()}
        seen[self.me] = (ALIVE, self.incarnation)
        return seen

    def payload(self, out: Outgoing) -> dict[str, Any]:
        """The JSON-safe dict to send for ``out``."""
        return out.message.to_dict(self.federation)

    def backlog(self) -> int:
        """Updates still waiting to be piggybacked."""
        return len(self._broadcasts)

    def dead(self) -> set[str]:
        return {n for n, m in self._members.items() if m.state == DEAD}

    def health(self) -> int:
        """This member's health score: 0 is healthy (see .awareness)."""
        return self.awareness.score

    def next_due(self) -> float:
        """When :meth:`on_tick` next has something to do: before then it
        sends nothing and changes nothing, so a caller may sleep until
        then (or until a message comes, which may bring it forward).

        A member ticked only when something is due wakes a few times per
        probe interval instead of at a fixed fine pace: on a machine
        running many members, their idle wake-ups were most of the
        gossip's cost.
        """
        due = self._next_probe_at
        probe = self._probe
        if probe is not None and not probe.acked and not probe.asked_others:
            due = min(due, probe.started + probe.timeout)
        if self._broadcasts:
            due = min(due, self._next_gossip_at)
        return min(due, self._relays.next_due(), self._beliefs.next_expiry())

    def changes(self) -> int:
        """A count that moves whenever a member's state or the members
        change: a caller need look at the view again only then."""
        return self._beliefs.changes

    # -- what the caller feeds in -----------------------------------------

    def set_members(self, names: Iterable[str], now: float) -> None:
        """The members to watch, from the KB: new ones start alive at
        incarnation 0 (their own first word overrides that), gone ones
        are forgotten."""
        self._beliefs.watch(names, now)
        self._names = sorted(self._members)

    def vouch(self, registered: dict[str, int], now: float) -> list[str]:
        """Believe each member alive at the incarnation it registered in
        the KB, where that is above what this member holds; the names
        whose belief moved.

        A restarted member's own word, which the KB carried before its
        gossip could: the verdicts on its earlier process no longer
        count, and the news spreads like any other, so that the members
        probe it at its new incarnation and find it dead there if it
        died again before it gossiped."""
        moved = []
        for name, inc in sorted(registered.items()):
            member = self._members.get(name)
            if member is not None and inc > member.inc:
                self._apply(messages.Update(name, ALIVE, inc, name), now)
                moved.append(name)
        return moved

    def on_tick(self, now: float) -> list[Outgoing]:
        self._relays.expire(now)
        self._beliefs.expire_suspicions(now)
        out = [
            self._send(relay.requester, 'nack', relay.seq, relay.target)
            for relay in self._relays.nacks_due(now)
            if relay.requester in self._members
        ]
        out.extend(self._gossip(now))
        probe = self._probe
        if (
            probe is not None
            and not probe.acked
            and not probe.asked_others
            and now >= probe.started + probe.timeout
        ):
            out.extend(self._ask_others(probe))
        if now >= self._next_probe_at:
            if probe is not None and not probe.acked:
                self._probe_failed(probe, now)
            self._probe = None
            out.extend(self._start_probe(now))
            # A caller that fell behind (a paused process) starts afresh
            # rather than firing a burst of probes to catch up.
            interval = self.awareness.scale(self.params.probe_interval)
            self._next_probe_at = max(
                self._next_probe_at + interval, now + interval / 2
            )
        return out

    def on_message(self, raw: Any, now: float) -> list[Outgoing]:
        """Handle one decoded message; a bad one is counted and dropped."""
        try:
            msg = messages.parse(raw, self.federation)
        except messages.Invalid as exc:
            self.dropped[str(exc)] += 1
            return []
        if msg.sender == self.me or msg.sender not in self._members:
            self.dropped['unknown sender'] += 1
            return []
        # A message is its sender's own word that it is alive.
        self._apply(
            messages.Update(msg.sender, ALIVE, msg.inc, msg.sender), now
        )
        for update in msg.updates:
            self._apply(update, now)
        if msg.type == 'ping':
            return self._on_ping(msg)
        if msg.type == 'ping_req':
            return self._on_ping_req(msg, now)
        if msg.type == 'nack':
            return self._on_nack(msg)
        if msg.type == 'gossip':
            return []
        return self._on_ack(msg)

    # -- probing ----------------------------------------------------------

    def _start_probe(self, now: float) -> list[Outgoing]:
        # Dead members are probed too, so one that comes back hears it was
        # declared dead and refutes.
        target = self._rounds.next(self._members)
        if target is None:
            return []
        self._seq += 1
        self._probe = probes.Probe(
            target,
            self._seq,
            self._members[target].inc,
            now,
            self.awareness.scale(self.params.probe_timeout),
        )
        return [self._send(target, 'ping', self._seq, target)]

    def _ask_others(self, probe: probes.Probe) -> list[Outgoing]:
        probe.asked_others = True
        target = self._members.get(probe.target)
        if target is None or target.state == DEAD:
            return []
        helpers = sorted(
            name
            for name, m in self._members.items()
            if m.state == ALIVE and name != probe.target
        )
        chosen = self._rng.sample(
            helpers, min(self.params.indirect_checks, len(helpers))
        )
        probe.helpers = frozenset(chosen)
        return [
            self._send(name, 'ping_req', probe.seq, probe.target)
            for name in chosen
        ]

    def _probe_failed(self, probe: probes.Probe, now: float) -> None:
        member = self._members.get(probe.target)
        if member is None or member.state == DEAD or member.inc > probe.inc:
            return
        # Helpers that did not even nack point at us (our messages or
        # theirs lost, or we are too slow to hear them); with none to ask,
        # any failed probe may be our fault.
        missing = len(probe.helpers - probe.nacks)
        self.awareness.apply(missing if probe.helpers else 1)
        self._apply(
            messages.Update(probe.target, SUSPECT, member.inc, self.me), now
        )

    def _gossip(self, now: float) -> list[Outgoing]:
        # News also goes out on its own, to a few members at random, at a
        # pace this member's health does not slow: a refutation or a
        # death must not wait for the probes (memberlist's gossip).
        if now < self._next_gossip_at or not self._broadcasts:
            return []
        self._next_gossip_at = now + self.params.gossip_interval
        names = self._rng.sample(
            self._names, min(self.params.gossip_nodes, len(self._names))
        )
        return [
            self._send(name, 'gossip', 0, name)
            for name in names
            if self._members[name].state != DEAD
        ]

    def _on_ping(self, msg: messages.Message) -> list[Outgoing]:
        if msg.target != self.me:
            self.dropped['misdirected ping'] += 1
            return []
        return [self._send(msg.sender, 'ack', msg.seq, self.me)]

    def _on_ping_req(
        self, msg: messages.Message, now: float
    ) -> list[Outgoing]:
        if msg.target in (self.me, msg.sender) or (
            msg.target not in self._members
        ):
            self.dropped['bad ping_req'] += 1
            return []
        self._seq += 1
        self._relays.add(
            self._seq,
            probes.Relay(
                msg.sender,
                msg.seq,
                msg.target,
                now + self.params.probe_timeout,
                now + self.params.probe_interval,
            ),
        )
        return [self._send(msg.target, 'ping', self._seq, msg.target)]

    def _on_nack(self, msg: messages.Message) -> list[Outgoing]:
        probe = self._probe
        if (
            probe is not None
            and (probe.seq, probe.target) == (msg.seq, msg.target)
            and msg.sender in probe.helpers
        ):
            probe.nacks.add(msg.sender)
        else:
            self.dropped['late nack'] += 1
        return []

    def _on_ack(self, msg: messages.Message) -> list[Outgoing]:
        relay = self._relays.answered(msg.seq, msg.target)
        if relay is not None:
            if relay.requester not in self._members:
                return []
            return [self._send(relay.requester, 'ack', relay.seq, msg.target)]
        probe = self._probe
        if probe is not None and (probe.seq, probe.target) == (
            msg.seq,
            msg.target,
        ):
            if msg.sender == probe.target and not probe.asked_others:
                # Acked directly and in time: we keep up.
                self.awareness.apply(-1)
            probe.acked = True
        else:
            # An ack after its probe period ended: normal under delay.
            self.dropped['late ack'] += 1
        return []

    def _send(self, to: str, kind: str, seq: int, target: str) -> Outgoing:
        room = self.params.max_piggyback
        updates = []
        member = self._members[to]
        if member.state != ALIVE:
            # Tell a member we doubt what we believe of it, whatever the
            # retransmit count: it is the one that can refute.
            updates.append(
                messages.Update(to, member.state, member.inc, self.me)
            )
            room -= 1
        limit = gossip_params.retransmit_limit(self.params, self.size())
        updates.extend(
            u
            for u in self._broadcasts.take(room, limit)
            if u.member != to or member.state == ALIVE
        )
        return Outgoing(
            to,
            messages.Message(
                kind, self.me, self.incarnation, seq, target, tuple(updates)
            ),
        )

    # -- what members believe ---------------------------------------------

    def _apply(self, update: messages.Update, now: float) -> None:
        if update.member == self.me:
            self._refute(update)
        else:
            self._beliefs.apply(update, now)

    def _refute(self, update: messages.Update) -> None:
        if update.state == ALIVE or update.inc < self.incarnation:
            return
        # Suspected while alive: maybe we were too slow to answer.
        self.awareness.apply(1)
        self.incarnation = update.inc + 1
        self._beliefs.changes += 1
        self._broadcasts.queue(
            messages.Update(self.me, ALIVE, self.incarnation, self.me)
        )
