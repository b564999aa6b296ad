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

"""Properties of every plan, on random federations: each constraint is
respected, and a member left out has no site that would take it when
the plan ends (so its explanation is true)."""

from hypothesis import HealthCheck
from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from sodos.analyseplan import filters
from sodos.analyseplan import planner as planner_mod
from sodos.analyseplan import weighers
from sodos.analyseplan.view import Events
from sodos.domain import appliance
from tests.unit.analyseplan.kbviews import FLAVORS
from tests.unit.analyseplan.kbviews import kb
from tests.unit.analyseplan.kbviews import placed
from tests.unit.analyseplan.kbviews import site

IMAGES = ('cirros', 'debian')
SITE_NAMES = ('s0', 's1', 's2', 's3', 's4')
NO_EVENTS = Events()


@st.composite
def federations(draw):
    sites = []
    for name in SITE_NAMES[: draw(st.integers(2, 5))]:
        vcpu = float(draw(st.integers(1, 16)))
        ram = float(draw(st.sampled_from([2048, 4096, 8192, 16384, 32768])))
        background = draw(st.sampled_from([0.0, 0.25, 0.5]))
        _, record, summary = site(
            name,
            vcpu=vcpu,
            ram=ram,
            used=(vcpu * background, ram * background, 0.0),
            images=draw(
                st.lists(st.sampled_from(IMAGES), min_size=1, unique=True)
            ),
            status=draw(st.sampled_from(['up'] * 5 + ['down'])),
            region=draw(st.sampled_from(['r0', 'r1'])),
            labels={'zone': draw(st.sampled_from(['a', 'b']))},
        )
        summary['flavors'] = {
            f: FLAVORS[f]
            for f in draw(
                st.lists(
                    st.sampled_from(sorted(FLAVORS)), min_size=1, unique=True
                )
            )
        }
        sites.append((name, record, summary))
    names = [s[0] for s in sites]
    apps = {}
    for n in range(draw(st.integers(1, 6))):
        count = draw(st.integers(1, 4))
        constraints = {'headroom_pct': draw(st.sampled_from([0, 0, 10, 30]))}
        if draw(st.booleans()):
            constraints['affinity'] = True
        else:
            top = min(count, 3, len(names))
            constraints['spread'] = draw(st.integers(1, top))
        restriction = draw(st.sampled_from(['', 'sites', 'region', 'label']))
        if restriction == 'sites':
            constraints['sites'] = draw(
                st.lists(
                    st.sampled_from(names),
                    min_size=constraints.get('spread', 1),
                    unique=True,
                )
            )
        elif restriction == 'region':
            constraints['regions'] = ['r0']
        elif restriction == 'label':
            constraints['labels'] = {'zone': 'a'}
        groups = [
            {
                'name': 'web',
                'image': draw(st.sampled_from(IMAGES)),
                'flavor': draw(st.sampled_from(sorted(FLAVORS))),
                'count': count,
            }
        ]
        if draw(st.booleans()):
            # A second group, often with another image: siblings that
            # fit different sites.
            groups.append(
                {
                    'name': 'db',
                    'image': draw(st.sampled_from(IMAGES)),
                    'flavor': draw(st.sampled_from(sorted(FLAVORS))),
                    'count': draw(st.integers(1, 2)),
                }
            )
        apps['%032x' % (n + 1)] = {
            'name': 'app%d' % n,
            'priority': draw(st.sampled_from([10, 50, 90])),
            'members': groups,
            'constraints': constraints,
        }
    return kb(sites, appliances=apps)


def spread_case():
    """Spread 2; g0's image only at s1 (the issue's minimal case)."""
    record = {
        'name': 'app',
        'members': [
            {
                'name': 'g0',
                'image': 'debian',
                'flavor': 'm1.small',
                'count': 2,
            },
            {'name': 'g1', 'image': 'cirros', 'flavor': 'm1.small'},
        ],
        'constraints': {'spread': 2},
    }
    return kb(
        [site('s1', images=IMAGES), site('s2')],
        appliances={'%032x' % 1: record},
    )


def affinity_case():
    """Three m1.large with affinity; the most free RAM at s1, room for
    all three at s2 only."""
    record = {
        'name': 'app',
        'members': [
            {
                'name': 'web',
                'image': 'cirros',
                'flavor': 'm1.large',
                'count': 3,
            }
        ],
        'constraints': {'affinity': True},
    }
    return kb(
        [site('s1', vcpu=4.0, ram=65536.0), site('s2', vcpu=12.0)],
        appliances={'%032x' % 1: record},
    )


def planner():
    return planner_mod.Planner(
        filters.shipped(),
        [(weighers.FreeRamWeigher(), 1.0), (weighers.PackWeigher(), 0.3)],
        repair_budget=10.0,
    )


def fits(view, inst, constraints, name, used, members_at):
    """Whether site ``name`` takes ``inst`` with ``used`` as its usage
    and ``members_at`` the sites its appliance uses (site -> count)."""
    record = view['sites'][name]
    summary = view['monitoring'][name]['summary']
    if record['status'] != 'up':
        return False
    if not appliance.allows(constraints, name, record['info']['profile']):
        return False
    if inst.image not in summary['images']:
        return False
    flavor = summary['flavors'].get(inst.flavor)
    if flavor is None:
        return False
    keep = 1 - constraints['headroom_pct'] / 100
    need = (flavor['vcpus'], flavor['ram_mb'], flavor['disk_gb'])
    caps = summary['capacity']
    totals = [caps[r]['total'] for r in ('vcpu', 'ram_mb', 'disk_gb')]
    if any(
        u + n > t * keep for u, n, t in zip(used, need, totals, strict=True)
    ):
        return False
    spans = [s for s, n in members_at.items() if n]
    if members_at.get(name) and len(spans) < constraints['spread']:
        return False
    return not (constraints['affinity'] and spans and name not in spans)


def add(used, view, name, flavor):
    spec = view['monitoring'][name]['summary']['flavors'][flavor]
    return [
        u + spec[f]
        for u, f in zip(used, ('vcpus', 'ram_mb', 'disk_gb'), strict=True)
    ]


def check(view, plan, events=NO_EVENTS):
    specs = {
        a: appliance.validate(r['spec']) for a, r in view['appliances'].items()
    }
    members = {
        inst.key: (inst, specs[a]['constraints'])
        for a in specs
        for inst in appliance.instances(a, specs[a])
    }
    placements = view['placements']
    moved = {m.key: m.site for m in plan.moves}
    left = {u.key for u in plan.unplaced}
    assert not set(moved) & left
    kept = {k: placements[k]['site'] for k in members if k in placements}
    kept = {k: s for k, s in kept.items() if k not in moved and k not in left}
    assert set(moved) | left | set(kept) == set(members)
    at = {**kept, **moved}
    used = {}
    for name in view['sites']:
        caps = view['monitoring'][name]['summary']['capacity']
        used[name] = [caps[r]['used'] for r in ('vcpu', 'ram_mb', 'disk_gb')]
    for key, name in kept.items():
        assert name not in events.failed | events.drained, key
        # Placed, not built (no server reported): its room is taken.
        used[name] = add(used[name], view, name, members[key][0].flavor)
    # Capacity and headroom: the strictest headroom first, every member
    # moved to a site fits with its own headroom.
    for name in view['sites']:
        here = sorted(
            (m for m in plan.moves if m.site == name),
            key=lambda m: -members[m.key][1]['headroom_pct'],
        )
        for move in here:
            inst, constraints = members[move.key]
            assert move.site not in events.failed | events.drained
            assert fits(view, inst, constraints, name, used[name], {}), move
            used[name] = add(used[name], view, name, inst.flavor)
    per_app = {}
    for key, name in at.items():
        counts = per_app.setdefault(members[key][0].appliance_id, {})
        counts[name] = counts.get(name, 0) + 1
    for appliance_id, counts in per_app.items():
        constraints = specs[appliance_id]['constraints']
        if constraints['affinity']:
            assert len(counts) == 1, counts
        if len(counts) < constraints['spread']:
            # Short of spread: each member moved is alone on its site.
            for move in plan.moves:
                if move.appliance_id == appliance_id:
                    assert counts[move.site] == 1, counts
    # Nothing left out that a site would take as the plan ends.
    for key in sorted(left):
        inst, constraints = members[key]
        counts = per_app.get(inst.appliance_id, {})
        for name in view['sites']:
            if name in events.failed or name in events.drained:
                continue
            assert not fits(
                view, inst, constraints, name, used[name], counts
            ), '%s fits at %s' % (key, name)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(federations())
@example(spread_case())
@example(affinity_case())
def test_every_plan_respects_every_constraint(view):
    plan = planner().plan(view)
    check(view, plan)
    assert planner().plan(view).to_dict() == plan.to_dict()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(federations(), st.sampled_from(SITE_NAMES[:2]))
def test_a_plan_after_a_failure_respects_every_constraint(view, failed):
    # The plan carried out, then a site fails.
    for move in planner().plan(view).moves:
        view['placements'].update(
            placed(move.appliance_id, move.member, move.site)
        )
    events = Events(failed=frozenset([failed]))
    check(view, planner().plan(view, events), events)
