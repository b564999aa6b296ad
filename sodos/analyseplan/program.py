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

"""The repair step's mixed-integer program (:mod:`repair`): a sparse
model built a row at a time, the rows of the planner's dynamic filters
(capacity with headroom, owners' lending, affinity, spread) over
integer variables that count members at a site, and its solution by
HiGHS (scipy.optimize.milp, imported when solving only)."""

from __future__ import annotations

import math
from collections import Counter

from sodos.analyseplan.sharing import Ledger
from sodos.analyseplan.view import SiteTable

MIP_GAP = 0.005
# Nodes of the branch and bound after which the best answer found is
# taken.
NODE_LIMIT = 2000


class Model:
    """A sparse constraint matrix, a row at a time."""

    def __init__(self) -> None:
        self.count = 0
        self.continuous: set[int] = set()
        self.rows: list[int] = []
        self.cols: list[int] = []
        self.vals: list[float] = []
        self.lo: list[float] = []
        self.hi: list[float] = []

    def var(self, continuous: bool = False) -> int:
        self.count += 1
        if continuous:
            self.continuous.add(self.count - 1)
        return self.count - 1

    def row(self, coefs: dict[int, float], lo: float, hi: float) -> None:
        r = len(self.lo)
        for col, val in coefs.items():
            self.rows.append(r)
            self.cols.append(col)
            self.vals.append(val)
        self.lo.append(lo)
        self.hi.append(hi)


def run(
    model: Model,
    cost: dict[int, float],
    upper: dict[int, float],
    time_limit: float,
) -> dict[int, int] | None:
    """The model's integer answer minimising ``cost``, or None."""
    import numpy as np
    from scipy import optimize
    from scipy import sparse

    n = model.count
    objective = np.zeros(n)
    for v, c_v in cost.items():
        objective[v] = c_v
    high = np.ones(n)
    for v, u in upper.items():
        high[v] = u
    matrix = sparse.csr_array(
        (model.vals, (model.rows, model.cols)), shape=(len(model.lo), n)
    )
    result = optimize.milp(
        objective,
        constraints=optimize.LinearConstraint(matrix, model.lo, model.hi),
        integrality=[0 if v in model.continuous else 1 for v in range(n)],
        bounds=optimize.Bounds(np.zeros(n), high),
        # Proven within MIP_GAP of the optimum, or the best found in
        # NODE_LIMIT nodes: unlike a clock, both end the search at the
        # same answer on every machine. The time limit only guards
        # against a machine so slow that the node limit takes too long;
        # its answer is not taken (it would depend on the machine).
        options={
            'time_limit': time_limit,
            'mip_rel_gap': MIP_GAP,
            'node_limit': NODE_LIMIT,
        },
    )
    if result.x is None:
        return None
    if result.status != 0 and (result.mip_node_count or 0) < NODE_LIMIT:
        return None
    return {
        v: int(round(result.x[v])) for v in upper if v not in model.continuous
    }


def capacity(
    model: Model,
    table: SiteTable,
    by_site: dict[int, list[int]],
    needs: dict[int, list[float]],
    keeps: dict[int, float],
    upper: dict[int, float],
) -> None:
    """Per site and resource, headroom included: for every headroom
    level of the variables there, those whose level is as strict or
    stricter fit under that share of the total."""
    for i, vs in sorted(by_site.items()):
        for level in sorted({keeps[v] for v in vs}):
            strict = [v for v in vs if keeps[v] <= level]
            for r in range(3):
                room = table.total[i][r] * level - table.used[i][r]
                coefs = {v: needs[v][r] for v in strict}
                if sum(c * upper[v] for v, c in coefs.items()) > room:
                    model.row(coefs, -math.inf, room)


def lending(
    model: Model,
    ledger: Ledger,
    by_site: dict[int, list[int]],
    needs: dict[int, list[float]],
    guests: set[int],
    upper: dict[int, float],
) -> None:
    """Guests' servers within what each site's owner lends (the sharing
    filter's room); ``guests``: the variables of guests there."""
    for i, vs in sorted(by_site.items()):
        lend = ledger.lend[i]
        theirs = [v for v in vs if v in guests]
        if lend is None or not theirs:
            continue
        for r in range(2):
            room = lend[r] - ledger.guests[i][r]
            coefs = {v: needs[v][r] for v in theirs}
            if sum(c * upper[v] for v, c in coefs.items()) > room:
                model.row(coefs, -math.inf, room)


def affinity(
    model: Model,
    vs: list[int],
    site_of: dict[int, int],
    upper: dict[int, float],
) -> None:
    site_var: dict[int, int] = {}
    for v in vs:
        i = site_of[v]
        if i not in site_var:
            site_var[i] = model.var()
        model.row({v: 1.0, site_var[i]: -upper[v]}, -math.inf, 0.0)
    model.row({s: 1.0 for s in site_var.values()}, -math.inf, 1.0)


def spread(
    model: Model,
    vs: list[int],
    site_of: dict[int, int],
    used: Counter[int],
    spread: int,
    size: float,
) -> None:
    new_at: dict[int, list[int]] = {}
    for v in vs:
        new_at.setdefault(site_of[v], []).append(v)
    spans = model.var()  # 1: the appliance spans `spread` sites
    hosts = []
    for i in sorted(set(new_at) | {i for i, n in used.items() if n}):
        new = new_at.get(i, [])
        host = model.var()  # 1 only if site i hosts a member
        hosts.append(host)
        coefs = {host: 1.0}
        coefs.update({v: -1.0 for v in new})
        model.row(coefs, -math.inf, float(used.get(i, 0)))
        if new:
            # Until it spans: one new member per site it did not use.
            room = 0.0 if used.get(i, 0) else 1.0
            coefs = {v: 1.0 for v in new}
            coefs[spans] = -size
            model.row(coefs, -math.inf, room)
    coefs = {h: 1.0 for h in hosts}
    coefs[spans] = -float(spread)
    model.row(coefs, 0.0, math.inf)
