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

"""Seeded small federations of awkward shapes, the planner's placement
against the exact reference (_planner_exact), and what-if answers
checked against it."""

from __future__ import annotations

import copy
import random
import sys
from collections.abc import Callable
from typing import Any

import _planner_exact

from sodos.analyseplan import planner as planner_mod
from sodos.analyseplan import whatif
from sodos.analyseplan.view import Events
from sodos.domain import appliance

# From 1 vCPU / 512 MB to 16 vCPU / 32 GB; the small ones most often.
FLAVORS = {
    'f.tiny': {'vcpus': 1, 'ram_mb': 512, 'disk_gb': 1},
    'f.small': {'vcpus': 1, 'ram_mb': 2048, 'disk_gb': 20},
    'f.medium': {'vcpus': 2, 'ram_mb': 4096, 'disk_gb': 40},
    'f.large': {'vcpus': 4, 'ram_mb': 8192, 'disk_gb': 80},
    'f.xlarge': {'vcpus': 8, 'ram_mb': 16384, 'disk_gb': 160},
    'f.2xlarge': {'vcpus': 16, 'ram_mb': 32768, 'disk_gb': 320},
}
FLAVOR_ODDS = (30, 30, 20, 12, 6, 2)
IMAGES = ('cirros', 'debian', 'windows')


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def site_records(
    name: str,
    rng: random.Random,
    region: str,
    labels: dict[str, str],
    capacity: tuple[float, float],
    used_fraction: float,
    images: Any,
    flavors: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A site's KB record and its monitoring, as a site publishes them.

    The cost and energy profile is drawn from ``rng``; ``capacity`` is
    (vCPU, RAM MB), of which ``used_fraction`` runs something sodos does
    not place.
    """
    vcpu, ram = capacity
    site = {
        'name': name,
        'status': 'up',
        'info': {
            'profile': {
                'region': region,
                'labels': labels,
                'carbon_intensity': round(rng.uniform(20, 800), 1),
                'pue': round(rng.uniform(1.1, 1.8), 2),
                'cost_per_vcpu_hour': round(rng.uniform(0.01, 0.05), 4),
                'idle_power_kw': round(rng.uniform(2.0, 20.0), 1),
            }
        },
    }
    monitoring = {
        'summary': {
            'api': {'ok': True, 'latency_ms': 10.0},
            'capacity': {
                'vcpu': {'total': vcpu, 'used': round(vcpu * used_fraction)},
                'ram_mb': {'total': ram, 'used': round(ram * used_fraction)},
                'disk_gb': {'total': 100000.0, 'used': 0.0},
            },
            'servers': {},
            'images': list(images),
            'flavors': flavors,
        }
    }
    return site, monitoring


def instance(seed: int, room: float) -> dict[str, Any]:
    """A federation whose capacity is ``room`` times its demand."""
    rng = random.Random(seed)
    n_sites = rng.randint(4, 9)
    names = ['site-%02d' % i for i in range(n_sites)]
    apps = {}
    for n in range(rng.randint(10, 28)):
        groups = []
        for g in range(rng.choice([1, 1, 2])):
            groups.append(
                {
                    'name': 'g%d' % g,
                    'image': rng.choice(IMAGES[:2] if g else IMAGES),
                    'flavor': rng.choices(
                        sorted(FLAVORS, key=_size), FLAVOR_ODDS
                    )[0],
                    'count': rng.randint(1, 4),
                }
            )
        total = sum(g['count'] for g in groups)
        constraints: dict[str, Any] = {}
        shape = rng.random()
        if shape < 0.15:
            constraints['affinity'] = True
        elif shape < 0.6 and total >= 2:
            constraints['spread'] = rng.randint(2, min(4, total))
        restriction = rng.random()
        if restriction < 0.1:
            allowed = rng.sample(names, max(constraints.get('spread', 1), 3))
            constraints['sites'] = sorted(allowed)
        elif restriction < 0.2:
            constraints['regions'] = ['r0', 'r1']
        elif restriction < 0.3:
            constraints['labels'] = {'zone': 'a'}
        if rng.random() < 0.2:
            constraints['headroom_pct'] = 10
        apps['%032x' % rng.getrandbits(128)] = {
            'spec': {
                'name': 'app-%d' % n,
                'priority': rng.choice([10, 30, 50, 70, 90]),
                'members': groups,
                'constraints': constraints,
            },
            'updated_at': float(n),
        }
    demand = [0.0, 0.0]
    for record in apps.values():
        for g in record['spec']['members']:
            flavor = FLAVORS[g['flavor']]
            demand[0] += flavor['vcpus'] * g['count']
            demand[1] += flavor['ram_mb'] * g['count']
    shares = [rng.uniform(0.5, 1.5) for _ in names]
    shares[rng.randrange(n_sites)] *= rng.choice([1, 4, 6])  # one big
    sites, monitoring = {}, {}
    for i, name in enumerate(names):
        part = shares[i] / sum(shares) * room
        background = rng.choice([0.0, 0.0, 0.1, 0.25])
        vcpu = max(1.0, round(demand[0] * part / (1 - background)))
        ram = max(512.0, round(demand[1] * part / (1 - background), -2))
        flavors = dict(FLAVORS)
        if rng.random() < 0.2:
            del flavors[rng.choice(sorted(FLAVORS)[1:])]
        images = [i for i in IMAGES if rng.random() < 0.85] or ['cirros']
        sites[name], monitoring[name] = site_records(
            name,
            rng,
            region='r%d' % (i % 3),
            labels={'zone': 'ab'[i % 2]},
            capacity=(vcpu, ram),
            used_fraction=background,
            images=images,
            flavors=flavors,
        )
    return {
        'sites': sites,
        'monitoring': monitoring,
        'appliances': apps,
        'placements': {},
        'actions': {},
    }


def _size(flavor: str) -> tuple[int, int]:
    return (FLAVORS[flavor]['ram_mb'], FLAVORS[flavor]['vcpus'])


def members_of(kb: dict[str, Any]) -> dict[str, tuple[Any, dict[str, Any]]]:
    out = {}
    for appliance_id, record in kb['appliances'].items():
        spec = appliance.validate(record['spec'])
        for inst in appliance.instances(appliance_id, spec):
            out[inst.key] = (inst, spec['constraints'])
    return out


def run(
    count: int,
    whatif_count: int,
    make_planner: Callable[[bool], planner_mod.Planner],
) -> dict[str, Any]:
    placed, weighted, missing, same_aim = [], [], 0, []
    false_unplaceable, questions = 0, 0
    for seed in range(count):
        # Mostly tight (60-100 % of the demand), some with twice it.
        room = 2.0 if seed % 5 == 4 else 0.6 + 0.4 * (seed % 5) / 3
        kb = instance(seed, room)
        members = members_of(kb)
        planner = make_planner(seed % 3 == 2)
        plan = planner.plan(kb)
        ours = {m.key for m in plan.moves}
        keys = sorted(members)
        ones = dict.fromkeys(keys, 1.0)
        weights = {k: 1.0 + members[k][0].priority for k in keys}
        top = _planner_exact.best(kb, members, {}, keys, ones)
        top_w = _planner_exact.best(kb, members, {}, keys, weights)
        assert top is not None and top_w is not None
        placed.append(len(ours) / top[0] if top[0] else 1.0)
        ours_w = sum(weights[k] for k in ours)
        weighted.append(ours_w / top_w[0] if top_w[0] else 1.0)
        # The solver's count is a float a hair under the integer.
        missing += round(top[0]) - len(ours)
        # Against the placement that maximises what the planner does.
        same_aim.append(len(ours) / len(top_w[1]) if top_w[1] else 1.0)
        log(
            'suite %2d: room %.2f, %d members, planner %d, optimum %d '
            '(weighted %.3f of the optimum)'
            % (seed, room, len(keys), len(ours), round(top[0]), weighted[-1])
        )
        if seed < whatif_count:
            found, asked = _whatifs(kb, plan, members, planner)
            false_unplaceable += found
            questions += asked
    return {
        'suite_instances': count,
        'placed_ratio_min': round(min(placed), 4),
        'placed_ratio_mean': round(sum(placed) / len(placed), 4),
        'weighted_ratio_min': round(min(weighted), 4),
        'placed_ratio_of_weighted_optimum_min': round(min(same_aim), 4),
        'members_short_of_optimum': missing,
        'whatif_questions': questions,
        'whatif_false_unplaceable': false_unplaceable,
    }


def _whatifs(
    kb: dict[str, Any],
    plan: Any,
    members: dict[str, tuple[Any, dict[str, Any]]],
    planner: planner_mod.Planner,
) -> tuple[int, int]:
    """Members a what-if calls unplaceable though the reference places
    them along with every member the what-if places, the kept ones in
    place; and the number of questions asked (one per site)."""
    kb = copy.deepcopy(kb)
    for move in plan.moves:
        kb['placements'][move.key] = {
            'appliance_id': move.appliance_id,
            'member': move.member,
            'site': move.site,
            'info': {'flavor': move.flavor},
        }
    found = 0
    for site in sorted(kb['sites']):
        # No clock: as the plan it is checked against.
        report = whatif.ask(planner, kb, [site], [], None)
        after = planner.plan(kb, Events(failed=frozenset([site])))
        moved = {m.key for m in after.moves}
        pending = sorted(moved | {u.key for u in after.unplaced})
        kept = {
            k: p['site']
            for k, p in kb['placements'].items()
            if k not in pending
        }
        ones = dict.fromkeys(pending, 1.0)
        for unplaced in report['unplaced']:
            must = frozenset(moved | {unplaced['key']})
            if _planner_exact.best(
                kb, members, kept, pending, ones, frozenset([site]), must
            ):
                found += 1
                log('  what-if %s: %s fits' % (site, unplaced['key']))
    return found, len(kb['sites'])
