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

"""The planner never places a guest where its owner's policy forbids
it, and keeps guests within what an owner lends."""

from sodos.analyseplan import placing
from sodos.analyseplan import repair
from sodos.analyseplan import sharing
from sodos.analyseplan.view import Events
from sodos.analyseplan.view import SiteTable
from sodos.domain import appliance
from tests.unit.analyseplan import kbviews
from tests.unit.community.views import ORG_A
from tests.unit.community.views import ORG_B
from tests.unit.community.views import ORG_C
from tests.unit.community.views import PROJECT
from tests.unit.community.views import planner
from tests.unit.community.views import site
from tests.unit.community.views import sites_of
from tests.unit.community.views import spec
from tests.unit.community.views import view

A = 'a' * 32
B = 'b' * 32


def test_without_owners_the_filter_stands_aside():
    kb = view([site('s1'), site('s2')], {A: spec(ORG_B, count=2)})
    plan = planner().plan(kb)
    assert len(plan.moves) == 2
    p = placing.Placer(planner().filters, [], _table(kb), {}, {}, {})
    assert not any(isinstance(f, sharing.SharingFilter) for f in p.filters)


def _table(kb):
    return SiteTable(kb, Events())


def test_a_site_whose_owner_does_not_admit_the_guest_is_refused():
    # s1 has more free RAM (it would win) but lends to no one.
    sites = [
        site('s1', ORG_A, ram=65536.0),
        site('s2', ORG_C),
    ]
    policies = {ORG_A: {'admit_owners': []}}
    kb = view(sites, {A: spec(ORG_B), B: spec(ORG_A)}, policies)
    plan = planner().plan(kb)
    assert sites_of(plan) == {A + '/web-0': 's2', B + '/web-0': 's1'}


def test_the_refusal_is_explained():
    kb = view(
        [site('s1', ORG_A)],
        {A: spec(ORG_B)},
        {ORG_A: {'admit_owners': [ORG_C]}},
    )
    plan = planner().plan(kb)
    assert plan.moves == []
    [unplaced] = plan.unplaced
    assert 's1: owner orga does not admit owner orgb' in unplaced.reason


def test_an_admitted_project_passes_where_its_owner_does_not():
    kb = view(
        [site('s1', ORG_A)],
        {A: spec(ORG_B)},
        {ORG_A: {'admit_owners': [], 'admit_projects': [PROJECT[ORG_B]]}},
    )
    assert sites_of(planner().plan(kb)) == {A + '/web-0': 's1'}


def test_a_project_of_no_owner_goes_where_everyone_is_admitted():
    sites = [site('s1', ORG_A, ram=65536.0), site('s2', ORG_B)]
    policies = {ORG_A: {'admit_owners': [ORG_B]}}
    kb = view(sites, {A: spec(None)}, policies)
    assert sites_of(planner().plan(kb)) == {A + '/web-0': 's2'}


def test_guests_use_at_most_what_the_owner_lends():
    # 16 vCPUs, 25 % lent: 4 guests' m1.small (1 vCPU each).
    kb = view(
        [site('s1', ORG_A)],
        {A: spec(ORG_B, count=6), B: spec(ORG_A, name='own', count=10)},
        {ORG_A: {'lend_share_pct': 25}},
    )
    plan = planner().plan(kb)
    guests = [k for k, s in sites_of(plan).items() if k.startswith(A)]
    own = [k for k, s in sites_of(plan).items() if k.startswith(B)]
    assert len(guests) == 4
    # The owner's own projects use the reserved part and the rest.
    assert len(own) == 10
    assert len(plan.unplaced) == 2
    assert 'owner orga lends 4 vcpu, guests use 4' in plan.unplaced[0].reason


def test_an_absolute_limit_caps_the_share():
    kb = view(
        [site('s1', ORG_A)],
        {A: spec(ORG_B, count=3)},
        {ORG_A: {'lend_ram_mb': 4096}},
    )
    plan = planner().plan(kb)
    assert len(plan.moves) == 2
    assert 'lends 4096 ram_mb' in plan.unplaced[0].reason


def test_guests_kept_there_count_against_what_is_lent():
    placements = {}
    for n in range(3):
        placements.update(kbviews.placed(A, 'web-%d' % n, 's1'))
    kb = view(
        [site('s1', ORG_A)],
        {A: spec(ORG_B, count=3), B: spec(ORG_C, name='late')},
        {ORG_A: {'lend_vcpus': 3}},
        placements,
    )
    plan = planner().plan(kb)
    assert plan.kept == 3
    assert plan.moves == []
    assert 'lends 3 vcpu, guests use 3' in plan.unplaced[0].reason


def test_a_site_without_owner_takes_anyone():
    kb = view(
        [site('s1', ORG_A), site('s2')],
        {A: spec(ORG_B, count=2)},
        {ORG_A: {'admit_owners': []}},
    )
    assert set(sites_of(planner().plan(kb)).values()) == {'s2'}


def test_the_repair_step_places_what_greedy_leaves_out_on_owned_sites():
    # Greedy puts a large on each site and leaves both tinies out; one
    # large and both tinies is three placed, s0's owner admitting all.
    kb = view(
        [
            site('s0', ORG_A, vcpu=8.0, ram=8192.0),
            site('s1', vcpu=6.0, ram=8192.0),
        ],
        {
            A: spec(ORG_B, name='larges', count=2, flavor='m1.large'),
            B: spec(ORG_B, name='tinies', count=2, flavor='m1.tiny'),
        },
    )
    assert len(planner().plan(kb).moves) == 2
    assert len(planner(repair_budget=10.0).plan(kb).moves) == 3


def test_the_repair_step_keeps_guests_within_what_is_lent():
    # s0 lends one vCPU: of the tinies one at most goes there.
    kb = view(
        [
            site('s0', ORG_A, vcpu=8.0, ram=8192.0),
            site('s1', vcpu=6.0, ram=8192.0),
        ],
        {
            A: spec(ORG_B, name='larges', count=2, flavor='m1.large'),
            B: spec(ORG_B, name='tinies', count=3, flavor='m1.tiny'),
        },
        {ORG_A: {'lend_vcpus': 1}},
    )
    plan = planner(repair_budget=10.0).plan(kb)
    assert len(plan.moves) == 3  # the tinies
    assert len([m for m in plan.moves if m.site == 's0']) <= 1


def test_the_repair_step_answers_again_when_only_a_policy_changed():
    # One guest's tiny, s0 lending room for it, then not: the same
    # members and usage, so only the policy tells the questions apart.
    def solve(policies):
        kb = view(
            [site('s0', ORG_A, vcpu=1.0, ram=1024.0)],
            {A: spec(ORG_B, flavor='m1.tiny')},
            policies,
        )
        table = _table(kb)
        table.sharing = sharing.ledger(kb, table)
        valid = appliance.validate(kb['appliances'][A]['spec'])
        (inst,) = appliance.instances(A, valid)
        member = repair.Member(inst, [0], None, ORG_B, PROJECT[ORG_B])
        constraints = {A: valid['constraints']}
        return repair.solve(table, constraints, {}, [member], 10.0)

    assert solve({}) == {A + '/web-0': 0}
    assert solve({ORG_A: {'lend_vcpus': 0}}) is None


def test_the_repair_step_never_breaks_a_policy():
    # With a repair budget the answer is greedy's: nothing better keeps
    # to the policy.
    kb = view(
        [site('s1', ORG_A, ram=65536.0), site('s2', ORG_C, vcpu=1.0)],
        {A: spec(ORG_B, count=3)},
        {ORG_A: {'admit_owners': []}},
    )
    plan = planner(repair_budget=2.0).plan(kb)
    assert set(sites_of(plan).values()) == {'s2'}
    assert len(plan.unplaced) == 2


def _consolidation_view(policies):
    """B's member on a dirty site of no owner, A's on a green site of A:
    emptying the dirty one would move B's member onto A's site."""
    placements = kbviews.placed(A, 'web-0', 'dirty', flavor='m1.small')
    placements.update(kbviews.placed(B, 'web-0', 'green', flavor='m1.small'))

    def servers(key):
        return {key: {'id': key, 'status': 'ACTIVE'}}

    sites = [
        site(
            'dirty',
            carbon_intensity=900.0,
            cost_per_vcpu_hour=0.05,
            servers=servers(A + '/web-0'),
            used=(1.0, 2048.0, 20.0),
        ),
        site(
            'green',
            ORG_A,
            carbon_intensity=20.0,
            cost_per_vcpu_hour=0.01,
            servers=servers(B + '/web-0'),
            used=(1.0, 2048.0, 20.0),
        ),
    ]
    return view(
        sites,
        {A: spec(ORG_B), B: spec(ORG_A, name='own')},
        policies,
        placements,
    )


def test_consolidation_keeps_to_the_policies():
    # Lending to everyone, the dirty site is emptied onto A's.
    plan = planner().plan(_consolidation_view({}), consolidate=0.1)
    assert plan.consolidation['site'] == 'dirty'
    assert sites_of(plan) == {A + '/web-0': 'green'}
    # A lends to no one: nothing moves.
    kb = _consolidation_view({ORG_A: {'admit_owners': []}})
    plan = planner().plan(kb, consolidate=0.1)
    assert plan.consolidation is None
    assert plan.moves == []


def test_policies_change_nothing_while_no_site_has_an_owner():
    sites = [site('s1', ram=65536.0), site('s2'), site('s3', vcpu=2.0)]
    apps = {A: spec(ORG_B, count=3, spread=2), B: spec(ORG_A, count=4)}
    plain = kbviews.kb(sites, apps)
    with_policies = view(
        sites, apps, {ORG_A: {'admit_owners': [], 'lend_share_pct': 0}}
    )
    for budget in (0.0, 2.0):
        assert (
            planner(budget).plan(with_policies).to_dict()
            == planner(budget).plan(plain).to_dict()
        )
