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

"""Appliances placed as units, the repair step, and the what-if's
report, on the smallest federations that showed each problem."""

import sys

from sodos.analyseplan import filters
from sodos.analyseplan import planner as planner_mod
from sodos.analyseplan import weighers
from sodos.analyseplan import whatif
from tests.unit.analyseplan.kbviews import kb
from tests.unit.analyseplan.kbviews import placed
from tests.unit.analyseplan.kbviews import site
from tests.unit.analyseplan.kbviews import spec

A = 'a' * 32
B = 'b' * 32
# When a what-if is asked (the planner's clock).
NOW = 1_000_000.0


def planner(repair_budget=0.0):
    return planner_mod.Planner(
        filters.shipped(),
        [(weighers.FreeRamWeigher(), 1.0)],
        repair_budget=repair_budget,
    )


def two_members(g0_image, g0_count, g1_count, **constraints):
    record = spec(**constraints)
    record['members'] = [
        {
            'name': 'g0',
            'image': g0_image,
            'flavor': 'm1.small',
            'count': g0_count,
        },
        {'name': 'g1', 'image': 'cirros', 'flavor': 'm1.small'},
    ]
    if g1_count > 1:
        record['members'][1]['count'] = g1_count
    return record


def test_spread_retries_a_member_once_its_siblings_span_the_sites():
    # g0 (its image only at s1) twice, g1 once, spread 2: g1 takes s2,
    # then the second g0 may join the first at s1.
    view = kb(
        [site('s1', images=('cirros', 'special')), site('s2')],
        appliances={A: two_members('special', 2, 1, spread=2)},
    )
    plan = planner().plan(view)
    assert plan.unplaced == []
    assert sorted((m.member, m.site) for m in plan.moves) == [
        ('g0-0', 's1'),
        ('g0-1', 's1'),
        ('g1-0', 's2'),
    ]


def test_an_unplaced_members_reason_is_true_when_the_plan_ends():
    # As above, but s2 has no room for g1: the appliance never spans two
    # sites, and the second g0 says so, in the state the plan ends in.
    view = kb(
        [site('s1', images=('cirros', 'special')), site('s2', vcpu=0.5)],
        appliances={A: two_members('special', 2, 1, spread=2)},
    )
    plan = planner().plan(view)
    reasons = {u.member: u.reason for u in plan.unplaced}
    assert sorted(reasons) == ['g0-1', 'g1-0']
    assert 's1: already hosts a member (spread 2)' in reasons['g0-1']
    assert 's2: image special not present' in reasons['g0-1']
    assert 's2: no room for m1.small (vcpu' in reasons['g1-0']


def test_affinity_chooses_the_site_for_the_whole_appliance():
    # s1 has the most free RAM but room for one m1.large only; s2 takes
    # all three.
    view = kb(
        [
            site('s1', vcpu=4.0, ram=65536.0),
            site('s2', vcpu=12.0, ram=32768.0),
        ],
        appliances={A: spec(count=3, flavor='m1.large', affinity=True)},
    )
    plan = planner().plan(view)
    assert plan.unplaced == []
    assert {m.site for m in plan.moves} == {'s2'}


def test_affinity_with_no_site_for_all_places_as_many_as_one_site_takes():
    view = kb(
        [
            site('s1', vcpu=4.0, ram=65536.0),
            site('s2', vcpu=8.0, ram=32768.0),
        ],
        appliances={A: spec(count=3, flavor='m1.large', affinity=True)},
    )
    plan = planner().plan(view)
    assert {m.site for m in plan.moves} == {'s2'}
    assert len(plan.moves) == 2
    (left,) = plan.unplaced
    assert 's1: affinity: the other members are elsewhere' in left.reason


def packing_view():
    # Greedy puts a large on each site and leaves both tinies out for
    # want of RAM; one large and both tinies is three placed.
    return kb(
        [site('s0', vcpu=8.0, ram=8192.0), site('s1', vcpu=6.0, ram=8192.0)],
        appliances={
            A: spec('larges', count=2, flavor='m1.large'),
            B: spec('tinies', count=2, flavor='m1.tiny'),
        },
    )


def test_the_repair_step_places_what_greedy_leaves_out():
    view = packing_view()
    assert len(planner().plan(view).unplaced) == 2  # greedy alone
    plan = planner(repair_budget=10.0).plan(view)
    assert sorted(m.appliance_id for m in plan.moves) == [A, B, B]
    large = next(m.site for m in plan.moves if m.appliance_id == A)
    assert {m.site for m in plan.moves if m.appliance_id == B} != {large}
    (left,) = plan.unplaced
    assert left.appliance_id == A
    assert 'no room for m1.large (ram_mb: needs 8192, 7168 free)' in (
        left.reason
    )


def test_the_repair_step_does_not_give_up_a_higher_priority_member():
    view = kb(
        [site('s0', vcpu=4.0, ram=16384.0), site('s1', vcpu=4.0, ram=8192.0)],
        appliances={
            A: spec('smalls', count=2, flavor='m1.small', priority=10),
            B: spec('larges', count=2, flavor='m1.large', priority=90),
        },
    )
    plan = planner(repair_budget=10.0).plan(view)
    assert sorted(m.appliance_id for m in plan.moves) == [B, B]


def test_the_repair_step_does_not_leave_many_out_for_a_little_priority():
    # The large one (priority 50) or the four tinies (priority 10) fit,
    # not both: the four are worth 44 to its 51, and four times the
    # members.
    view = kb(
        [site('s0', vcpu=4.0, ram=8192.0)],
        appliances={
            A: spec('large', flavor='m1.large', priority=50),
            B: spec('tinies', count=4, flavor='m1.tiny', priority=10),
        },
    )
    assert [m.appliance_id for m in planner().plan(view).moves] == [A]
    plan = planner(repair_budget=10.0).plan(view)
    assert [m.appliance_id for m in plan.moves] == [B] * 4
    assert [u.appliance_id for u in plan.unplaced] == [A]


def test_the_repair_step_balances_members_placed_and_their_worth():
    # Both larges (worth 182, 2 members), one large and four tinies
    # (135, 5) or eight tinies (88, 8): the middle one has the highest
    # lower share of the two bests (5/8 of the members, 74 % of worth).
    view = kb(
        [site('s0', vcpu=8.0, ram=16384.0)],
        appliances={
            A: spec('larges', count=2, flavor='m1.large', priority=90),
            B: spec('tinies', count=8, flavor='m1.tiny', priority=10),
        },
    )
    assert len(planner().plan(view).moves) == 2
    plan = planner(repair_budget=10.0).plan(view)
    placed = sorted(m.appliance_id for m in plan.moves)
    assert placed == [A] + [B] * 4


def test_the_repair_step_places_interchangeable_members_as_a_count():
    # Twelve tinies of one appliance, spread 3, and larges that crowd
    # them out under greedy: the repair places all it can and keeps the
    # spread.
    view = kb(
        [
            site('s0', vcpu=8.0, ram=9216.0),
            site('s1', vcpu=8.0, ram=9216.0),
            site('s2', vcpu=8.0, ram=12288.0),
        ],
        appliances={
            A: spec('larges', count=3, flavor='m1.large'),
            B: spec('tinies', count=12, flavor='m1.tiny', spread=3),
        },
    )
    greedy = planner().plan(view)
    plan = planner(repair_budget=10.0).plan(view)
    assert len(plan.moves) > len(greedy.moves)
    tinies = [m.site for m in plan.moves if m.appliance_id == B]
    assert len(tinies) == 12
    assert len(set(tinies)) == 3


def test_what_if_shows_a_pending_member_the_failure_leaves_unplaced():
    # B is new and would go to s2, the only site it may use; with s2
    # failed it has none, and the what-if says so.
    view = kb(
        [site('s1'), site('s2')],
        appliances={A: spec(), B: spec('pinned', sites=['s2'])},
        placements=placed(A, 'web-0', 's1'),
    )
    report = whatif.ask(planner(), view, ['s2'], [], NOW)
    assert [(u['appliance_id'], u['member']) for u in report['unplaced']] == [
        (B, 'web-0')
    ]
    assert report['affected_appliances'] == [B]


def test_what_if_shows_a_pending_member_sent_elsewhere():
    view = kb(
        [site('s1', ram=16384.0), site('s2')],
        appliances={B: spec('new')},
    )
    report = whatif.ask(planner(), view, [], ['s2'], NOW)
    assert [(m['member'], m['site']) for m in report['moves']] == [
        ('web-0', 's1')
    ]
    assert report['events'] == {'failed': [], 'drained': ['s2']}


def test_the_same_question_is_not_solved_twice(monkeypatch):
    from scipy import optimize

    from sodos.analyseplan import repair

    calls = []
    solve = optimize.milp

    def counted(*args, **kwargs):
        calls.append(1)
        return solve(*args, **kwargs)

    monkeypatch.setattr(optimize, 'milp', counted)
    repair._LAST.clear()
    first = planner(repair_budget=10.0).plan(packing_view())
    solved = len(calls)
    again = planner(repair_budget=10.0).plan(packing_view())
    assert solved >= 1
    assert len(calls) == solved
    assert first.to_dict() == again.to_dict()
    assert len(first.moves) == 3


def test_without_the_solver_greedy_stands(monkeypatch):
    from sodos.analyseplan import repair

    repair._LAST.clear()
    # An entry of None in sys.modules makes the import fail.
    monkeypatch.setitem(sys.modules, 'scipy', None)
    plan = planner(repair_budget=10.0).plan(packing_view())
    assert len(plan.moves) == 2
    repair._LAST.clear()
