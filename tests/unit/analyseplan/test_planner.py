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

"""The planner on hand-made KB views."""

import pytest

from sodos.analyseplan import filters
from sodos.analyseplan import planner as planner_mod
from sodos.analyseplan import weighers
from sodos.analyseplan.view import Events
from tests.unit.analyseplan.kbviews import kb
from tests.unit.analyseplan.kbviews import placed
from tests.unit.analyseplan.kbviews import site
from tests.unit.analyseplan.kbviews import spec

A = 'a' * 32
B = 'b' * 32
# When a what-if is asked (the planner's clock).
NOW = 1_000_000.0

ALL_FILTERS = filters.shipped()


def planner(**weights):
    weights = weights or {'free_ram': 1.0}
    known = {
        'free_ram': weighers.FreeRamWeigher(),
        'cost': weighers.CostWeigher(),
        'energy': weighers.EnergyWeigher(),
        'latency': weighers.LatencyWeigher(),
        'pack': weighers.PackWeigher(),
    }
    return planner_mod.Planner(
        ALL_FILTERS, [(known[n], m) for n, m in weights.items()]
    )


def sites_of(plan):
    return {m.member: m.site for m in plan.moves}


def test_spread_places_members_on_distinct_sites_deterministically():
    view = kb(
        [site('s1'), site('s2'), site('s3')],
        appliances={A: spec(count=3, spread=3)},
    )
    first = planner().plan(view)
    assert sorted(sites_of(first).values()) == ['s1', 's2', 's3']
    assert first.to_dict() == planner().plan(view).to_dict()
    assert first.unplaced == []
    assert all(m.reason == 'new' for m in first.moves)


def test_spread_two_keeps_two_sites_when_members_outnumber_it():
    view = kb(
        [site('s1'), site('s2')], appliances={A: spec(count=4, spread=2)}
    )
    placed_at = sites_of(planner().plan(view))
    assert set(placed_at.values()) == {'s1', 's2'}


def test_static_constraints_sites_regions_labels():
    view = kb(
        [
            site('paris', jurisdiction='x', labels={'jurisdiction': 'eu'}),
            site('boston', labels={'jurisdiction': 'us'}),
            site('berlin', region='eu-central', labels={'jurisdiction': 'eu'}),
        ],
        appliances={
            A: spec('eu', count=2, labels={'jurisdiction': 'eu'}),
            B: spec('r', regions=['eu-central']),
        },
    )
    plan = planner().plan(view)
    by_app = {}
    for move in plan.moves:
        by_app.setdefault(move.appliance_id, set()).add(move.site)
    assert by_app[A] <= {'paris', 'berlin'}
    assert by_app[B] == {'berlin'}


def test_no_room_is_explained_site_by_site():
    view = kb(
        [
            site('s1', vcpu=2.0),
            site('s2', status='down'),
            site('s3', images=('other',)),
        ],
        appliances={A: spec(flavor='m1.large')},
    )
    plan = planner().plan(view)
    assert plan.moves == []
    (unplaced,) = plan.unplaced
    assert unplaced.reason == (
        'new; no site can take it: '
        's1: no room for m1.large (vcpu: needs 4, 2 free); '
        's2: site down; '
        's3: image cirros not present'
    )


def test_members_of_a_site_down_move_and_the_others_stay():
    placements = {}
    placements.update(placed(A, 'web-0', 's1'))
    placements.update(placed(A, 'web-1', 's2'))
    view = kb(
        [site('s1'), site('s2', status='down'), site('s3')],
        appliances={A: spec(count=2, spread=2)},
        placements=placements,
    )
    plan = planner().plan(view)
    assert plan.kept == 1
    (move,) = plan.moves
    assert (move.member, move.site, move.from_site) == ('web-1', 's3', 's2')
    assert move.reason == 'site s2: site down'


def test_spread_cannot_be_kept_means_unplaced_not_doubled_up():
    placements = {}
    placements.update(placed(A, 'web-0', 's1'))
    placements.update(placed(A, 'web-1', 's2'))
    view = kb(
        [site('s1'), site('s2', status='down')],
        appliances={A: spec(count=2, spread=2)},
        placements=placements,
    )
    plan = planner().plan(view)
    assert plan.moves == []
    assert 's1: already hosts a member (spread 2)' in plan.unplaced[0].reason


def test_higher_priority_is_placed_first_when_room_is_short():
    view = kb(
        [site('s1', vcpu=4.0)],
        appliances={
            A: spec('low', flavor='m1.large', priority=10),
            B: spec('high', flavor='m1.large', priority=90),
        },
    )
    plan = planner().plan(view)
    assert [m.appliance_id for m in plan.moves] == [B]
    assert [u.appliance_id for u in plan.unplaced] == [A]


def test_affinity_keeps_members_together():
    view = kb(
        [site('s1'), site('s2'), site('s3')],
        appliances={A: spec(count=3, affinity=True)},
    )
    assert len(set(sites_of(planner().plan(view)).values())) == 1


def test_a_permanent_build_failure_moves_the_member_and_is_remembered():
    actions = {
        'x' * 32: {
            'action_id': 'x' * 32,
            'site': 's1',
            'kind': 'server.create',
            'state': 'failed',
            'params': {'appliance_id': A, 'member': 'web-0'},
            'result': {'error': 'No valid host was found.'},
        }
    }
    view = kb(
        [site('s1'), site('s2')],
        appliances={A: spec()},
        placements=placed(A, 'web-0', 's1'),
        actions=actions,
    )
    (move,) = planner().plan(view).moves
    assert (move.site, move.failed_sites) == ('s2', ['s1'])
    assert move.reason == 'its server failed at s1'
    # A transient failure is retried in place instead.
    actions['x' * 32]['result']['transient'] = True
    assert planner().plan(view).moves == []


def test_placements_no_spec_asks_for_are_removed():
    view = kb([site('s1')], placements=placed(A, 'web-0', 's1'))
    (removal,) = planner().plan(view).removals
    assert (removal.member, removal.site) == ('web-0', 's1')


def test_what_if_a_site_fails_changes_nothing_in_the_view():
    placements = placed(A, 'web-0', 's1')
    view = kb(
        [site('s1'), site('s2')], appliances={A: spec()}, placements=placements
    )
    before = repr(view)
    plan = planner().plan(view, Events(failed=frozenset({'s1'})))
    (move,) = plan.moves
    assert (move.from_site, move.site) == ('s1', 's2')
    assert move.reason == 'site s1: failed (what-if)'
    assert 's1' not in plan.capacity_left
    assert plan.capacity_left['s2']['ram_mb'] == 32768.0 - 2048.0
    assert repr(view) == before
    assert plan.affected_appliances() == [A]


def test_draining_site_members_move_away():
    view = kb(
        [site('s1', maintenance='draining'), site('s2')],
        appliances={A: spec()},
        placements=placed(A, 'web-0', 's1'),
    )
    (move,) = planner().plan(view).moves
    assert (move.from_site, move.site, move.reason) == (
        's1',
        's2',
        'site s1: draining',
    )


def test_energy_weigher_prefers_the_greener_site():
    view = kb(
        [
            site('coal', carbon_intensity=800.0, pue=1.6),
            site('hydro', carbon_intensity=20.0, pue=1.2),
        ],
        appliances={A: spec(count=2)},
    )
    placed_at = sites_of(planner(energy=1.0).plan(view))
    assert set(placed_at.values()) == {'hydro'}


def test_headroom_is_kept_free():
    view = kb(
        [site('s1', vcpu=10.0)],
        appliances={A: spec(count=10, flavor='m1.tiny', headroom_pct=20)},
    )
    plan = planner().plan(view)
    assert len(plan.moves) == 8
    assert len(plan.unplaced) == 2


def test_placed_but_not_built_members_reserve_their_room():
    view = kb(
        [site('s1', vcpu=4.0), site('s2', vcpu=4.0)],
        appliances={A: spec(flavor='m1.large'), B: spec(flavor='m1.large')},
        placements=placed(A, 'web-0', 's1'),
    )
    (move,) = planner().plan(view).moves
    assert (move.appliance_id, move.site) == (B, 's2')


@pytest.mark.parametrize('weights', [{'free_ram': 1.0}, {'pack': 1.0}])
def test_plans_are_the_same_whatever_the_dict_order(weights):
    sites = [site('s%d' % i) for i in range(5)]
    apps = {('%x' % i) * 32: spec(count=2, spread=2) for i in range(1, 6)}
    first = planner(**weights).plan(kb(sites, appliances=apps))
    again = planner(**weights).plan(
        kb(list(reversed(sites)), appliances=dict(reversed(apps.items())))
    )
    assert first.to_dict() == again.to_dict()


def test_what_if_reports_only_what_the_events_change():
    from sodos.analyseplan import whatif

    placements = {}
    placements.update(placed(A, 'web-0', 's1'))
    view = kb(
        [site('s1'), site('s2', vcpu=0.5), site('s3')],
        appliances={A: spec(), B: spec('new')},
        placements=placements,
    )
    report = whatif.ask(planner(), view, ['s1'], [], NOW)
    # B is new: the planner places it anyway, the question changes
    # nothing about it.
    assert [
        (m['member'], m['from_site'], m['site']) for m in report['moves']
    ] == [('web-0', 's1', 's3')]
    assert report['affected_appliances'] == [A]
    text = whatif.as_text(report)
    assert text.startswith('What if s1 fails:\n1 appliance(s) affected: app')
    assert 's3' in text
    with pytest.raises(ValueError, match='no site named s9'):
        whatif.ask(planner(), view, ['s9'], [], NOW)


def test_overloaded_site_sheds_its_lowest_priority_members():
    placements = {}
    for aid in (A, B):
        placements.update(placed(aid, 'web-0', 's1', flavor='m1.large'))
    servers = {k: {'id': k, 'status': 'ACTIVE'} for k in placements}
    view = kb(
        [
            site('s1', vcpu=8.0, used=(8.0, 16384.0, 160.0), servers=servers),
            site('s2'),
        ],
        appliances={
            A: spec('low', flavor='m1.large', priority=10),
            B: spec('high', flavor='m1.large', priority=90),
        },
        placements=placements,
    )
    plan = planner().plan(view, overloaded={'s1': 0.8})
    (move,) = plan.moves
    assert (move.appliance_id, move.from_site, move.site) == (A, 's1', 's2')
    assert move.reason == 'site s1 overloaded'
    # Once the moved server is placed elsewhere, its leftover copy at s1
    # no longer counts: nothing more moves.
    placements.update(placed(A, 'web-0', 's2', flavor='m1.large'))
    again = planner().plan(view, overloaded={'s1': 0.8})
    assert again.moves == []


def test_consolidation_empties_a_site_when_it_saves():
    placements = {}
    placements.update(placed(A, 'web-0', 'dirty', flavor='m1.small'))
    placements.update(placed(B, 'web-0', 'green', flavor='m1.small'))
    servers = lambda key: {key: {'id': key, 'status': 'ACTIVE'}}  # noqa: E731
    view = kb(
        [
            site(
                'dirty',
                carbon_intensity=900.0,
                cost_per_vcpu_hour=0.05,
                servers=servers('%s/web-0' % A),
                used=(1.0, 2048.0, 20.0),
            ),
            site(
                'green',
                carbon_intensity=20.0,
                cost_per_vcpu_hour=0.01,
                servers=servers('%s/web-0' % B),
                used=(1.0, 2048.0, 20.0),
            ),
        ],
        appliances={A: spec('a'), B: spec('b')},
        placements=placements,
    )
    assert planner().plan(view).moves == []
    plan = planner().plan(view, consolidate=0.1)
    (move,) = plan.moves
    assert (move.appliance_id, move.from_site, move.site) == (
        A,
        'dirty',
        'green',
    )
    assert plan.consolidation['site'] == 'dirty'
    assert plan.consolidation['saving_per_hour'] > 0
    assert 'emptying dirty saves' in plan.summary()


def test_shipped_filters_are_the_default_configuration():
    from sodos.conf import analyseplan as analyseplan_conf

    default = next(
        o.default for o in analyseplan_conf.OPTS if o.name == 'filters'
    )
    assert [f.name for f in filters.shipped()] == default
