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

"""The reference for the planner's placement quality: an exact MILP
(scipy's HiGHS), written from the KB and the planner's documented rules,
not from the planner's code.

Rules: a member goes to a site that is up and not failed, that its
appliance's constraints allow, that has its image and knows its flavor;
per site and resource, for every headroom level h of the members placed
there, the kept usage plus the members whose headroom is h or more fit
under (100 - h) % of the total; an appliance with spread k spans k sites
or puts each new member alone on a site it did not use; one with
affinity is on one site (its kept members' one, if any). Kept members
stay where they are.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import optimize
from scipy import sparse

from sodos.domain import appliance

RESOURCES = (('vcpu', 'vcpus'), ('ram_mb', 'ram_mb'), ('disk_gb', 'disk_gb'))


def best(
    kb: dict[str, Any],
    members: dict[str, tuple[appliance.Instance, dict[str, Any]]],
    kept: dict[str, str],
    pending: list[str],
    weights: dict[str, float],
    down: frozenset[str] = frozenset(),
    must: frozenset[str] = frozenset(),
) -> tuple[float, dict[str, str]] | None:
    """The most weight of ``pending`` members placed, with their sites;
    None when ``must`` cannot all be placed.

    ``members``: key -> (instance, its appliance's constraints);
    ``kept``: key -> site, fixed; ``down``: sites that take nothing.
    """
    sites = sorted(n for n, s in kb['sites'].items() if s['status'] == 'up')
    sites = [s for s in sites if s not in down]
    summary = {s: kb['monitoring'][s]['summary'] for s in sites}
    base = {
        s: [summary[s]['capacity'][r]['used'] for r, _ in RESOURCES]
        for s in sites
    }
    for key, s in kept.items():
        # Kept, not built (no server reported): its room is taken.
        if s in base and key not in summary[s].get('servers', {}):
            flavor = summary[s]['flavors'][members[key][0].flavor]
            base[s] = [
                u + flavor[f]
                for u, (_, f) in zip(base[s], RESOURCES, strict=True)
            ]
    by_app_kept: dict[str, dict[str, int]] = {}
    for key, s in kept.items():
        counts = by_app_kept.setdefault(members[key][0].appliance_id, {})
        counts[s] = counts.get(s, 0) + 1
    pairs = []
    for key in pending:
        inst, c = members[key]
        together = by_app_kept.get(inst.appliance_id, {})
        for s in sites:
            profile = kb['sites'][s]['info']['profile']
            if not appliance.allows(c, s, profile):
                continue
            if inst.image not in summary[s]['images']:
                continue
            if inst.flavor not in summary[s]['flavors']:
                continue
            if c['affinity'] and together and s not in together:
                continue
            pairs.append((key, s))
    n_x = len(pairs)
    extra = 0
    rows: list[tuple[dict[int, float], float, float]] = []
    for key in pending:
        cols = {v: 1.0 for v, (k, _) in enumerate(pairs) if k == key}
        if key in must and not cols:
            return None
        if cols:
            rows.append((cols, 1.0 if key in must else 0.0, 1.0))
    for s in sites:
        here = [v for v, (_, site) in enumerate(pairs) if site == s]
        keeps = {
            v: 1 - members[pairs[v][0]][1]['headroom_pct'] / 100 for v in here
        }
        for level in sorted(set(keeps.values())):
            strict = [v for v in here if keeps[v] <= level]
            for r, (res, fkey) in enumerate(RESOURCES):
                total = summary[s]['capacity'][res]['total']
                coefs = {
                    v: float(
                        summary[s]['flavors'][members[pairs[v][0]][0].flavor][
                            fkey
                        ]
                    )
                    for v in strict
                }
                rows.append((coefs, -math.inf, total * level - base[s][r]))
    apps = sorted({members[k][0].appliance_id for k in pending})
    for app in apps:
        c = next(
            members[k][1] for k in pending if members[k][0].appliance_id == app
        )
        mine = [
            v
            for v, (k, _) in enumerate(pairs)
            if members[k][0].appliance_id == app
        ]
        used = by_app_kept.get(app, {})
        if c['affinity'] and not used:
            chosen = {}
            for v in mine:
                s = pairs[v][1]
                if s not in chosen:
                    chosen[s] = n_x + extra
                    extra += 1
                rows.append(({v: 1.0, chosen[s]: -1.0}, -math.inf, 0.0))
            rows.append(({y: 1.0 for y in chosen.values()}, -math.inf, 1.0))
        k = c['spread']
        if k > 1 and len(used) < k:
            spans = n_x + extra
            extra += 1
            hosts = {}
            for s in sorted({pairs[v][1] for v in mine} | set(used)):
                new = [v for v in mine if pairs[v][1] == s]
                hosts[s] = n_x + extra
                extra += 1
                coefs = {hosts[s]: 1.0}
                coefs.update({v: -1.0 for v in new})
                rows.append((coefs, -math.inf, float(used.get(s, 0))))
                if new:
                    coefs = {v: 1.0 for v in new}
                    coefs[spans] = -float(len(mine))
                    rows.append((coefs, -math.inf, 0.0 if s in used else 1.0))
            coefs = {h: 1.0 for h in hosts.values()}
            coefs[spans] = -float(k)
            rows.append((coefs, 0.0, math.inf))
    n = n_x + extra
    if n == 0:
        return 0.0, {}
    cost = np.zeros(n)
    for v, (key, _) in enumerate(pairs):
        cost[v] = -weights[key]
    data, ri, ci = [], [], []
    for r, (coefs, _, _) in enumerate(rows):
        for col, val in coefs.items():
            ri.append(r)
            ci.append(col)
            data.append(val)
    result = optimize.milp(
        cost,
        constraints=optimize.LinearConstraint(
            sparse.csr_array((data, (ri, ci)), shape=(len(rows), n)),
            [lo for _, lo, _ in rows],
            [hi for _, _, hi in rows],
        ),
        integrality=np.ones(n),
        bounds=optimize.Bounds(0, 1),
        options={'time_limit': 120},
    )
    if result.status == 2:
        return None
    if result.x is None:
        raise RuntimeError('the reference MILP failed: %s' % result.message)
    chosen_sites = {
        pairs[v][0]: pairs[v][1] for v in range(n_x) if result.x[v] > 0.5
    }
    return -float(result.fun), chosen_sites
