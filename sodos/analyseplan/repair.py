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

A mixed-integer program (:mod:`program`) solved by HiGHS
(scipy.optimize.milp), imported only then, so only the site that plans,
and only when a plan leaves members out, pays the solver's memory.
Members of one appliance with the same flavor and allowed sites are
interchangeable: one integer variable counts them at a site.

Two aims pull apart. Each member is worth 1 + its priority; the most
worth alone leaves many small members out for one large one of a
little more priority, the most members alone gives up a large member
of high priority for two small ones. So the most worth (W) and the
most members (N) are each solved for; the most members stand when
they carry at least 98 % of W, otherwise the answer is the one whose
lower share of N and of W is highest. Among equal answers greedy's
sites are kept. The constraints are the planner's filters:

- a member only at sites its static filters allow (site up, allowed by
  the constraints, image, flavor, not where it failed or was moved from)
  and whose owner admits it (sharing);
- capacity per site and resource, headroom included: for every headroom
  level h of the members there, the members whose headroom is h or more
  fit under (100 - h) % of the total (placed strictest first, each one
  passes the capacity filter);
- guests within what a site's owner lends;
- spread k: either the appliance spans k sites, or every new member is
  on a site of its own that it did not use (the spread filter's rule);
- affinity: one site for the whole appliance (the one its kept members
  are on, if any).

A solve ends when proven within 0.5 % of its optimum or after a number
of branch-and-bound nodes (its best answer then): both give the same
answer on every machine. The time budget is for each solve (a guard:
on a machine too slow for the node limit, the later solves fall back
to the better balanced answer found). None when the solver is missing,
the problem too big, the budget spent before the first solve ends
(greedy stands: the plan must not depend on the machine's speed), or
the answer is no better than greedy's in members placed or in worth.
The budget stretches with the machine's load (:func:`stretched`), so
that a busy planner reaches the node limit as an idle one does.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections import Counter
from typing import Any

from sodos.analyseplan import program
from sodos.analyseplan.sharing import Ledger
from sodos.analyseplan.view import SiteTable
from sodos.domain import appliance
from sodos.domain import community

# Beyond this many (member, site) pairs greedy's answer stands.
MAX_PAIRS = 60_000
# The last question and its answer.
_LAST: dict[str, dict[str, int] | None] = {}
# At most this many times the budget on a busy machine.
MAX_STRETCH = 2.0
# What a point of priority adds to a member's worth (1 for any member).
PRIORITY_WEIGHT = 1.0
# The share of the most priority-weighted worth the repair may give up
# to place more members.
PRIORITY_SLACK = 0.02


@dataclasses.dataclass
class Member:
    inst: appliance.Instance
    # Sites its static filters allow.
    sites: list[int]
    # Greedy's site, or None when greedy left it out.
    greedy: int | None
    # Its appliance's owner ('' for none) and project, for the sites'
    # owners' sharing policies.
    owner: str = ''
    project: str | None = None


def weight(inst: appliance.Instance) -> float:
    return 1.0 + PRIORITY_WEIGHT * inst.priority


def stretched(seconds: float) -> float:
    """``seconds`` of a core's time as wall-clock seconds on this machine
    now: a machine whose run queue holds k processes a core gives a solve
    about 1/k of one, so the guard is k times longer (at most
    :data:`MAX_STRETCH` times: a cycle must still end)."""
    try:
        load = os.getloadavg()[0] / (os.cpu_count() or 1)
    except OSError:
        return seconds
    return seconds * min(MAX_STRETCH, max(1.0, load))


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
            [(m.inst, m.sites, m.greedy, m.owner, m.project) for m in members],
            pairs,
            table.used,
            # Who owns each site, what it lends, what guests use of it.
            table.sharing
            and (table.sharing.host, table.sharing.lend, table.sharing.guests),
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
        table, constraints, kept, members, pairs, stretched(time_limit)
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
        import scipy.optimize  # noqa: F401
    except ImportError:
        return None
    # Members of one appliance with the same flavor and the same allowed
    # sites are interchangeable: one integer variable per (group, site)
    # counts them, so the solver does not try every permutation of them.
    groups: dict[tuple[str, str, tuple[int, ...]], list[int]] = {}
    for m, member in enumerate(members):
        inst = member.inst
        key = (inst.appliance_id, inst.flavor, tuple(member.sites))
        groups.setdefault(key, []).append(m)
    group_of = {m: g for g, ms in enumerate(groups.values()) for m in ms}
    lists = list(groups.values())
    model = program.Model()
    cells: dict[tuple[int, int], int] = {}
    upper: dict[int, float] = {}
    cost: dict[int, float] = {}
    epsilon = 0.5 / (len(members) + 1)
    for m, i in pairs:
        g = group_of[m]
        if (g, i) in cells:
            continue
        v = cells[g, i] = model.var()
        ms = lists[g]
        upper[v] = float(
            min(len(ms), _fits(table, constraints, members[m], i))
        )
        greedy_here = any(members[n].greedy == i for n in ms)
        cost[v] = -weight(members[m].inst) - (epsilon if greedy_here else 0)
    by_group: dict[int, list[int]] = {}
    by_site: dict[int, list[int]] = {}
    by_app: dict[str, list[int]] = {}
    site_of: dict[int, int] = {}
    lead: dict[int, Member] = {}
    for (g, i), v in cells.items():
        by_group.setdefault(g, []).append(v)
        by_site.setdefault(i, []).append(v)
        by_app.setdefault(members[lists[g][0]].inst.appliance_id, []).append(v)
        site_of[v] = i
        lead[v] = members[lists[g][0]]
    for g, vs in by_group.items():
        if sum(upper[v] for v in vs) > len(lists[g]):
            model.row({v: 1.0 for v in vs}, -math.inf, float(len(lists[g])))
    needs = {v: table.need(lead[v].inst.flavor)[site_of[v]] for v in lead}
    keeps = {v: _keep(constraints[lead[v].inst.appliance_id]) for v in lead}
    program.capacity(model, table, by_site, needs, keeps, upper)
    ledger = table.sharing
    if ledger is not None:
        guests = {
            v for v in lead if ledger.is_guest(site_of[v], lead[v].owner)
        }
        program.lending(model, ledger, by_site, needs, guests, upper)
    for appliance_id, vs in sorted(by_app.items()):
        c = constraints[appliance_id]
        used = kept.get(appliance_id) or Counter()
        size = sum(upper[v] for v in vs)
        if c.get('affinity') and not any(used.values()):
            program.affinity(model, vs, site_of, upper)
        spread = c.get('spread', 1)
        if spread > 1 and sum(1 for n in used.values() if n) < spread:
            program.spread(model, vs, site_of, used, spread, size)
    # Two aims that pull apart: the most priority-weighted worth leaves
    # many small members out for one large one of a little more
    # priority, the most members drops a large one of high priority for
    # two small ones. Each is solved alone (W, N); when the most members
    # also carry nearly the most worth, that answer stands, else the
    # answer is the one whose worse share of the two bests is best.
    worth = {v: weight(lead[v].inst) for v in cells.values()}
    most_worth = program.run(model, cost, upper, time_limit)
    if most_worth is None:
        return None
    w_best = _worth_of(most_worth, worth)
    total = sum(worth[v] * upper[v] for v in worth) + 1.0
    # cost[v] + worth[v]: minus the nudge toward greedy's sites.
    nudge = {v: 0.25 * (cost[v] + worth[v]) for v in cost}
    by_count = {v: -1.0 - 0.5 * worth[v] / total + nudge[v] for v in cost}
    most = program.run(model, by_count, upper, time_limit) or most_worth
    counts = most
    if _worth_of(most, worth) < w_best * (1 - PRIORITY_SLACK):
        counts = _balanced(
            model, worth, nudge, upper, most_worth, most, time_limit
        )
    chosen: dict[str, int] = {}
    for g, ms in enumerate(lists):
        free = {
            site_of[v]: counts[v] for v in by_group.get(g, []) if counts[v]
        }
        rest = []
        for m in ms:  # greedy's site where the answer has room for it
            was = members[m].greedy
            if was is not None and free.get(was, 0) > 0:
                chosen[members[m].inst.key] = was
                free[was] -= 1
            else:
                rest.append(m)
        sites = [i for i in sorted(free) for _ in range(free[i])]
        for m, i in zip(rest, sites, strict=False):
            chosen[members[m].inst.key] = i
    greedy = [m.inst for m in members if m.greedy is not None]
    ours = [m.inst for m in members if m.inst.key in chosen]
    if (len(ours), _worth(ours)) > (len(greedy), _worth(greedy)) or (
        _worth(ours) > _worth(greedy)
    ):
        return chosen
    return None


def _worth_of(answer: dict[int, int], worth: dict[int, float]) -> float:
    return sum(worth[v] * answer[v] for v in worth)


def _balanced(
    model: program.Model,
    worth: dict[int, float],
    nudge: dict[int, float],
    upper: dict[int, float],
    most_worth: dict[int, int],
    most: dict[int, int],
    time_limit: float,
) -> dict[int, int]:
    """The answer whose lower share of the most members (``most``'s)
    and of the most worth (``most_worth``'s) is highest; ties: the more
    of both. Out of time: the better of those two."""
    n_best = sum(most.values())
    w_best = _worth_of(most_worth, worth)

    def share(answer: dict[int, int]) -> float:
        placed = sum(answer.values()) / n_best
        return min(placed, _worth_of(answer, worth) / w_best)

    t = model.var(continuous=True)
    model.row({**dict.fromkeys(worth, 1.0), t: -n_best}, 0.0, math.inf)
    model.row({**worth, t: -w_best}, 0.0, math.inf)
    cost = {
        v: -(1.0 / n_best + worth[v] / w_best) / (n_best + 1) + nudge[v]
        for v in worth
    }
    cost[t] = -1.0
    found = program.run(model, cost, {**upper, t: 1.0}, time_limit)
    return found or max((most_worth, most), key=share)


def _worth(insts: list[appliance.Instance]) -> float:
    return sum(weight(inst) for inst in insts)


def _fits(
    table: SiteTable,
    constraints: dict[str, dict[str, Any]],
    member: Member,
    i: int,
) -> int:
    """How many servers like ``member`` site ``i`` has room for."""
    keep = _keep(constraints[member.inst.appliance_id])
    needs = table.need(member.inst.flavor)[i]
    most = len(table.names) and 10**6
    for u, n, t in zip(table.used[i], needs, table.total[i], strict=True):
        if n > 0:
            most = min(most, math.floor((t * keep - u) / n + 1e-9))
    return max(most, 0)


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
    ledger = table.sharing
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
            if ledger is not None and not _admitted(ledger, member, i):
                continue
            if all(
                u + n <= t * keep
                for u, n, t in zip(
                    table.used[i], needs[i], table.total[i], strict=True
                )
            ):
                pairs.append((m, i))
    return pairs


def _admitted(ledger: Ledger, member: Member, i: int) -> bool:
    """Whether site ``i``'s owner admits ``member`` at all."""
    host = ledger.host[i]
    return host is None or community.admits(
        ledger.policy[i], host, member.owner, member.project
    )
