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

"""The planner: a pure function from a KB read (plus hypothetical
events) to a plan.

No clock, no I/O, no randomness: the same KB gives the same plan on every
site, a test can hand it any federation, and a what-if question is the
same call with events added.

1. Every server of every appliance (:func:`appliance.instances`) is
   *kept* where the KB places it while that site is up, not draining,
   still allowed by the constraints and not one where its server failed
   for good; kept members not built yet reserve their flavor there.
   From one cycle to the next, only the appliances something changed
   for are sorted again (:mod:`sorting`).
2. The others (new members, members of a site down or draining, of a
   site whose build failed) are placed in priority order, highest first,
   an appliance at a time (:mod:`placing`): the filters say which sites
   may take the server, the weighers which of those is best. Where
   sites have owners, their sharing policies always filter
   (:mod:`sharing`) and owners take turns by fair share
   (:mod:`fairness`).
3. What that leaves out goes to the repair step (:mod:`repair`), an
   exact placement of the members that needed a site.
4. Placements of servers no spec asks for any more are removed.

A member no site can take is reported with each site's reason, as
things stand when the plan is complete.
"""

from __future__ import annotations

import contextlib
import functools
import gc
from collections import Counter
from collections.abc import Iterable
from collections.abc import Iterator
from typing import Any

from sodos import exception
from sodos import plugins
from sodos.analyseplan import consolidation
from sodos.analyseplan import failures
from sodos.analyseplan import fairness
from sodos.analyseplan import filters as filters_mod
from sodos.analyseplan import keeping
from sodos.analyseplan import placing
from sodos.analyseplan import reclaim
from sodos.analyseplan import repair
from sodos.analyseplan import sharing
from sodos.analyseplan import sorting
from sodos.analyseplan import specs
from sodos.analyseplan import weighers as weighers_mod
from sodos.analyseplan.plan import Move
from sodos.analyseplan.plan import Plan
from sodos.analyseplan.plan import Removal
from sodos.analyseplan.plan import Unplaced
from sodos.analyseplan.view import Events
from sodos.analyseplan.view import SiteTable
from sodos.domain import appliance

# With the federation policy 'consolidate' on, these weighers alone.
CONSOLIDATION_WEIGHTS = {'marginal_cost': 1.0}

# The filters the repair step models; with another dynamic filter
# configured, greedy's answer stands.
_MODELLED_FILTERS = (
    filters_mod.CapacityFilter,
    filters_mod.SpreadFilter,
    filters_mod.AffinityFilter,
    filters_mod.FailedHereFilter,
    sharing.SharingFilter,
)
# Seconds the repair step may take to prove its answer optimal.
REPAIR_BUDGET_S = 5.0


class Planner:
    # Seconds a member is kept off a site where its server failed for
    # good ([analyseplan]failed_site_retry_after); 0: for good.
    failed_retry_after = 0.0

    def __init__(
        self,
        filters: Iterable[filters_mod.Filter],
        weighers: Iterable[tuple[weighers_mod.Weigher, float]],
        repair_budget: float = REPAIR_BUDGET_S,
        cache: specs.SpecCache | None = None,
    ) -> None:
        """``cache``: the specs earlier plans validated (the planning
        member keeps one from cycle to cycle); by default, this
        planner's own."""
        self.cache = cache if cache is not None else specs.SpecCache()
        self.filters = list(filters)
        # Owners' policies hold whatever filters the site configured.
        if not any(isinstance(f, sharing.SharingFilter) for f in self.filters):
            self.filters.append(sharing.SharingFilter())
        self.weighers = [(w, m) for w, m in weighers if m]
        # 0: greedy placing alone.
        self.repair_budget = repair_budget

    def plan(
        self,
        kb: dict[str, Any],
        events: Events | None = None,
        overloaded: dict[str, float] | None = None,
        consolidate: float | None = None,
        now: float | None = None,
        notify: bool = True,
    ) -> Plan:
        """The plan for ``kb``.

        ``overloaded``: site -> the utilisation (0..1) to bring it under,
        by moving its lowest-priority members away. ``consolidate``: the
        carbon price; when given, one site whose members all fit on the
        other sites in use is emptied if that saves cost. ``now``: the
        plan's clock: a failure older than ``failed_retry_after`` no
        longer keeps a member off its site (:mod:`failures`), and
        reclaims give notice from it (:mod:`reclaim`); None: failures
        count for good and no notice is given. ``notify``: False for a
        question (a what-if), whose reclaims neither tell nor stop a
        guest.
        """
        with _no_cycle_collection():
            return self._plan(kb, events, overloaded, consolidate, now, notify)

    def _plan(
        self,
        kb: dict[str, Any],
        events: Events | None,
        overloaded: dict[str, float] | None,
        consolidate: float | None,
        now: float | None,
        notify: bool,
    ) -> Plan:
        table = SiteTable(kb, events or Events())
        placements = kb.get('placements', {})
        table.placements = placements
        table.sharing = sharing.ledger(kb, table)
        fair = fairness.fair_share(kb, table)
        identity = kb.get('identity') or {}
        failed, retries = failures.failed_sites(
            kb.get('actions', {}), placements, now, self.failed_retry_after
        )
        validated = self.cache.read(kb.get('appliances', {}))
        order = self.cache.order()
        if self.cache.sorter is None:
            self.cache.sorter = sorting.Sorter()
        sorted_out = self.cache.sorter.sort(
            table,
            placements,
            failed,
            retries,
            validated,
            order,
            identity,
            fair,
        )
        contexts, todo = sorted_out.contexts, sorted_out.todo
        kept_at, wanted = sorted_out.kept_at, sorted_out.wanted
        building = sorted_out.building
        for (i, flavor), count in sorted(building.items()):
            # Placed, not built yet: their room is taken.
            table.take(i, flavor, count)
        banned = reclaim.banned(kb, table)
        for name, target in sorted((overloaded or {}).items()):
            hot = table.index.get(name)
            if hot is None or not table.usable[hot]:
                continue
            for inst in keeping.evictions(
                table, hot, kept_at.get(hot, []), target
            ):
                kept_at[hot].remove(inst)
                # The sorted context is shared from plan to plan: a copy.
                ctx = contexts[inst.appliance_id].copy()
                contexts[inst.appliance_id] = ctx
                ctx.sites_used[hot] -= 1
                banned.setdefault(inst.key, set()).add(hot)
                todo.append((inst, name, 'site %s overloaded' % name))
        # Every placing in this plan knows when the failures it avoids
        # may be tried again.
        place = functools.partial(self._place, retries=retries)
        moves, unplaced = place(
            table, todo, contexts, failed, banned, self.repair_budget, fair
        )
        claimed = reclaim.Reclaimer(
            kb, table, contexts, fair, failed, now if notify else None, place
        ).run(todo, unplaced, kept_at, moves)
        moves, unplaced = moves + claimed.moves, claimed.unplaced
        kept = sum(len(members) for members in kept_at.values())
        saving = None
        if consolidate is not None and not unplaced:
            saving = consolidation.empty_one_site(
                table,
                kept_at,
                contexts,
                failed,
                consolidate,
                moves,
                place,
            )
            kept = sum(len(members) for members in kept_at.values())
        # A placement is removed when its appliance is gone, or when the
        # appliance's spec no longer asks for it; an appliance whose spec
        # does not validate (written by hand) is left alone.
        appliances = kb.get('appliances', {})
        removals = [
            Removal(key, p['appliance_id'], p['member'], p['site'])
            for key in sorted(placements.keys() - wanted)
            if (p := placements[key])['appliance_id'] in validated
            or p['appliance_id'] not in appliances
        ] + claimed.stops
        plan = Plan(
            moves, unplaced, removals, kept, keeping.capacity_left(table)
        )
        plan.consolidation = saving
        plan.reclaims, plan.reclaims_ended = claimed.reclaims, claimed.ended
        return plan

    def _place(
        self,
        table: SiteTable,
        todo: list[tuple[appliance.Instance, str | None, str]],
        contexts: dict[str, filters_mod.Context],
        failed: dict[str, set[str]],
        banned: dict[str, set[int]],
        repair_budget: float = 0.0,
        fair: fairness.FairShare | None = None,
        retries: failures.Retries = failures.NO_RETRIES,
    ) -> tuple[list[Move], list[Unplaced]]:
        """Place ``todo``; updates the table and the contexts. With a
        ``repair_budget`` (seconds), what greedy leaves out goes to the
        exact repair step (:mod:`repair`)."""
        placer = placing.Placer(
            self.filters,
            self.weighers,
            table,
            contexts,
            failed,
            banned,
            fair,
            retries,
        )
        left = placer.place(todo)
        if left and repair_budget > 0 and self._modelled(placer):
            left = _repaired(placer, todo, left, repair_budget)
        return placer.moves, placer.explain(left)

    def _modelled(self, placer: placing.Placer) -> bool:
        """Whether the repair step models every filter that changes
        while placing (a plugin's own filter it cannot)."""
        return all(
            type(f) in _MODELLED_FILTERS for f in placer.dynamic_filters
        )


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Python's cycle collector paused while planning.

    A plan allocates a few objects per member, none of them in a cycle
    (reference counting frees them), and the collector, run every few
    hundred allocations, walks the new objects and now and then every
    object (the KB read included): a quarter to a third of the time of
    a 10,000-appliance plan. Garbage cycles made meanwhile by other
    threads wait until the plan is done.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _repaired(
    placer: placing.Placer,
    todo: list[tuple[appliance.Instance, str | None, str]],
    left: list[tuple[appliance.Instance, str | None, str]],
    budget: float,
) -> list[tuple[appliance.Instance, str | None, str]]:
    """What is left unplaced after the repair step; the placer then
    holds the repaired moves (or greedy's, if the repair has none)."""
    table, contexts = placer.table, placer.contexts
    greedy = {m.key: table.index[m.site] for m in placer.moves}
    ordered = placer.units_in_order(todo)
    moves, active = placer.moves, table.active[:]
    used = [row[:] for row in table.used]
    placer.undo()
    members = [
        repair.Member(
            inst,
            [i for i, ok in enumerate(placer.allowed(inst)) if ok],
            greedy.get(inst.key),
            contexts[inst.appliance_id].owner,
            contexts[inst.appliance_id].project,
        )
        for inst, _, _ in ordered
    ]
    chosen = repair.solve(
        table,
        {a: c.constraints for a, c in contexts.items()},
        {a: Counter(c.sites_used) for a, c in contexts.items()},
        members,
        budget,
    )
    if chosen is None:
        for move in moves:
            contexts[move.appliance_id].sites_used[table.index[move.site]] += 1
        table.used[:] = used
        placer.moves = moves
        table.active[:] = active
        placer.rescore()
        return left
    rest = []
    for item in ordered:
        i = chosen.get(item[0].key)
        if i is None:
            rest.append(item)
        else:
            placer.put(item, i)
    return placer.place(rest)


def from_conf(
    conf: Any,
    consolidate: bool = False,
    repair: bool = True,
    cache: specs.SpecCache | None = None,
) -> Planner:
    """The planner ``[analyseplan]filters`` and ``weights`` describe;
    without ``repair``, greedy placing alone. ``cache``: as
    :class:`Planner`'s."""
    chosen = []
    for name in conf.analyseplan.filters:
        cls = plugins.load(
            filters_mod.NAMESPACE, name, '[analyseplan]filters', 'filter'
        )
        chosen.append(cls())
    weighed = []
    for name, value in sorted(conf.analyseplan.weights.items()):
        try:
            multiplier = float(value)
        except ValueError:
            raise exception.ConfigError(
                '[analyseplan]weights: %s:%s is not a number' % (name, value)
            ) from None
        if consolidate:
            # Cost and energy decide alone: spreading load is off.
            multiplier = CONSOLIDATION_WEIGHTS.get(name, 0.0)
        cls = plugins.load(
            weighers_mod.NAMESPACE, name, '[analyseplan]weights', 'weigher'
        )
        weighed.append((cls(conf), multiplier))
    if consolidate and 'marginal_cost' not in conf.analyseplan.weights:
        weighed.append((weighers_mod.MarginalCostWeigher(conf), 1.0))
    planner = Planner(
        chosen, weighed, REPAIR_BUDGET_S if repair else 0.0, cache
    )
    planner.failed_retry_after = conf.analyseplan.failed_site_retry_after
    return planner
