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

"""The planner's choices under contention follow fair share."""

from sodos.analyseplan import fairness
from sodos.analyseplan import sharing as sharing_mod
from sodos.analyseplan.view import Events
from sodos.analyseplan.view import SiteTable
from tests.unit.analyseplan import kbviews
from tests.unit.community.views import ORG_A
from tests.unit.community.views import ORG_B
from tests.unit.community.views import ORG_C
from tests.unit.community.views import planner
from tests.unit.community.views import site
from tests.unit.community.views import sites_of
from tests.unit.community.views import spec
from tests.unit.community.views import view


def appliance_id(owner, n):
    return '%s%02d' % (owner[-1] * 30, n)


def demand(owner, count):
    """``count`` one-server appliances (m1.large: 4 vCPUs) of ``owner``."""
    return {
        appliance_id(owner, n): spec(owner, name='%s-%d' % (owner, n))
        for n in range(count)
    } | {}


def winners(plan, owners):
    placed = {key.split('/')[0] for key in sites_of(plan)}
    return {
        owner: sum(1 for a in placed if a.startswith(owner[-1] * 30))
        for owner in owners
    }


def large(owner, count):
    return {
        appliance_id(owner, n): spec(
            owner, name='%s-%d' % (owner, n), flavor='m1.large'
        )
        for n in range(count)
    }


def test_contention_is_shared_by_contribution():
    # A contributes 24 vCPUs, B 8: room for 8 m1.large in all, both
    # ask for 8. A is entitled to 3/4 of the federation.
    sites = [
        site('sa', ORG_A, vcpu=24.0, ram=98304.0),
        site('sb', ORG_B, vcpu=8.0),
    ]
    kb = view(sites, large(ORG_A, 8) | large(ORG_B, 8))
    plan = planner().plan(kb)
    assert winners(plan, (ORG_A, ORG_B)) == {ORG_A: 6, ORG_B: 2}


def test_weights_set_by_the_federation_decide():
    sites = [
        site('sa', ORG_A, vcpu=24.0, ram=98304.0),
        site('sb', ORG_B, vcpu=8.0),
    ]
    policies = {ORG_A: {'weight': 1.0}, ORG_B: {'weight': 1.0}}
    kb = view(sites, large(ORG_A, 8) | large(ORG_B, 8), policies)
    plan = planner().plan(kb)
    assert winners(plan, (ORG_A, ORG_B)) == {ORG_A: 4, ORG_B: 4}


def test_recent_usage_lowers_an_owners_turn():
    # Equal contributions; A used much lately: B goes first and takes
    # the room left.
    sites = [site('sa', ORG_A, vcpu=8.0), site('sb', ORG_B, vcpu=8.0)]
    kb = view(sites, large(ORG_A, 4) | large(ORG_B, 4))
    kb['owners'] = {ORG_A: {'usage': {'mean': 16.0, 'at': 1.0}}}
    plan = planner().plan(kb)
    assert winners(plan, (ORG_A, ORG_B)) == {ORG_A: 0, ORG_B: 4}
    # Without that history they share evenly.
    kb['owners'] = {}
    plan = planner().plan(kb)
    assert winners(plan, (ORG_A, ORG_B)) == {ORG_A: 2, ORG_B: 2}


def test_members_kept_count_as_usage():
    sites = [site('sa', ORG_A, vcpu=16.0), site('sb', ORG_B, vcpu=16.0)]
    placements = {}
    kept = large(ORG_A, 2)
    for aid in kept:
        placements.update(
            kbviews.placed(aid, 'web-0', 'sa', flavor='m1.large')
        )
    new_a = {
        appliance_id(ORG_A, n + 10): spec(
            ORG_A, name='new-%d' % n, flavor='m1.large'
        )
        for n in range(4)
    }
    kb = view(sites, kept | new_a | large(ORG_B, 4), placements=placements)
    plan = planner().plan(kb)
    # 6 servers of room left: B (nothing used) gets 4, A what remains.
    assert plan.kept == 2
    assert winners(plan, (ORG_A, ORG_B)) == {ORG_A: 2, ORG_B: 4}


def test_ties_break_the_same_way_every_time():
    # Equal entitlement, no usage: the owners alternate, and the first
    # turn goes to the appliance first in the placer's order (its id).
    sites = [site('sa', ORG_A, vcpu=8.0), site('sb', ORG_B, vcpu=4.0)]
    kb = view(
        sites,
        large(ORG_A, 3) | large(ORG_B, 3),
        {ORG_A: {'weight': 2.0}, ORG_B: {'weight': 2.0}},
    )
    first = planner().plan(kb)
    assert first.to_dict() == planner().plan(kb).to_dict()
    # Room for 3: A (its ids sort first) takes the odd one.
    assert winners(first, (ORG_A, ORG_B)) == {ORG_A: 2, ORG_B: 1}
    order = [m.appliance_id for m in first.moves]
    assert order == [
        appliance_id(ORG_A, 0),
        appliance_id(ORG_B, 0),
        appliance_id(ORG_A, 1),
    ]


def test_priority_orders_an_owners_own_appliances():
    sites = [site('sa', ORG_A, vcpu=4.0)]
    apps = {
        appliance_id(ORG_A, 0): spec(ORG_A, name='low', flavor='m1.large'),
        appliance_id(ORG_A, 1): spec(
            ORG_A, name='high', flavor='m1.large', priority=90
        ),
    }
    plan = planner().plan(view(sites, apps))
    assert [m.appliance_id for m in plan.moves] == [appliance_id(ORG_A, 1)]


def test_projects_of_no_owner_come_last():
    sites = [site('sa', ORG_A, vcpu=4.0), site('sc', ORG_C, vcpu=4.0)]
    apps = {'0' * 32: spec(None, name='stray', flavor='m1.large')} | large(
        ORG_C, 2
    )
    plan = planner().plan(view(sites, apps))
    assert sorted(m.appliance_id for m in plan.moves) == sorted(
        large(ORG_C, 2)
    )


def test_a_kept_member_of_a_flavor_its_site_forgot_counts_as_nothing():

    sites = [site('sa', ORG_A, vcpu=8.0), site('sb', ORG_B, vcpu=8.0)]
    kept = {appliance_id(ORG_A, 0): spec(ORG_A, flavor='m1.gone')}
    placements = kbviews.placed(
        appliance_id(ORG_A, 0), 'web-0', 'sa', flavor='m1.gone'
    )
    kb = view(sites, kept | large(ORG_B, 1), placements=placements)
    plan = planner().plan(kb)
    assert plan.kept == 1
    assert winners(plan, (ORG_B,)) == {ORG_B: 1}
    # The planner's own count of it: nothing, not infinity.
    table = SiteTable(kb, Events())
    table.sharing = sharing_mod.ledger(kb, table)
    fair = fairness.fair_share(kb, table)
    fairness.count(table, fair, 0, ORG_B, 'm1.gone', 1)
    assert table.sharing.guests[0] == [0.0, 0.0]
    assert fair.factors() == {ORG_A: 1.0, ORG_B: 1.0}
