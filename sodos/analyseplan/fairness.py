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

"""The order owners are served in under contention: fair share.

Each owner is entitled to its contribution (the vCPUs of its sites) or
to the weight the federation admin gave it (:mod:`sodos.domain.
fairshare`). Its usage is its decayed mean usage as the KB records it
(``owners.<owner>.usage.mean``, vCPUs) plus the vCPUs its members hold
now, kept and placed in this plan. The placer takes the next appliance
from the owner of highest fair-share factor, recomputed after every
appliance placed, so owners in contention take turns by entitlement.

Ties (equal factors) go to the owner whose next appliance comes first
in the placer's own order, then by owner name: the same KB gives the
same order on every member. Appliances of no owner are entitled to
nothing and come last. A federation whose sites name no owner has no
fair share: the placer's order stands as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

from sodos.analyseplan.view import SiteTable
from sodos.analyseplan.view import finite
from sodos.domain import community
from sodos.domain import fairshare


class FairShare:
    def __init__(self, kb: dict[str, Any], table: SiteTable) -> None:
        sites = kb.get('sites', {})
        owners = kb.get('owners') or {}
        contributions: dict[str, float] = {}
        for i, name in enumerate(table.names):
            owner = community.site_owner(sites[name])
            if owner:
                contributions[owner] = (
                    contributions.get(owner, 0.0) + table.total[i][0]
                )
        for owner in owners:
            contributions.setdefault(owner, 0.0)
        weights = {
            o: community.policy_of(owners, o).get('weight') for o in owners
        }
        self.entitled = fairshare.entitlements(contributions, weights)
        self.usage: dict[str, float] = {
            o: float(((owners.get(o) or {}).get('usage') or {}).get('mean', 0))
            for o in self.entitled
        }

    def add(self, owner: str, vcpus: float) -> None:
        """Count ``vcpus`` more (or fewer, negative) in use by ``owner``."""
        if owner in self.usage:
            self.usage[owner] += vcpus

    def factors(self) -> dict[str, float]:
        return fairshare.factors(self.entitled, self.usage)

    def order(
        self,
        units: dict[str, str],
        rank: Callable[[str], Any],
    ) -> Iterator[str]:
        """The appliance ids of ``units`` (id -> its owner), the owner
        of highest factor first; read lazily, as the usage grows with
        each appliance placed."""
        queues: dict[str, list[str]] = {}
        for appliance_id in sorted(units, key=rank, reverse=True):
            queues.setdefault(units[appliance_id], []).append(appliance_id)
        while queues:
            factors = self.factors()
            owner = min(
                queues,
                key=lambda o: (-factors.get(o, 0.0), rank(queues[o][-1]), o),
            )
            queue = queues[owner]
            yield queue.pop()
            if not queue:
                del queues[owner]


def fair_share(kb: dict[str, Any], table: SiteTable) -> FairShare | None:
    """The fair share of ``kb``; None without owned sites."""
    return FairShare(kb, table) if table.sharing is not None else None


def count(
    table: SiteTable,
    fair: FairShare | None,
    i: int,
    owner: str,
    flavor: str,
    sign: int,
) -> None:
    """Count a server of ``owner`` of ``flavor`` at site ``i`` in the
    table's sharing ledger and in ``fair``; a flavor the site does not
    know counts as nothing (a kept member the site reports no more)."""
    need = finite(table.need(flavor)[i])
    if table.sharing is not None:
        table.sharing.add(i, owner, need, sign)
    if fair is not None:
        fair.add(owner, sign * need[0])
