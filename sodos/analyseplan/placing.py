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

"""Placing the members that need a site, an appliance at a time.

Appliances go in priority order, highest first; among equals the most
constrained first (affinity, then the fewest allowed sites), then the
largest, then by id. Each appliance is placed as a unit:

- with affinity and no member kept anywhere, one site is chosen for the
  whole appliance: the best one that takes all its pending members (or,
  if none can, the one that takes most), so the first member does not
  choose alone;
- otherwise its members go, fewest allowed sites and largest first, to
  the best site every filter admits; a member refused while the
  appliance spans fewer than ``spread`` sites is tried again once its
  siblings have placed, until a pass places nothing more.

Sites are tried best first. When every weigher that changes during a
plan is ``local`` (a site's score depends on its own row), the ranking
is kept sorted and one site is rescored per server placed: a member
costs a walk to the first site that admits it, not a pass over every
site with every filter.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from typing import Any

from sodos.analyseplan import admitting
from sodos.analyseplan import failures
from sodos.analyseplan import fairness
from sodos.analyseplan import filters as filters_mod
from sodos.analyseplan import specs
from sodos.analyseplan import weighers as weighers_mod
from sodos.analyseplan.plan import Move
from sodos.analyseplan.plan import Unplaced
from sodos.analyseplan.view import SiteTable
from sodos.domain import appliance

Todo = tuple[appliance.Instance, str | None, str]
_NONE: frozenset[int] = frozenset()


class Placer:
    def __init__(
        self,
        filters: list[filters_mod.Filter],
        weighers: list[tuple[weighers_mod.Weigher, float]],
        table: SiteTable,
        contexts: dict[str, filters_mod.Context],
        failed: dict[str, set[str]],
        banned: dict[str, set[int]],
        fair: fairness.FairShare | None = None,
        retries: failures.Retries = failures.NO_RETRIES,
    ) -> None:
        # Owners' turns under contention; None: the order of _rank.
        self.fair = fair
        self.retries = retries
        # A filter with nothing to say of these sites is left out: then
        # it neither costs time nor keeps the repair step away.
        filters = [f for f in filters if f.applies(table)]
        self.filters = filters
        self.static_filters = [f for f in filters if f.static]
        self.dynamic_filters = [f for f in filters if not f.static]
        self.admission = admitting.Admission(self.dynamic_filters)
        self.table = table
        self.contexts = contexts
        self.failed = failed
        self.banned = banned
        n = len(table.names)
        static_score = [0.0] * n
        for weigher, multiplier in weighers:
            if weigher.static:
                static_score = _weighed(
                    static_score, multiplier, weigher.weigh(table)
                )
        self.static_score = static_score
        self.dynamic = [(w, m) for w, m in weighers if not w.static]
        self.incremental = all(
            w.local and not w.needs_member for w, _ in self.dynamic
        )
        self._masks: dict[tuple[Any, str, str], list[bool]] = {}
        # Member key -> (allowed sites, how many, excluded sites).
        self._allowed: dict[str, tuple[list[bool], int, frozenset[int]]] = {}
        # How many sites pass, by the id of a mask in _masks.
        self._counts: dict[int, int] = {}
        self._sizes: dict[str, tuple[float, float]] = {}
        self.moves: list[Move] = []
        # Which sites hosted servers before this placer placed any.
        self.active = table.active[:]
        self.rescore()

    def rescore(self) -> None:
        """Rank the sites from the table as it is now."""
        if self.incremental:
            n = len(self.table.names)
            self.score = [self._site_score(i) for i in range(n)]
            # Best first; equals in name order (index order).
            self.ranked = sorted((-s, i) for i, s in enumerate(self.score))

    def place(self, todo: Iterable[Todo]) -> list[Todo]:
        """Place what fits; returns what does not, in order."""
        units = self._units(todo)
        order: Iterable[str] = sorted(units, key=lambda a: units[a][0])
        if self.fair is not None:
            owners = {a: self.contexts[a].owner for a in units}
            order = self.fair.order(owners, lambda a: units[a][0])
        left: list[Todo] = []
        for appliance_id in order:
            left.extend(self._place_unit(units[appliance_id][1]))
        return left

    def units_in_order(self, todo: Iterable[Todo]) -> list[Todo]:
        """``todo`` in the order :meth:`place` goes through it."""
        units = self._units(todo)
        out: list[Todo] = []
        for appliance_id in sorted(units, key=lambda a: units[a][0]):
            out.extend(units[appliance_id][1])
        return out

    def put(self, item: Todo, i: int) -> None:
        """Place ``item`` at site ``i`` (the caller checked it fits)."""
        inst, site, why = item
        ctx, table = self.contexts[inst.appliance_id], self.table
        key = inst.key
        table.take(i, inst.flavor)
        if table.sharing is not None or self.fair is not None:
            self._count(i, ctx.owner, inst.flavor, 1)
        table.active[i] = True
        ctx.sites_used[i] += 1
        if self.incremental:
            ranked, score = self.ranked, self.score
            del ranked[bisect.bisect_left(ranked, (-score[i], i))]
            score[i] = self._site_score(i)
            bisect.insort(ranked, (-score[i], i))
        failed = self.failed.get(key)
        self.moves.append(
            Move(
                key=key,
                appliance_id=inst.appliance_id,
                member=inst.name,
                site=table.names[i],
                from_site=site,
                reason=why,
                image=inst.image,
                flavor=inst.flavor,
                failed_sites=sorted(failed) if failed else [],
                failed_at=self.retries.times(key, failed) if failed else {},
            )
        )

    def undo(self) -> None:
        """Take back every move made so far."""
        for move in self.moves:
            i = self.table.index[move.site]
            self.table.release(i, move.flavor)
            ctx = self.contexts[move.appliance_id]
            ctx.sites_used[i] -= 1
            if self.table.sharing is not None or self.fair is not None:
                self._count(i, ctx.owner, move.flavor, -1)
        self.moves = []
        self.table.active[:] = self.active
        self.rescore()

    def _count(self, i: int, owner: str, flavor: str, sign: int) -> None:
        """Count (``sign`` 1) or stop counting (-1) a server of
        ``owner`` at site ``i`` in the owners' sharing and fair share."""
        fairness.count(self.table, self.fair, i, owner, flavor, sign)

    def allowed(self, inst: appliance.Instance) -> list[bool]:
        """The sites the static filters let ``inst`` go to, minus the
        ones it failed at or was moved away from; sets the context's
        ``excluded`` for the dynamic filters."""
        return self._allowed_entry(inst)[0]

    def _allowed_entry(
        self, inst: appliance.Instance
    ) -> tuple[list[bool], int, frozenset[int]]:
        ctx = self.contexts[inst.appliance_id]
        member = inst.key
        found = self._allowed.get(member)
        if found is None:
            excluded = self.excluded(inst)
            ctx.excluded = excluded
            # What the static filters read of a member: its appliance's
            # constraints, image and flavor (the same, the same answer).
            key = (specs.signature(ctx.constraints), inst.image, inst.flavor)
            mask = self._masks.get(key)
            if mask is None:
                mask = [True] * len(self.table.names)
                for f in self.static_filters:
                    passed = f.mask(self.table, inst, ctx)
                    if passed is not None:
                        mask = [
                            a and b for a, b in zip(mask, passed, strict=True)
                        ]
                self._masks[key] = mask
            if excluded:
                mask = [ok and i not in excluded for i, ok in enumerate(mask)]
            count = self._counts.get(id(mask))
            if count is None or excluded:
                count = sum(mask)
                if not excluded:
                    self._counts[id(mask)] = count
            found = self._allowed[member] = (mask, count, excluded)
        ctx.excluded = found[2]
        return found

    def room(self, inst: appliance.Instance) -> int:
        """How many sites :meth:`allowed` lets ``inst`` go to."""
        return self._allowed_entry(inst)[1]

    def excluded(self, inst: appliance.Instance) -> frozenset[int]:
        key = inst.key
        if key not in self.failed and key not in self.banned:
            return _NONE
        index = self.table.index
        return frozenset(
            index[s] for s in self.failed.get(key, ()) if s in index
        ) | frozenset(self.banned.get(key, ()))

    def admits(self, i: int, inst: appliance.Instance) -> bool:
        ctx = self.contexts[inst.appliance_id]
        return self.admission.admits(self.table, i, inst, ctx)

    def explain(self, left: list[Todo]) -> list[Unplaced]:
        """Why each member of ``left`` has no site, as the plan ends."""
        out = []
        for inst, site, why in left:
            ctx = self.contexts[inst.appliance_id]
            ctx.excluded = self.excluded(inst)
            ctx.retry_at = self.retries.retry_at(
                inst.key, self.failed.get(inst.key, ()), self.table
            )
            out.append(
                Unplaced(
                    inst.key,
                    inst.appliance_id,
                    inst.name,
                    site,
                    '%s; no site can take it: %s'
                    % (
                        why,
                        filters_mod.why_nowhere(
                            self.filters, self.table, inst, ctx
                        ),
                    ),
                )
            )
        return out

    def size(self, flavor: str) -> tuple[float, float]:
        """(RAM, vCPUs) of ``flavor`` where a site knows it."""
        found = self._sizes.get(flavor)
        if found is None:
            rows = [r for r in self.table.need(flavor) if math.isfinite(r[0])]
            found = (
                max((r[1] for r in rows), default=0.0),
                max((r[0] for r in rows), default=0.0),
            )
            self._sizes[flavor] = found
        return found

    def _units(
        self, todo: Iterable[Todo]
    ) -> dict[str, tuple[tuple[Any, ...], list[Todo]]]:
        """Appliance id -> its rank among the others, and its pending
        members in the order they are placed."""
        grouped: dict[str, list[Todo]] = {}
        for item in todo:
            grouped.setdefault(item[0].appliance_id, []).append(item)
        return {a: self._unit(items) for a, items in grouped.items()}

    def _unit(self, items: list[Todo]) -> tuple[tuple[Any, ...], list[Todo]]:
        keyed = [
            (self.room(item[0]), self.size(item[0].flavor), n, item)
            for n, item in enumerate(items)
        ]
        inst = items[0][0]
        ctx = self.contexts[inst.appliance_id]
        room = min(k[0] for k in keyed)
        ram = sum(k[1][0] for k in keyed)
        affinity = bool(ctx.constraints.get('affinity'))
        rank = (-inst.priority, not affinity, room, -ram, inst.appliance_id)
        # Fewest allowed sites first, then largest; then as in the spec.
        keyed.sort(key=lambda k: (k[0], -k[1][0], -k[1][1], k[2]))
        return rank, [k[3] for k in keyed]

    def _place_unit(self, pending: list[Todo]) -> list[Todo]:
        ctx = self.contexts[pending[0][0].appliance_id]
        only = None
        if ctx.constraints.get('affinity') and not _spans(ctx):
            only = self._affinity_site(pending)
        while pending:
            refused = []
            for item in pending:
                i = self._best(item[0], only)
                if i is None:
                    refused.append(item)
                else:
                    self.put(item, i)
                    only = None  # the affinity filter holds the rest
            if len(refused) == len(pending):
                break
            pending = refused
        return pending

    def _best(self, inst: appliance.Instance, only: int | None) -> int | None:
        mask = self.allowed(inst)
        if only is not None:
            return only if mask[only] and self.admits(only, inst) else None
        if self.incremental:
            ranked = self.ranked
        else:
            ranked = [(0.0, i) for i in self._ranking(inst)]
        ctx = self.contexts[inst.appliance_id]
        return self.admission.first(self.table, ranked, mask, inst, ctx)

    def _ranking(self, inst: appliance.Instance) -> Iterable[int]:
        if self.incremental:
            return [i for _, i in self.ranked]
        score = self.static_score
        for weigher, multiplier in self.dynamic:
            if weigher.needs_member:
                vcpus = [need[0] for need in self.table.need(inst.flavor)]
                weights = weigher.weigh_member(self.table, vcpus)
            else:
                weights = weigher.weigh(self.table)
            score = _weighed(score, multiplier, weights)
        return sorted(range(len(score)), key=lambda i: -score[i])

    def _affinity_site(self, items: list[Todo]) -> int | None:
        """The best site that takes all of ``items``, else most."""
        table = self.table
        keep = 1.0 - (
            self.contexts[items[0][0].appliance_id].constraints.get(
                'headroom_pct', 0
            )
            / 100.0
        )
        masks = [self.allowed(item[0]) for item in items]
        best, most = None, 0
        for i in self._ranking(items[0][0]):
            used, count = table.used[i], 0
            limit = [t * keep for t in table.total[i]]
            for item, mask in zip(items, masks, strict=True):
                need = table.need(item[0].flavor)[i]
                after = [u + n for u, n in zip(used, need, strict=True)]
                if mask[i] and all(
                    a <= lim for a, lim in zip(after, limit, strict=True)
                ):
                    used, count = after, count + 1
            if count == len(items):
                return i
            if count > most:
                best, most = i, count
        return best

    def _site_score(self, i: int) -> float:
        # The same sums, in the same order, as _weighed over all sites.
        score = self.static_score[i]
        for weigher, multiplier in self.dynamic:
            score = score + multiplier * weigher.weigh_at(self.table, i)
        return score


def _spans(ctx: filters_mod.Context) -> bool:
    return any(n > 0 for n in ctx.sites_used.values())


def _weighed(
    score: list[float], multiplier: float, weights: list[float]
) -> list[float]:
    return [s + multiplier * w for s, w in zip(score, weights, strict=True)]
