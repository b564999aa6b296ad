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

"""Reclaim: an owner's projects take back the room guests hold on its
sites. After placing, a member of an owner's project no site could take looks
at its owner's sites that would take it but for the room. If one has
the room now, it is unplaced for another reason: nothing is reclaimed.
If servers leaving one (moves not cleaned up yet, guests stopped) will
free enough, it waits. Otherwise, where the owner's policy lets guests
be preempted (``preemptible``), guests are reclaimed until enough is:

- in order: guests already under notice first, then the guest whose
  owner has the lowest fair-share factor (the most over its
  entitlement), then the lowest appliance priority, then member key;
- a guest another site can take is moved there, make-before-break
  (:func:`sodos.analyseplan.orders.cleanups` deletes its old server
  once the new one is built), with a reason starting :data:`PREFIX`;
- one no other site can take is told (:mod:`notices`: a deadline in
  the KB, the owner's ``preempt_notice_s`` from now, and an alert), then
  stopped once the deadline has passed, and kept off that site while
  the owner needs the room there;
- a guest whose going would leave its appliance on fewer sites than its
  ``spread`` asks is not stopped, and the refusal is told.

When all the guests that may go would not free enough, none goes. The
owner's member stays unplaced, its reason saying what is being freed,
until a later plan finds the room free.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections import Counter
from collections.abc import Callable
from typing import Any

from sodos.analyseplan import fairness
from sodos.analyseplan import filters as filters_mod
from sodos.analyseplan import notices
from sodos.analyseplan.plan import Move
from sodos.analyseplan.plan import Reclaim
from sodos.analyseplan.plan import Removal
from sodos.analyseplan.plan import Unplaced
from sodos.analyseplan.view import SiteTable
from sodos.analyseplan.view import add
from sodos.analyseplan.view import finite
from sodos.domain import appliance

# Moves made for a reclaim have reasons starting so; reports find them.
PREFIX = 'reclaim:'

Todo = tuple[appliance.Instance, str | None, str]
Contexts = dict[str, filters_mod.Context]
Bans = dict[str, set[int]]
# (table, todo, contexts, failed, banned) -> (moves, unplaced): the
# planner's placing, without the repair step.
Place = Callable[
    [SiteTable, list[Todo], Contexts, dict[str, set[str]], Bans],
    tuple[list[Move], list[Unplaced]],
]
# The planner keeps stopped guests off their site from the start.
banned = notices.banned
_SPREAD = filters_mod.SpreadFilter()
_AFFINITY = filters_mod.AffinityFilter()


@dataclasses.dataclass
class Outcome:
    moves: list[Move]
    unplaced: list[Unplaced]
    stops: list[Removal]
    reclaims: list[Reclaim]
    ended: list[str]


class Reclaimer:
    def __init__(
        self,
        kb: dict[str, Any],
        table: SiteTable,
        contexts: Contexts,
        fair: fairness.FairShare | None,
        failed: dict[str, set[str]],
        now: float | None,
        place: Place,
    ) -> None:
        self.table = table
        self.contexts = contexts
        self.fair = fair
        self.failed = failed
        # None (a what-if): guests are moved, never told nor stopped.
        self.now = now
        self.place = place
        self.records = notices.records(kb)
        self.bans = notices.banned(kb, table)
        self.placements = kb.get('placements', {})
        self.factors = fair.factors() if fair is not None else {}
        # Key -> flavor of every member: built when a reclaim needs it.
        self.flavors: dict[str, str] | None = None
        # Per site: room that servers leaving will free, and what the
        # owner's members served so far in this plan are promised.
        self.spare: dict[int, list[float]] = {}
        self.promised: dict[int, list[float]] = {}
        self.taken: set[str] = set()
        # Sites an owner's member waits for: their stopped guests stay off.
        self.wanting: set[int] = set()

    def run(
        self,
        todo: list[Todo],
        unplaced: list[Unplaced],
        kept_at: dict[int, list[appliance.Instance]],
        moves: list[Move],
    ) -> Outcome:
        out = Outcome([], [], [], [], [])
        insts = (
            {t[0].key: t[0] for t in todo} if unplaced or self.records else {}
        )
        self.members = [t[0] for t in todo]
        self.members += [g for members in kept_at.values() for g in members]
        for u in unplaced:
            inst = insts.get(u.key)
            told = None
            if inst is not None and self.table.sharing is not None:
                told = self._claim(inst, kept_at, out)
            out.unplaced.append(
                u
                if told is None
                else dataclasses.replace(u, reason='%s; %s' % (told, u.reason))
            )
        placed = {m.key for m in moves} | {m.key for m in out.moves}
        going = {r.key for r in out.reclaims}
        out.ended = [
            key
            for key in sorted(self.records)
            if key not in going and self._over(key, insts, placed)
        ]
        return out

    def _over(self, key: str, insts: dict[str, Any], placed: set[str]) -> bool:
        """Whether the reclaim of ``key`` is over: the guest is somewhere
        (not chosen this time), gone, or its site needs no more room."""
        found = self.placements.get(key)
        if found is None and key not in insts and key not in placed:
            return True  # its appliance no longer asks for it
        if found is not None and found['site'] == self.records[key]['site']:
            return True
        site = self.table.index.get(self.records[key]['site'])
        return site not in self.wanting

    def _claim(
        self,
        inst: appliance.Instance,
        kept_at: dict[int, list[appliance.Instance]],
        out: Outcome,
    ) -> str | None:
        """Free room for ``inst`` on its owner's sites; what is being
        done (or why nothing can be), None when nothing applies."""
        ctx = self.contexts[inst.appliance_id]
        sharing = self.table.sharing
        assert sharing is not None
        if not ctx.owner:
            return None
        sites = [
            i
            for i, host in enumerate(sharing.host)
            if host == ctx.owner and self._could_go(inst, ctx, i)
        ]
        shorts = [(i, self._short(inst, ctx, i)) for i in sites]
        if not sites or any(max(short) <= 0 for _, short in shorts):
            return None
        self.wanting.update(sites)
        told = []
        for i, short in shorts:
            name = self.table.names[i]
            if _covered(short, self._spare(i)):
                self._promise(i, inst)
                return 'waiting for the room guests leave at %s' % name
            done, text = self._at(i, inst, ctx, short, kept_at, out)
            if done:
                self._promise(i, inst)
                return text
            told.extend([text] if text else [])
        return 'no room reclaimed: ' + '; '.join(told) if told else None

    def _at(
        self,
        i: int,
        inst: appliance.Instance,
        ctx: filters_mod.Context,
        short: list[float],
        kept_at: dict[int, list[appliance.Instance]],
        out: Outcome,
    ) -> tuple[bool, str]:
        """Reclaim at site ``i`` what ``inst`` is ``short`` of: whether
        it is freed, and what was done or refused."""
        table, name = self.table, self.table.names[i]
        sharing = table.sharing
        assert sharing is not None
        host = sharing.host[i] or ''
        guests = sorted(
            (
                g
                for g in kept_at.get(i, [])
                if self.contexts[g.appliance_id].owner != host
                and g.key not in self.taken
            ),
            key=self._order,
        )
        if not guests:
            return False, ''  # nothing to say: no guest there
        if not sharing.policy[i].get('preemptible'):
            return False, "its owner's policy keeps the guests at %s" % name
        spare = self._spare(i)
        held = [finite(self._need(g, i)) for g in guests]
        # Not even all of them would do: no trial, no guest disturbed.
        if not _covered(short, functools.reduce(add, held, spare)):
            why = 'the guests at %s hold too little room for %s'
            return False, why % (name, inst.flavor)
        reason = '%s owner %s needs room for project %s'
        reason %= (PREFIX, host, ctx.project)
        trial = table.copy()
        contexts = dict(self.contexts)
        moved: list[Move] = []
        # Each guest going, with the site it moves to ('': stopped).
        gone: list[tuple[appliance.Instance, str]] = []
        refused: list[str] = []
        for g in guests:
            if _covered(short, spare):
                break
            gctx = contexts[g.appliance_id] = dataclasses.replace(
                contexts[g.appliance_id],
                sites_used=Counter(contexts[g.appliance_id].sites_used),
            )
            gctx.sites_used[i] -= 1
            ban = {g.key: self.bans.get(g.key, set()) | {i}}
            placed, _ = self.place(
                trial, [(g, name, reason)], contexts, self.failed, ban
            )
            if not placed:
                refusal = self._refusal(g, gctx, i)
                if refusal is not None:
                    gctx.sites_used[i] += 1
                    refused.append(refusal)
                    continue
            moved.extend(placed)
            gone.append((g, placed[0].site if placed else ''))
            spare = add(spare, finite(self._need(g, i)))
        if not _covered(short, spare):
            why = 'the guests that may leave %s would not free %s'
            return False, '; '.join([why % (name, inst.flavor), *refused])
        self._adopt(i, trial, contexts, moved, gone, kept_at)
        self.spare[i] = spare
        out.moves.extend(moved)
        told = []
        for g, to in gone:
            claim = notices.notice(
                self.records.get(g.key),
                Reclaim(
                    key=g.key,
                    appliance_id=g.appliance_id,
                    member=g.name,
                    site=name,
                    host=host,
                    guest=self.contexts[g.appliance_id].owner,
                    reason=reason,
                    deadline=0.0,
                    moved_to=to,
                ),
                float(sharing.policy[i].get('preempt_notice_s') or 0),
                self.now or 0.0,
            )
            out.reclaims.append(claim)
            if to:
                told.append('a guest moves to %s' % to)
            elif claim.stop:
                out.stops.append(
                    Removal(g.key, g.appliance_id, g.name, name, reason)
                )
                told.append('a guest stopped')
            else:
                when = notices.when(claim.deadline)
                told.append('a guest stops at %s' % when)
        return True, 'reclaiming room at %s: %s' % (name, ', '.join(told))

    def _adopt(
        self,
        i: int,
        trial: SiteTable,
        contexts: Contexts,
        moved: list[Move],
        gone: list[tuple[appliance.Instance, str]],
        kept_at: dict[int, list[appliance.Instance]],
    ) -> None:
        table = self.table
        table.used[:] = trial.used
        table.active[:] = trial.active
        table.sharing = trial.sharing
        self.contexts.update(contexts)
        keys = {g.key for g, _ in gone}
        self.taken |= keys
        kept_at[i] = [g for g in kept_at.get(i, []) if g.key not in keys]
        if self.fair is not None:
            # The trial placed without the fair share: count them now.
            for m in moved:
                owner = self.contexts[m.appliance_id].owner
                self.fair.add(
                    owner, finite(table.need(m.flavor)[table.index[m.site]])[0]
                )

    def _refusal(
        self, g: appliance.Instance, gctx: filters_mod.Context, i: int
    ) -> str | None:
        """Why ``g``, which no other site can take, may not be stopped
        at site ``i`` (already taken off it in ``gctx``); None if it may.
        A spread (over 1) is broken if it was met and would not be."""
        name = self.table.names[i]
        if self.now is None:
            return 'no other site can take a guest there'
        spread = int(gctx.constraints.get('spread', 1))
        spans = sum(1 for n in gctx.sites_used.values() if n > 0)
        if max(spans, 1) < spread <= spans + (not gctx.sites_used.get(i)):
            return (
                'reclaiming a guest at %s refused: stopping it would break '
                'the spread of its appliance (%d sites; no other site can '
                'take it)' % (name, spread)
            )
        return None

    def _order(self, g: appliance.Instance) -> tuple[Any, ...]:
        factor = self.factors.get(self.contexts[g.appliance_id].owner, 0.0)
        return (g.key not in self.records, factor, g.priority, g.key)

    def _could_go(
        self, inst: appliance.Instance, ctx: filters_mod.Context, i: int
    ) -> bool:
        """Whether site ``i`` would take ``inst`` if it had the room."""
        table = self.table
        name = table.names[i]
        return (
            table.usable[i]
            and name not in self.failed.get(inst.key, ())
            and i not in self.bans.get(inst.key, ())
            and appliance.allows(ctx.constraints, name, table.profiles[i])
            and table.image_ok(i, inst.image)
            and all(math.isfinite(x) for x in self._need(inst, i))
            and _SPREAD.admits(table, i, inst, ctx)
            and _AFFINITY.admits(table, i, inst, ctx)
        )

    def _need(self, inst: appliance.Instance, i: int) -> list[float]:
        return self.table.need(inst.flavor)[i]

    def _short(
        self, inst: appliance.Instance, ctx: filters_mod.Context, i: int
    ) -> list[float]:
        """What site ``i`` lacks for ``inst``, per resource (<= 0: none)."""
        keep = 1.0 - ctx.constraints.get('headroom_pct', 0) / 100.0
        promised = self.promised.get(i, [0.0, 0.0, 0.0])
        return [
            n + p - (t * keep - u)
            for n, p, t, u in zip(
                self._need(inst, i),
                promised,
                self.table.total[i],
                self.table.used[i],
                strict=True,
            )
        ]

    def _promise(self, i: int, inst: appliance.Instance) -> None:
        promised = self.promised.get(i, [0.0, 0.0, 0.0])
        self.promised[i] = add(promised, self._need(inst, i))

    def _spare(self, i: int) -> list[float]:
        found = self.spare.get(i)
        if found is None:
            if self.flavors is None:
                self.flavors = dict(self.table.flavor_of)
                self.flavors |= {g.key: g.flavor for g in self.members}
            found = self.spare[i] = notices.freeing(
                self.table, i, self.records, self.placements, self.flavors
            )
        return found


def _covered(short: list[float], spare: list[float]) -> bool:
    return all(s <= f for s, f in zip(short, spare, strict=True))
