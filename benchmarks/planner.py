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

"""The planner: its speed at scale, and its placement quality against the
optimum of an exact MILP solver, in one run.

    python benchmarks/planner.py [--appliances 10000] [--sites 100]
        [--small-appliances 200] [--small-sites 10] [--seed 1]

Speed: ``--appliances`` appliances (two members, spread 2, half of them
m1.small and half m1.medium) placed on ``--sites`` sites from an empty
start, with every shipped filter and weigher. ``plan_10k_x_100_s`` is the
first plan after a leader change (specs validated, nothing cached);
``plan_10k_x_100_warm_s`` the median of three more. That plan carried
out, ``replan_all_kept_s`` is the next plan and
``recovery_tenth_down_s`` the one after, with the first tenth of the
sites failed, by the same planner (what it kept of the earlier plans
used: sodos.analyseplan.specs and .sorting);
``recovery_tenth_down_cold_s`` the same plan by a new planner. The
``_cpu_s`` keys: the same plans' CPU time, which other work on the
machine changes less.

Quality: a small federation (``--small-*``) in consolidation mode. The
objective, the same for both, is sodos.analyseplan.objective: for every
site that hosts anything, its idle draw's carbon (kW x gCO2/kWh x PUE)
at a carbon price, plus for every server the price of its vCPUs there.
Constraints, the same for both: every member placed once, capacity per
resource, each appliance on at least `spread` sites. The optimum comes
from scipy's HiGHS MILP solver; ``quality_ratio`` = the planner's
objective / the optimum (1.0 is optimal).

Last line of stdout: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
import uuid
from typing import Any

import _planner_suite
import numpy as np

from sodos.analyseplan import filters
from sodos.analyseplan import objective as cost_model
from sodos.analyseplan import planner as planner_mod
from sodos.analyseplan import weighers
from sodos.analyseplan.view import Events
from sodos.domain import appliance

FLAVORS = {
    'm1.small': {'vcpus': 1, 'ram_mb': 2048, 'disk_gb': 20},
    'm1.medium': {'vcpus': 2, 'ram_mb': 4096, 'disk_gb': 40},
}
CARBON_PRICE = 0.1  # money per kg CO2, as [analyseplan]carbon_price


log = _planner_suite.log


def federation(
    count: int, rng: random.Random, vcpu: float, ram: float
) -> dict[str, Any]:
    sites, monitoring = {}, {}
    for i in range(count):
        name = 'site-%03d' % i
        sites[name], monitoring[name] = _planner_suite.site_records(
            name,
            rng,
            region=name,
            labels={},
            capacity=(vcpu, ram),
            used_fraction=0.0,
            images=['cirros'],
            flavors=FLAVORS,
        )
    return {'sites': sites, 'monitoring': monitoring}


def appliances(count: int, rng: random.Random) -> dict[str, Any]:
    out = {}
    for n in range(count):
        spec = {
            'name': 'app-%d' % n,
            'priority': rng.randint(0, 100),
            'members': [
                {
                    'name': 'web',
                    'image': 'cirros',
                    'flavor': rng.choice(sorted(FLAVORS)),
                    'count': 2,
                }
            ],
            'constraints': {'spread': 2},
        }
        out[uuid.UUID(int=rng.getrandbits(128)).hex] = {
            'spec': spec,
            'updated_at': float(n),
        }
    return out


def make_planner(consolidate: bool) -> planner_mod.Planner:
    if consolidate:
        weights = [
            (weighers.MarginalCostWeigher(carbon_price=CARBON_PRICE), 1.0),
        ]
    else:
        weights = [
            (weighers.FreeRamWeigher(), 1.0),
            (weighers.CostWeigher(), 0.5),
            (weighers.EnergyWeigher(), 0.5),
            (weighers.LatencyWeigher(), 0.2),
        ]
    return planner_mod.Planner(filters.shipped(), weights)


def speed(args: argparse.Namespace) -> dict[str, float]:
    rng = random.Random(args.seed)
    kb = federation(args.sites, rng, vcpu=4000.0, ram=8_000_000.0)
    kb['appliances'] = appliances(args.appliances, rng)
    planner = make_planner(consolidate=False)
    started, cpu = time.perf_counter(), time.process_time()
    plan = planner.plan(kb)
    cold = time.perf_counter() - started
    cold_cpu = time.process_time() - cpu
    assert not plan.unplaced, plan.unplaced[:3]
    log(
        'speed: %d members on %d sites in %.3f s (cold)'
        % (len(plan.moves), args.sites, cold)
    )
    warm = []
    for _ in range(3):
        started = time.perf_counter()
        planner.plan(kb)
        warm.append(time.perf_counter() - started)
    log('speed: warm runs %s' % ', '.join('%.3f' % t for t in warm))
    # The plan carried out: the next cycle keeps everything; then the
    # first tenth of the sites fails (a regional outage).
    kb['placements'] = {
        m.key: {
            'appliance_id': m.appliance_id,
            'member': m.member,
            'site': m.site,
            'info': {'flavor': m.flavor},
        }
        for m in plan.moves
    }
    started = time.perf_counter()
    planner.plan(kb)
    kept = time.perf_counter() - started
    down = frozenset(sorted(kb['sites'])[: max(1, args.sites // 10)])
    started, cpu = time.perf_counter(), time.process_time()
    recovery = planner.plan(kb, Events(failed=down))
    recovered = time.perf_counter() - started
    recovered_cpu = time.process_time() - cpu
    # The same plan by a planner that keeps nothing from earlier plans
    # (the first after a leader change).
    started, cpu = time.perf_counter(), time.process_time()
    from_nothing = make_planner(consolidate=False).plan(
        kb, Events(failed=down)
    )
    recovered_cold = time.perf_counter() - started
    recovered_cold_cpu = time.process_time() - cpu
    assert from_nothing == recovery
    log(
        'speed: all kept %.3f s; %d sites down, %d members moved in %.3f s '
        '(%.3f s from nothing)'
        % (kept, len(down), len(recovery.moves), recovered, recovered_cold)
    )
    return {
        'plan_10k_x_100_s': round(cold, 3),
        'plan_10k_x_100_cpu_s': round(cold_cpu, 3),
        'plan_10k_x_100_warm_s': round(statistics.median(warm), 3),
        'members_placed': len(plan.moves),
        'replan_all_kept_s': round(kept, 3),
        'recovery_tenth_down_s': round(recovered, 3),
        'recovery_tenth_down_cpu_s': round(recovered_cpu, 3),
        'recovery_tenth_down_cold_s': round(recovered_cold, 3),
        'recovery_tenth_down_cold_cpu_s': round(recovered_cold_cpu, 3),
        'recovery_moves': len(recovery.moves),
    }


def objective(kb, placement: dict[str, str], members) -> float:
    """The planner's own objective (sodos.analyseplan.objective)."""
    profiles = {n: s['info']['profile'] for n, s in kb['sites'].items()}
    return cost_model.total(
        profiles,
        {
            key: (site, FLAVORS[members[key].flavor]['vcpus'])
            for key, site in placement.items()
        },
        CARBON_PRICE,
    )


def optimum(kb, members: dict[str, Any], specs) -> tuple[float, dict]:
    from scipy import optimize
    from scipy import sparse

    sites = sorted(kb['sites'])
    keys = sorted(members)
    n_s, n_m = len(sites), len(keys)
    apps = sorted(specs)
    n_a = len(apps)
    profiles = [kb['sites'][s]['info']['profile'] for s in sites]
    caps = [kb['monitoring'][s]['summary']['capacity'] for s in sites]
    # Variables: x[m, s] (n_m * n_s), y[s] (n_s), z[a, s] (n_a * n_s).
    nx, ny = n_m * n_s, n_s
    n_var = nx + ny + n_a * n_s
    c = np.zeros(n_var)
    for m, key in enumerate(keys):
        vcpus = FLAVORS[members[key].flavor]['vcpus']
        for s in range(n_s):
            c[m * n_s + s] = cost_model.server_cost(profiles[s], vcpus)
    for s in range(n_s):
        c[nx + s] = cost_model.site_cost(profiles[s], CARBON_PRICE)
    rows, cols, vals, lo, hi = [], [], [], [], []
    r = 0

    def add(entries, low, high):
        nonlocal r
        for col, val in entries:
            rows.append(r)
            cols.append(col)
            vals.append(val)
        lo.append(low)
        hi.append(high)
        r += 1

    for m in range(n_m):  # placed exactly once
        add([(m * n_s + s, 1.0) for s in range(n_s)], 1, 1)
    for s in range(n_s):  # capacity, and y[s] = 1 when used
        for res, fkey in (('vcpu', 'vcpus'), ('ram_mb', 'ram_mb')):
            entries = [
                (m * n_s + s, float(FLAVORS[members[k].flavor][fkey]))
                for m, k in enumerate(keys)
            ]
            entries.append((nx + s, -float(caps[s][res]['total'])))
            add(entries, -np.inf, 0)
    index = {k: m for m, k in enumerate(keys)}
    for a, app in enumerate(apps):  # spread: z[a,s] <= sum x, sum z >= k
        own = [index[k] for k in keys if k.startswith(app + '/')]
        for s in range(n_s):
            z = nx + ny + a * n_s + s
            add([(z, 1.0)] + [(m * n_s + s, -1.0) for m in own], -np.inf, 0)
        add(
            [(nx + ny + a * n_s + s, 1.0) for s in range(n_s)],
            specs[app]['constraints']['spread'],
            np.inf,
        )
    matrix = sparse.csr_array((vals, (rows, cols)), shape=(r, n_var))
    result = optimize.milp(
        c,
        constraints=optimize.LinearConstraint(matrix, lo, hi),
        integrality=np.ones(n_var),
        bounds=optimize.Bounds(0, 1),
        options={'time_limit': 300},
    )
    if result.x is None:
        raise RuntimeError(
            'the MILP solver found no solution: %s' % result.message
        )
    placement = {}
    for m, key in enumerate(keys):
        s = int(np.argmax(result.x[m * n_s : (m + 1) * n_s]))
        placement[key] = sites[s]
    return float(result.fun), placement


def quality(args: argparse.Namespace) -> dict[str, float]:
    rng = random.Random(args.seed + 1)
    # Room for about twice the demand: consolidation has a choice.
    kb = federation(args.small_sites, rng, vcpu=120.0, ram=240_000.0)
    kb['appliances'] = appliances(args.small_appliances, rng)
    specs = {
        a: appliance.validate(r['spec']) for a, r in kb['appliances'].items()
    }
    members = {
        inst.key: inst
        for a, spec in specs.items()
        for inst in appliance.instances(a, spec)
    }
    plan = make_planner(consolidate=True).plan(kb)
    assert not plan.unplaced, plan.unplaced[:3]
    ours = {m.key: m.site for m in plan.moves}
    score = objective(kb, ours, members)
    started = time.perf_counter()
    best, best_placement = optimum(kb, members, specs)
    solve_s = time.perf_counter() - started
    check = objective(kb, best_placement, members)
    log(
        'quality: planner %.2f on %d sites, optimum %.2f (check %.2f) on '
        '%d sites, solved in %.1f s'
        % (
            score,
            len(set(ours.values())),
            best,
            check,
            len(set(best_placement.values())),
            solve_s,
        )
    )
    return {
        'quality_ratio': round(score / best, 4),
        'planner_objective': round(score, 3),
        'optimum_objective': round(best, 3),
        'milp_solve_s': round(solve_s, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('--appliances', type=int, default=10000)
    parser.add_argument('--sites', type=int, default=100)
    parser.add_argument('--small-appliances', type=int, default=200)
    parser.add_argument('--small-sites', type=int, default=10)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--instances', type=int, default=24)
    parser.add_argument('--whatif-instances', type=int, default=8)
    args = parser.parse_args()
    if min(
        args.appliances, args.sites, args.small_appliances, args.instances
    ) < 1 or (args.small_sites < 2):
        parser.error('counts must be positive, and --small-sites >= 2')
    report: dict[str, Any] = {
        'appliances': args.appliances,
        'sites': args.sites,
        'small': [args.small_appliances, args.small_sites],
    }
    report.update(speed(args))
    report.update(quality(args))
    report.update(
        _planner_suite.run(args.instances, args.whatif_instances, make_planner)
    )
    print(json.dumps(report))
    return 0


if __name__ == '__main__':
    sys.exit(main())
