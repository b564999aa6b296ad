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

"""Placement filters: which sites may take a server.

Plugins of ``sodos.analyseplan.filters``. Each answers for all sites at
once (a boolean array in the order of :class:`SiteTable`), and says why
it refused one site when the planner explains an unplaced member. A
filter marked ``static`` depends only on the site table and on the
member's appliance, image and flavor: the planner asks it once per such
combination, not once per member.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from typing import Any
from typing import ClassVar

from sodos.analyseplan.view import RESOURCES
from sodos.analyseplan.view import SiteTable
from sodos.analyseplan.view import utc
from sodos.domain import appliance

NAMESPACE = 'sodos.analyseplan.filters'


@dataclasses.dataclass
class Context:
    """One appliance while its members are being placed."""

    appliance_id: str
    constraints: dict[str, Any]
    # Site index -> members of this appliance placed there (so far).
    sites_used: Counter[int]
    # Sites where this member's server failed for good.
    excluded: frozenset[int] = frozenset()
    # The appliance's owner (sodos.domain.community: '' for none) and
    # project, for the owners' sharing policies.
    owner: str = ''
    project: str | None = None
    # Of the excluded sites, the ones it will be tried at again, and
    # from when ([analyseplan]failed_site_retry_after): for the unplaced
    # reason.
    retry_at: dict[int, float] = dataclasses.field(default_factory=dict)

    def copy(self) -> Context:
        """A copy whose sites used can change without touching this one."""
        used = Counter.__new__(Counter)
        dict.update(used, self.sites_used)
        return Context(
            self.appliance_id,
            self.constraints,
            used,
            self.excluded,
            self.owner,
            self.project,
            dict(self.retry_at),
        )


class Filter:
    name: ClassVar[str]
    static: ClassVar[bool] = False

    def mask(
        self, table: SiteTable, inst: appliance.Instance, ctx: Context
    ) -> list[bool] | None:
        """Sites that pass, one boolean per site; None when every site
        passes (the planner's inner loop saves building a list)."""
        raise NotImplementedError

    def applies(self, table: SiteTable) -> bool:
        """Whether this filter has anything to say of ``table``'s sites;
        one that has not is left out of the plan."""
        return True

    def admits(
        self, table: SiteTable, i: int, inst: appliance.Instance, ctx: Context
    ) -> bool:
        """Whether site ``i`` passes: the planner asks this of the best
        sites first and stops at the first that every filter admits, so
        the shipped dynamic filters answer it without building a mask."""
        passed = self.mask(table, inst, ctx)
        return passed is None or passed[i]

    def why(
        self, table: SiteTable, i: int, inst: appliance.Instance, ctx: Context
    ) -> str:
        return self.name


class SiteUpFilter(Filter):
    name = 'site_up'
    static = True

    def mask(
        self, table: SiteTable, inst: appliance.Instance, ctx: Context
    ) -> list[bool] | None:
        return table.usable

    def why(
        self, table: SiteTable, i: int, inst: appliance.Instance, ctx: Context
    ) -> str:
        return table.status[i]


class ConstraintsFilter(Filter):
    """Allowed sites, regions and labels (jurisdiction)."""

    name = 'constraints'
    static = True

    def mask(
        self, table: SiteTable, inst: appliance.Instance, ctx: Context
    ) -> list[bool] | None:
        return [
            appliance.allows(ctx.constraints, name, table.profiles[i])
            for i, name in enumerate(table.names)
        ]

    def why(
        self, table: SiteTable, i: int, inst: appliance.Instance, ctx: Context
    ) -> str:
        return 'not allowed by the constraints (sites, regions, labels)'


class ImageFilter(Filter):
    """The member's image is at the site, or registered in the KB and
    copyable there (some up site holds it): the copy goes first, the
    server is built once the image has arrived."""

    name = 'image'
    static = True

    def mask(
        self, table: SiteTable, inst: appliance.Instance, ctx: Context
    ) -> list[bool] | None:
        return [table.image_ok(i, inst.image) for i in range(len(table.names))]

    def why(
        self, table: SiteTable, i: int, inst: appliance.Instance, ctx: Context
    ) -> str:
        if inst.image in table.copyable:
            return 'image %s cannot be copied here (failed here before)' % (
                inst.image
            )
        # Not registered, or no up site with an image relay holds it.
        return 'image %s not present' % inst.image


class FlavorFilter(Filter):
    name = 'flavor'
    static = True

    def mask(
        self, table: SiteTable, inst: appliance.Instance, ctx: Context
    ) -> list[bool] | None:
        return [
            all(math.isfinite(x) for x in need)
            for need in table.need(inst.flavor)
        ]

    def why(
        self, table: SiteTable, i: int, inst: appliance.Instance, ctx: Context
    ) -> str:
        return 'flavor %s unknown' % inst.flavor


class CapacityFilter(Filter):
    """Room for the flavor, keeping the appliance's headroom free."""

    name = 'capacity'

    def mask(
        self, table: SiteTable, inst: appliance.Instance, ctx: Context
    ) -> list[bool] | None:
        keep = 1.0 - ctx.constraints.get('headroom_pct', 0) / 100.0
        # Spelled out per resource: the planner's innermost loop.
        return [
            u[0] + n[0] <= t[0] * keep
            and u[1] + n[1] <= t[1] * keep
            and u[2] + n[2] <= t[2] * keep
            for u, n, t in zip(
                table.used, table.need(inst.flavor), table.total, strict=True
            )
        ]

    def admits(
        self, table: SiteTable, i: int, inst: appliance.Instance, ctx: Context
    ) -> bool:
        keep = 1.0 - ctx.constraints.get('headroom_pct', 0) / 100.0
        u, n, t = table.used[i], table.need(inst.flavor)[i], table.total[i]
        return (
            u[0] + n[0] <= t[0] * keep
            and u[1] + n[1] <= t[1] * keep
            and u[2] + n[2] <= t[2] * keep
        )

    def why(
        self, table: SiteTable, i: int, inst: appliance.Instance, ctx: Context
    ) -> str:
        keep = 1.0 - ctx.constraints.get('headroom_pct', 0) / 100.0
        need = table.need(inst.flavor)[i]
        for j, res in enumerate(RESOURCES):
            free = table.total[i][j] * keep - table.used[i][j]
            if need[j] > free:
                return 'no room for %s (%s: needs %g, %g free)' % (
                    inst.flavor,
                    res,
                    need[j],
                    max(free, 0.0),
                )
        return 'no room for %s' % inst.flavor


class SpreadFilter(Filter):
    """Anti-affinity: until the appliance spans ``spread`` sites, each
    new member goes to a site it does not use yet."""

    name = 'spread'

    def mask(
        self, table: SiteTable, inst: appliance.Instance, ctx: Context
    ) -> list[bool] | None:
        used = [i for i, n in ctx.sites_used.items() if n > 0]
        if not used or len(used) >= ctx.constraints.get('spread', 1):
            return None
        taken = set(used)
        return [i not in taken for i in range(len(table.names))]

    def admits(
        self, table: SiteTable, i: int, inst: appliance.Instance, ctx: Context
    ) -> bool:
        if not ctx.sites_used.get(i):
            return True
        spans = sum(1 for n in ctx.sites_used.values() if n > 0)
        return spans >= ctx.constraints.get('spread', 1)

    def why(
        self, table: SiteTable, i: int, inst: appliance.Instance, ctx: Context
    ) -> str:
        return 'already hosts a member (spread %d)' % (
            ctx.constraints.get('spread', 1)
        )


class AffinityFilter(Filter):
    name = 'affinity'

    def mask(
        self, table: SiteTable, inst: appliance.Instance, ctx: Context
    ) -> list[bool] | None:
        if not ctx.constraints.get('affinity'):
            return None
        used = [i for i, n in ctx.sites_used.items() if n > 0]
        if not used:
            return None
        taken = set(used)
        return [i in taken for i in range(len(table.names))]

    def admits(
        self, table: SiteTable, i: int, inst: appliance.Instance, ctx: Context
    ) -> bool:
        if not ctx.constraints.get('affinity') or ctx.sites_used.get(i):
            return True
        return not any(n > 0 for n in ctx.sites_used.values())

    def why(
        self, table: SiteTable, i: int, inst: appliance.Instance, ctx: Context
    ) -> str:
        return 'affinity: the other members are elsewhere'


class FailedHereFilter(Filter):
    """A site where this member's server failed for good (no valid host,
    quota) is not tried again, or not before
    ``[analyseplan]failed_site_retry_after`` seconds."""

    name = 'failed_here'

    def mask(
        self, table: SiteTable, inst: appliance.Instance, ctx: Context
    ) -> list[bool] | None:
        if not ctx.excluded:
            return None
        return [i not in ctx.excluded for i in range(len(table.names))]

    def admits(
        self, table: SiteTable, i: int, inst: appliance.Instance, ctx: Context
    ) -> bool:
        return i not in ctx.excluded

    def why(
        self, table: SiteTable, i: int, inst: appliance.Instance, ctx: Context
    ) -> str:
        retry_at = ctx.retry_at.get(i)
        if retry_at is None:
            return 'the server failed there before'
        return 'the server failed there; tried there again after %s' % (
            utc(retry_at)
        )


def shipped() -> list[Filter]:
    """Every filter sodos ships, in the default [analyseplan]filters
    order: for tools and tests that build a planner without a config."""
    return [
        SiteUpFilter(),
        ConstraintsFilter(),
        ImageFilter(),
        FlavorFilter(),
        CapacityFilter(),
        SpreadFilter(),
        AffinityFilter(),
        FailedHereFilter(),
    ]


def why_nowhere(
    chosen: list[Filter],
    table: SiteTable,
    inst: appliance.Instance,
    ctx: Context,
) -> str:
    """Why no site takes ``inst``: each site with the first of ``chosen``
    that refuses it there, at most 900 characters."""
    if not table.names:
        return 'the federation has no site'
    masks = [(f, f.mask(table, inst, ctx)) for f in chosen]
    reasons = []
    for i, name in enumerate(table.names):
        for f, mask in masks:
            if mask is not None and not mask[i]:
                reasons.append('%s: %s' % (name, f.why(table, i, inst, ctx)))
                break
    text = '; '.join(reasons)
    return text if len(text) <= 900 else text[:897] + '...'
