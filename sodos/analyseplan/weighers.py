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

"""Placement weighers: which of the sites that may take a server is best.

Plugins of ``sodos.analyseplan.weighers``. Each scores all sites at once
in [0, 1] (higher is better); the planner adds the scores, each times
its multiplier from ``[analyseplan]weights``, and takes the best site
(the first in name order on a tie). A ``static`` weigher depends only on
the site table: it is asked once per plan.
"""

from __future__ import annotations

from typing import Any
from typing import ClassVar

from sodos.analyseplan import objective
from sodos.analyseplan.view import SiteTable
from sodos.analyseplan.view import finite

NAMESPACE = 'sodos.analyseplan.weighers'


def _lower_is_better(values: list[float]) -> list[float]:
    top = max(values, default=0.0)
    if top <= 0.0:
        return [0.0] * len(values)
    return [1.0 - v / top for v in values]


class Weigher:
    """Made with the service's ConfigOpts (None in tests and tools)."""

    name: ClassVar[str]
    static: ClassVar[bool] = True
    # True: scored per member with weigh_member(table, vcpus per site).
    needs_member: ClassVar[bool] = False
    # True: a site's score depends on that site's row alone, so placing
    # a server rescores one site, not all (see weigh_at).
    local: ClassVar[bool] = False

    def __init__(self, conf: Any = None) -> None:
        self.conf = conf

    def weigh(self, table: SiteTable) -> list[float]:
        """A score per site, 0 to 1, higher is better."""
        raise NotImplementedError

    def weigh_member(
        self, table: SiteTable, vcpus: list[float]
    ) -> list[float]:
        raise NotImplementedError

    def weigh_at(self, table: SiteTable, i: int) -> float:
        """Site ``i``'s score: what :meth:`weigh` gives it."""
        return self.weigh(table)[i]


class FreeRamWeigher(Weigher):
    """More free RAM is better: spreads load, as Nova's RAM weigher."""

    name = 'free_ram'
    static = False
    local = True

    def weigh(self, table: SiteTable) -> list[float]:
        top = max([total[1] for total in table.total], default=0.0)
        if top <= 0.0:
            return [0.0] * len(table.names)
        # (A site's RAM is at most the top, so the share is at most 1.)
        return [
            share if share > 0.0 else 0.0
            for share in [
                (total[1] - used[1]) / top
                for total, used in zip(table.total, table.used, strict=True)
            ]
        ]

    def weigh_at(self, table: SiteTable, i: int) -> float:
        # The same arithmetic as weigh(): the top is the same for all.
        if table.top_ram <= 0.0:
            return 0.0
        share = (table.total[i][1] - table.used[i][1]) / table.top_ram
        return share if share > 0.0 else 0.0


class CostWeigher(Weigher):
    """A cheaper vCPU hour is better."""

    name = 'cost'

    def weigh(self, table: SiteTable) -> list[float]:
        return _lower_is_better(table.cost)


class EnergyWeigher(Weigher):
    """Less gCO2 per kWh at the plug (grid intensity x PUE) is better."""

    name = 'energy'

    def weigh(self, table: SiteTable) -> list[float]:
        return _lower_is_better(table.energy)


class LatencyWeigher(Weigher):
    """A site whose API answers faster is better (locality)."""

    name = 'latency'

    def weigh(self, table: SiteTable) -> list[float]:
        return _lower_is_better(table.latency)


class PackWeigher(Weigher):
    """A site already hosting sodos servers is better: consolidation
    leaves the others empty, to be powered down."""

    name = 'pack'
    static = False
    local = True

    def weigh(self, table: SiteTable) -> list[float]:
        return [float(active) for active in table.active]

    def weigh_at(self, table: SiteTable, i: int) -> float:
        return float(table.active[i])


class MarginalCostWeigher(Weigher):
    """The cheapest place by :mod:`objective`: the server's vCPU price
    there, plus, at a site that hosts nothing yet, its share of the
    site's energy. With it, a consolidation fills cheap, green sites
    that are on already before it powers up another."""

    name = 'marginal_cost'
    static = False
    needs_member = True

    def __init__(
        self, conf: Any = None, carbon_price: float | None = None
    ) -> None:
        if carbon_price is None:
            carbon_price = conf.analyseplan.carbon_price if conf else 0.1
        self.carbon_price = carbon_price
        self._site_costs: tuple[int, list[float]] | None = None

    def weigh_member(
        self, table: SiteTable, vcpus: list[float]
    ) -> list[float]:
        if self._site_costs is None or self._site_costs[0] != id(table):
            self._site_costs = (
                id(table),
                [
                    objective.site_cost(p, self.carbon_price)
                    for p in table.profiles
                ],
            )
        # Opening a site costs its energy; charged per vCPU of the room it
        # brings, so that a big efficient site is opened before a small
        # one whose first server looks cheaper.
        cost = [
            v * price + (0.0 if active else opening * v / max(total[0], 1.0))
            for v, price, active, opening, total in zip(
                vcpus,
                table.cost,
                table.active,
                self._site_costs[1],
                table.total,
                strict=True,
            )
        ]
        # A site that does not know the flavor (inf vCPUs) scores as
        # nothing; the flavor filter keeps it out anyway.
        return _lower_is_better(finite(cost))
