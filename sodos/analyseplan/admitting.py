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

"""The best site that every filter admits a member to.

The planner asks this once per member it places, walking the sites best
first. When the filters that change while placing are shipped ones
(capacity, spread, affinity, failed here), their tests are spelled out
in one loop: the same comparisons as their ``admits``, without a method
call per filter per site tried. Any other filter (a plugin's, the
owners' sharing) is asked through ``admits``.
"""

from __future__ import annotations

from collections.abc import Iterable

from sodos.analyseplan import filters as filters_mod
from sodos.analyseplan.view import SiteTable
from sodos.domain import appliance

_SPELLED_OUT = (
    filters_mod.CapacityFilter,
    filters_mod.SpreadFilter,
    filters_mod.AffinityFilter,
    filters_mod.FailedHereFilter,
)


class Admission:
    def __init__(self, dynamic: list[filters_mod.Filter]) -> None:
        self.dynamic = dynamic
        kinds = {type(f) for f in dynamic}
        # Exact types: a subclass may admit otherwise.
        self.spelled_out = kinds <= set(_SPELLED_OUT)
        self.capacity = filters_mod.CapacityFilter in kinds
        self.spread = filters_mod.SpreadFilter in kinds
        self.affinity = filters_mod.AffinityFilter in kinds
        self.failed_here = filters_mod.FailedHereFilter in kinds

    def admits(
        self,
        table: SiteTable,
        i: int,
        inst: appliance.Instance,
        ctx: filters_mod.Context,
    ) -> bool:
        return all(f.admits(table, i, inst, ctx) for f in self.dynamic)

    def first(
        self,
        table: SiteTable,
        ranked: Iterable[tuple[float, int]],
        mask: list[bool],
        inst: appliance.Instance,
        ctx: filters_mod.Context,
    ) -> int | None:
        """The first site of ``ranked`` ((-score, site) pairs, best
        first) that ``mask`` allows and every filter admits."""
        if not self.spelled_out:
            for _, i in ranked:
                if mask[i] and self.admits(table, i, inst, ctx):
                    return i
            return None
        constraints = ctx.constraints
        keep = 1.0 - constraints.get('headroom_pct', 0) / 100.0
        capacity = self.capacity
        need, used, total = table.need(inst.flavor), table.used, table.total
        sites_used = ctx.sites_used
        spans = sum(1 for n in sites_used.values() if n > 0)
        # Spread: a site the appliance uses is refused while it spans
        # fewer sites than asked; affinity: a site it does not use is
        # refused once it spans one.
        no_used = self.spread and spans < constraints.get('spread', 1)
        only_used = (
            self.affinity and bool(constraints.get('affinity')) and spans > 0
        )
        excluded = ctx.excluded if self.failed_here else ()
        for _, i in ranked:
            if not mask[i]:
                continue
            if capacity:
                u, n, t = used[i], need[i], total[i]
                if not (
                    u[0] + n[0] <= t[0] * keep
                    and u[1] + n[1] <= t[1] * keep
                    and u[2] + n[2] <= t[2] * keep
                ):
                    continue
            if no_used and sites_used.get(i):
                continue
            if only_used and not sites_used.get(i):
                continue
            if i in excluded:
                continue
            return i
        return None
