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

"""The repair step: when greedy placing leaves members out, an exact
placement of the members that need a site (the kept ones stay put).

A mixed-integer program solved by HiGHS (scipy.optimize.milp), imported
here only, so only the site that plans, and only when a plan leaves
members out, pays the solver's memory. The program maximises the
members placed, each weighted 1 + its priority (a member of priority 90
is worth almost two of priority 50); among equal answers it keeps
greedy's sites. Its constraints are the planner's filters:

- a member only at sites its static filters allow (site up, allowed by
  the constraints, image, flavor, not where it failed or was moved from);
- capacity per site and resource, headroom included: for every headroom
  level h of the members there, the members whose headroom is h or more
  fit under (100 - h) % of the total (placed strictest first, each one
  passes the capacity filter);
- spread k: either the appliance spans k sites, or every new member is
  on a site of its own that it did not use (the spread filter's rule);
- affinity: one site for the whole appliance (the one its kept members
  are on, if any).

None when the solver is missing, the problem too big, the time budget
spent before an optimum is proven (greedy stands: the plan must not
depend on the machine's speed), or the optimum is no better than greedy.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from typing import Any

from sodos.analyseplan.view import SiteTable
from sodos.domain import appliance

# Beyond this many (member, site) pairs greedy's answer stands.
MAX_PAIRS = 60_000
MIP_GAP = 0.005
# The last question and its answer.
_LAST: dict[str, dict[str, int] | None] = {}
# What a point of priority adds to a member's worth (1 for any member).
PRIORITY_WEIGHT = 1.0


@dataclasses.dataclass
class Member:
    inst: appliance.Instance
    # Sites its static filters allow.
    sites: list[int]
    # Greedy's site, or None when greedy left it out.
    greedy: int | None


def weight(inst: appliance.Instance) -> float:
    return 1.0 + PRIORITY_WEIGHT * inst.priority


def solve(
    table: SiteTable,
    constraints: dict[str, dict[str, Any]],
    kept: dict[str, Counter[int]],
    members: list[Member],
    time_limit: float,
) -> dict[str, int] | None:
    """Member key -> site index, or None (see the module's doc).

    ``table``: usage with the kept members only; ``constraints``: by
    appliance id; ``kept``: appliance id -> its kept members per site.
    """
    pairs = _pairs(table, constraints, kept, members)
    if not pairs or len(pairs) > MAX_PAIRS:
        return None
    # A federation that cannot place everyone asks the same question
    # every cycle: the last answer is kept, not solved again.
    question = repr(
        (
            [(m.inst, m.sites, m.greedy) for m in members],
            pairs,
            table.used,
            table.total,
            sorted((a, sorted(c.items())) for a, c in kept.items() if c),
            sorted(
                (a, sorted(constraints[a].items()))
                for a in {m.inst.appliance_id for m in members}
            ),
            sorted(
                (f, table.need(f)) for f in {m.inst.flavor for m in members}
            ),
        )
    )
    if question in _LAST:
        return _LAST[question]
    _LAST.clear()
    _LAST[question] = answer = _solve(
        table, constraints, kept, members, pairs, time_limit
    )
    return answer


def _solve(
    table: SiteTable,
    constraints: dict[str, dict[str, Any]],
    kept: dict[str, Counter[int]],
    members: list[Member],
    pairs: list[tuple[int, int]],
    time_limit: float,
) -> dict[str, int] | None:
    try:
        import numpy as np
        from scipy import optimize
        from scipy import sparse
    except ImportError:
        return None
    model = _Model()
    x = [model.var() for _ in pairs]
    cost = {}
    epsilon = 0.5 / (len(members) + 1)
    for v, (m, i) in zip(x, pairs, strict=True):
        member = members[m]
        cost[v] = -weight(member.inst) - (epsilon if member.greedy == i else 0)
    by_member: dict[int, list[int]] = {}
    by_site: dict[int, list[int]] = {}
    by_app: dict[str, list[int]] = {}
    for v, (m, i) in zip(x, pairs, strict=True):
        by_member.setdefault(m, []).append(v)
        by_site.setdefault(i, []).append(v)
        by_app.setdefault(members[m].inst.appliance_id, []).append(v)
    for vs in by_member.values():
        model.row({v: 1.0 for v in vs}, -math.inf, 1.0)
    _capacity(model, table, constraints, members, pairs, x, by_site)
    for appliance_id, vs in sorted(by_app.items()):
        c = constraints[appliance_id]
        used = kept.get(appliance_id) or Counter()
        if c.get('affinity') and not any(used.values()):
            _affinity(model, vs, pairs)
        spread = c.get('spread', 1)
        if spread > 1 and sum(1 for n in used.values() if n) < spread:
            _spread(model, vs, pairs, used, spread)
    n = model.count
    objective = np.zeros(n)
    for v, c_v in cost.items():
        objective[v] = c_v
    matrix = sparse.csr_array(
        (model.vals, (model.rows, model.cols)), shape=(len(model.lo), n)
    )
    result = optimize.milp(
        objective,
        constraints=optimize.LinearConstraint(matrix, model.lo, model.hi),
        integrality=np.ones(n),
        bounds=optimize.Bounds(0, 1),
        # Proven within 0.5 % of the optimum: a gap, unlike a clock, ends
        # the search at the same answer on every machine.
        options={'time_limit': time_limit, 'mip_rel_gap': MIP_GAP},
    )
    if result.status != 0 or result.x is None:
        return None
    chosen = {
        members[m].inst.key: i
        for v, (m, i) in zip(x, pairs, strict=True)
        if result.x[v] > 0.5
    }
    before = sum(weight(m.inst) for m in members if m.greedy is not None)
    after = sum(weight(m.inst) for m in members if m.inst.key in chosen)
    return chosen if after > before else None


class _Model:
    """A sparse constraint matrix, a row at a time."""

    def __init__(self) -> None:
        self.count = 0
        self.rows: list[int] = []
        self.cols: list[int] = []
        self.vals: list[float] = []
        self.lo: list[float] = []
        self.hi: list[float] = []

    def var(self) -> int:
        self.count += 1
        return self.count - 1

    def row(self, coefs: dict[int, float], lo: float, hi: float) -> None:
        r = len(self.lo)
        for col, val in coefs.items():
            self.rows.append(r)
            self.cols.append(col)
            self.vals.append(val)
        self.lo.append(lo)
        self.hi.append(hi)


def _keep(constraints: dict[str, Any]) -> float:
    return 1.0 - constraints.get('headroom_pct', 0) / 100.0


def _pairs(
    table: SiteTable,
    constraints: dict[str, dict[str, Any]],
    kept: dict[str, Counter[int]],
    members: list[Member],
) -> list[tuple[int, int]]:
    """(member, site) pairs worth a variable: allowed, and with room for
    the member alone; with affinity, only its kept members' sites."""
    pairs = []
    for m, member in enumerate(members):
        c = constraints[member.inst.appliance_id]
        keep = _keep(c)
        together = {
            i
            for i, n in (kept.get(member.inst.appliance_id) or {}).items()
            if n
        }
        needs = table.need(member.inst.flavor)
        for i in member.sites:
            if c.get('affinity') and together and i not in together:
                continue
            if all(
                u + n <= t * keep
                for u, n, t in zip(
                    table.used[i], needs[i], table.total[i], strict=True
                )
            ):
                pairs.append((m, i))
    return pairs


def _capacity(
    model: _Model,
    table: SiteTable,
    constraints: dict[str, dict[str, Any]],
    members: list[Member],
    pairs: list[tuple[int, int]],
    x: list[int],
    by_site: dict[int, list[int]],
) -> None:
    pair_of = dict(zip(x, pairs, strict=True))
    for i, vs in sorted(by_site.items()):
        levels = sorted(
            {
                _keep(constraints[members[pair_of[v][0]].inst.appliance_id])
                for v in vs
            }
        )
        for keep in levels:
            # The members whose headroom is at least this level's.
            strict = [
                v
                for v in vs
                if _keep(constraints[members[pair_of[v][0]].inst.appliance_id])
                <= keep
            ]
            for r in range(3):
                room = table.total[i][r] * keep - table.used[i][r]
                coefs = {
                    v: table.need(members[pair_of[v][0]].inst.flavor)[i][r]
                    for v in strict
                }
                if sum(coefs.values()) > room:
                    model.row(coefs, -math.inf, room)


def _affinity(
    model: _Model, vs: list[int], pairs: list[tuple[int, int]]
) -> None:
    site_var: dict[int, int] = {}
    for v in vs:
        i = pairs[v][1]
        if i not in site_var:
            site_var[i] = model.var()
        model.row({v: 1.0, site_var[i]: -1.0}, -math.inf, 0.0)
    model.row({s: 1.0 for s in site_var.values()}, -math.inf, 1.0)


def _spread(
    model: _Model,
    vs: list[int],
    pairs: list[tuple[int, int]],
    used: Counter[int],
    spread: int,
) -> None:
    new_at: dict[int, list[int]] = {}
    for v in vs:
        new_at.setdefault(pairs[v][1], []).append(v)
    spans = model.var()  # 1: the appliance spans `spread` sites
    big = float(len(vs))
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
            coefs[spans] = -big
            model.row(coefs, -math.inf, room)
    coefs = {h: 1.0 for h in hosts}
    coefs[spans] = -float(spread)
    model.row(coefs, 0.0, math.inf)
