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

"""AnalysePlan's cycle on the in-memory KB: plans committed with their
term, follow-ups, drains and alerts."""

import prometheus_client
import pytest

from sodos.analyseplan import notices
from sodos.analyseplan import role as analyseplan_role
from sodos.analyseplan import usage
from tests.unit.analyseplan import kbviews
from tests.unit.analyseplan.kbviews import spec
from tests.unit.helpers import Wrapped

A = 'a' * 32


@pytest.fixture
def fed(knowmon):
    """'here' plus two more sites, each with a monitoring report."""
    return kbviews.reporting_sites(knowmon.backend)


def placements(fed):
    return {k: p['site'] for k, p in fed.read('placements').items()}


def creates(fed):
    return sorted(
        (a['site'], a['params']['member'])
        for a in fed.read('actions').values()
        if a['kind'] == 'server.create'
    )


def test_new_appliance_is_placed_with_its_build_actions(conf, api, fed):
    fed.propose(
        'appliance.put', {'appliance_id': A, 'spec': spec(count=2, spread=2)}
    )
    role = analyseplan_role.AnalysePlanRole(conf, api)
    line = role.cycle()
    assert line == (
        'analyseplan: active (leader, term 1): 1 appliance(s), '
        '0 kept, 2 to place'
    )
    where = placements(fed)
    assert len(set(where.values())) == 2
    assert creates(fed) == sorted(
        (site, key.split('/')[1]) for key, site in where.items()
    )
    assert role.cycle().endswith('1 appliance(s), 2 kept')
    assert len(creates(fed)) == 2


def test_a_plan_of_an_older_term_is_refused_whole(conf, api, fed):
    fed.propose('appliance.put', {'appliance_id': A, 'spec': spec()})
    fed.propose('leader.claim', {'site': 'here'})  # term 1 leads now
    deposed = Wrapped(api, status=dict(api.status(), term=0))
    line = analyseplan_role.AnalysePlanRole(conf, deposed).cycle()
    assert 'NOT APPLIED: plan.apply: stale term 0' in line
    assert placements(fed) == {}
    assert fed.read('actions') == {}


def test_members_of_a_site_down_are_rebuilt_elsewhere(conf, api, fed):
    fed.propose(
        'appliance.put', {'appliance_id': A, 'spec': spec(count=2, spread=2)}
    )
    role = analyseplan_role.AnalysePlanRole(conf, api)
    role.cycle()
    recovered = recoveries()
    lost = next(s for s in placements(fed).values() if s != 'here')
    fed.propose('site.status', {'site': lost, 'status': 'down'})
    line = role.cycle()
    assert line.endswith('1 kept, 1 to place')
    where = placements(fed)
    assert lost not in where.values()
    assert len(set(where.values())) == 2
    # The member's wait for its new place, timed once.
    assert recoveries() == recovered + 1
    role.cycle()
    assert recoveries() == recovered + 1


def test_the_plan_after_a_site_fails_is_greedy_the_next_repairs(
    conf, api, fed, monkeypatch
):
    from sodos.analyseplan import planner as planner_mod

    budgets = []
    from_conf = planner_mod.from_conf

    def recorded(*args, **kwargs):
        planner = from_conf(*args, **kwargs)
        budgets.append(planner.repair_budget)
        return planner

    monkeypatch.setattr(planner_mod, 'from_conf', recorded)
    fed.propose(
        'appliance.put', {'appliance_id': A, 'spec': spec(count=2, spread=2)}
    )
    role = analyseplan_role.AnalysePlanRole(conf, api)
    role.cycle()
    lost = next(s for s in placements(fed).values() if s != 'here')
    fed.propose('site.status', {'site': lost, 'status': 'down'})
    # Recovery first, greedy alone; the repair again from the next plan,
    # the same site still down.
    assert role.cycle().endswith('1 kept, 1 to place')
    assert lost not in placements(fed).values()
    role.cycle()
    assert budgets == [
        planner_mod.REPAIR_BUDGET_S,
        0.0,
        planner_mod.REPAIR_BUDGET_S,
    ]


def test_each_cycle_plans_with_what_the_earlier_cycles_worked_out(
    conf, api, fed, monkeypatch
):
    from sodos.analyseplan import planner as planner_mod

    planners = []
    from_conf = planner_mod.from_conf

    def recorded(*args, **kwargs):
        planners.append(from_conf(*args, **kwargs))
        return planners[-1]

    monkeypatch.setattr(planner_mod, 'from_conf', recorded)
    fed.propose(
        'appliance.put', {'appliance_id': A, 'spec': spec(count=2, spread=2)}
    )
    role = analyseplan_role.AnalysePlanRole(conf, api)
    role.cycle()
    role.cycle()
    first, second = planners
    assert first is not second
    assert first.cache is second.cache
    # The spec was validated by the first cycle only.
    assert second.cache.validations == 1


def recoveries():
    return prometheus_client.REGISTRY.get_sample_value(
        'sodos_recovery_duration_seconds_count'
    )


def test_unplaceable_member_raises_one_alert_closed_once_placed(
    conf, api, fed
):
    fed.propose(
        'appliance.put', {'appliance_id': A, 'spec': spec(image='ubuntu')}
    )
    role = analyseplan_role.AnalysePlanRole(conf, api)
    line = role.cycle()
    assert 'image ubuntu not present' in line
    role.cycle()
    (alert,) = fed.read('alerts').values()
    assert alert['kind'] == 'unplaced'
    assert 'cannot be placed' in alert['message']
    # Its reason changes: the same alert tells the new one.
    fed.propose('site.status', {'site': 's3', 'status': 'down'})
    role.cycle()
    role.cycle()
    (again,) = fed.read('alerts').values()
    assert again['raised_at'] == alert['raised_at']
    assert again['message'] != alert['message']
    assert 's3: site down' in again['message'], again['message']
    fed.propose('site.status', {'site': 's3', 'status': 'up'})
    fed.report('s3', images=('cirros', 'ubuntu'))
    role.cycle()
    assert placements(fed) == {'%s/web-0' % A: 's3'}
    assert fed.read('alerts') == {}


def test_drain_moves_members_then_marks_the_site_drained(conf, api, fed):
    fed.propose('appliance.put', {'appliance_id': A, 'spec': spec()})
    role = analyseplan_role.AnalysePlanRole(conf, api)
    role.cycle()
    ((key, home),) = placements(fed).items()
    fed.propose('site.maintenance', {'site': home, 'state': 'draining'})
    role.cycle()
    (new_home,) = placements(fed).values()
    assert new_home != home
    # The new server is built; the old one is still there.
    for action in fed.read('actions').values():
        fed.propose(
            'action.update',
            {'action_id': action['action_id'], 'state': 'done'},
        )
    fed.report(home, servers={key: {'id': 'old', 'status': 'ACTIVE'}})
    role.cycle()
    deletes = [
        a for a in fed.read('actions').values() if a['kind'] == 'server.delete'
    ]
    assert [(a['site'], a['params']['member']) for a in deletes] == [
        (home, 'web-0')
    ]
    assert fed.read('sites')[home]['maintenance'] == 'draining'
    fed.report(home)  # the old server is gone
    role.cycle()
    assert fed.read('sites')[home]['maintenance'] == 'drained'


def test_paused_policy_stops_planning(conf, api, fed):
    fed.propose('appliance.put', {'appliance_id': A, 'spec': spec()})
    fed.propose('policy.set', {'key': 'paused', 'value': True})
    line = analyseplan_role.AnalysePlanRole(conf, api).cycle()
    assert line.endswith('paused by policy, not planning')
    assert placements(fed) == {}


def test_a_cycle_commits_its_commands_together(conf, api, fed, monkeypatch):
    # Two appliances, one member of which has no fourth site to go to
    # (an alert): the plan and the alert go to the KB in one batch, plan
    # first.
    fed.propose(
        'appliance.put', {'appliance_id': A, 'spec': spec(count=2, spread=2)}
    )
    fed.propose(
        'appliance.put',
        {'appliance_id': 'b' * 32, 'spec': spec(count=4, spread=4)},
    )
    batches = []
    submit_many = api.submit_many

    def recorded(wires, timeout=None):
        batches.append([w['type'] for w in wires])
        return submit_many(wires, timeout)

    monkeypatch.setattr(api, 'submit_many', recorded)
    role = analyseplan_role.AnalysePlanRole(conf, api)
    role.cycle()
    assert len(batches) == 1
    kinds = batches[0]
    assert kinds[0] == 'plan.apply'
    assert kinds.index('alert.raise') > kinds.index('plan.apply')
    assert len(placements(fed)) == 5
    assert any(a['kind'] == 'unplaced' for a in fed.read('alerts').values())
    role.cycle()
    assert len(batches) == 1  # nothing new to say: nothing submitted


def test_the_leader_records_the_owners_usage_once_per_interval(
    conf, api, fed, monkeypatch
):
    fed.propose('site.profile', {'site': 'here', 'profile': {'owner': 'org'}})
    role = analyseplan_role.AnalysePlanRole(conf, api)
    clock = [10_000.0]
    monkeypatch.setattr(analyseplan_role.time, 'time', lambda: clock[0])
    line = role.cycle()
    assert line.endswith("1 owner(s)' usage recorded")
    assert fed.read('owners')['org']['usage'] == {'mean': 0.0, 'at': 10_000.0}
    clock[0] += usage.INTERVAL_S - 1
    assert 'usage recorded' not in role.cycle()
    clock[0] += 1
    assert role.cycle().endswith("1 owner(s)' usage recorded")


def test_without_owners_no_usage_is_recorded(conf, api, fed):
    role = analyseplan_role.AnalysePlanRole(conf, api)
    assert 'usage' not in role.cycle()
    assert fed.read('owners') == {}


def update(fed, **changes):
    record = fed.read('appliances')[A]
    answer = fed.propose(
        'appliance.update',
        {
            'appliance_id': A,
            'spec': spec(**changes),
            'updated_at': record['updated_at'],
        },
    )
    assert answer['ok'], answer


def test_a_changed_count_is_placed_or_removed_the_rest_kept(conf, api, fed):
    fed.propose(
        'appliance.put', {'appliance_id': A, 'spec': spec(count=2, spread=2)}
    )
    role = analyseplan_role.AnalysePlanRole(conf, api)
    role.cycle()
    first = placements(fed)
    update(fed, count=3, spread=2)
    assert role.wakes_for({'type': 'appliance.update'})
    role.cycle()
    grown = placements(fed)
    assert set(grown) == set(first) | {A + '/web-2'}
    assert {k: grown[k] for k in first} == first
    update(fed, count=1, spread=1)
    role.cycle()
    assert placements(fed) == {A + '/web-0': first[A + '/web-0']}
    deletes = sorted(
        a['params']['member']
        for a in fed.read('actions').values()
        if a['kind'] == 'server.delete'
    )
    assert deletes == ['web-1', 'web-2']


def test_a_guest_nowhere_else_is_told_then_stopped_at_the_deadline(
    conf, api, fed, monkeypatch
):
    # 'here' (owner A) takes one m1.small; B's sites s2 and s3 are full.
    org_a, org_b = 'a1' * 16, 'b1' * 16
    fed.report('here', vcpu=1.0, ram=2048.0)
    for name in ('s2', 's3'):
        fed.report(name, used=(16.0, 32768.0, 0.0))
    projects = {}
    for site, owner in (('here', org_a), ('s2', org_b), ('s3', org_b)):
        fed.propose(
            'site.profile', {'site': site, 'profile': {'owner': owner}}
        )
    for owner, project in ((org_a, '1' * 32), (org_b, '2' * 32)):
        fed.propose('identity.domain.put', {'domain_id': owner, 'name': owner})
        fed.propose(
            'identity.project.put',
            {'project_id': project, 'name': owner, 'domain_id': owner},
        )
        projects[owner] = project
    fed.propose(
        'owner.policy',
        {
            'owner': org_a,
            'policy': {'preemptible': True, 'preempt_notice_s': 60},
        },
    )
    role = analyseplan_role.AnalysePlanRole(conf, api)
    clock = [10_000.0]
    monkeypatch.setattr(analyseplan_role.time, 'time', lambda: clock[0])
    guest = dict(spec(name='guest'), project_id=projects[org_b])
    fed.propose('appliance.put', {'appliance_id': A, 'spec': guest})
    role.cycle()
    assert placements(fed) == {A + '/web-0': 'here'}

    own = dict(spec(name='own', sites=['here']), project_id=projects[org_a])
    fed.propose('appliance.put', {'appliance_id': 'b' * 32, 'spec': own})
    assert 'guest(s) under notice' in role.cycle()
    record = fed.read('owners')[org_a]['reclaims'][A + '/web-0']
    assert (record['site'], record['deadline']) == ('here', 10_060.0)
    [alert] = [
        a for a in fed.read('alerts').values() if a['kind'] == 'reclaim'
    ]
    assert alert['severity'] == 'warning'
    assert alert['message'].startswith(
        'owner %s: member %s/web-0' % (org_b, A)
    )

    clock[0] = 10_059.0
    role.cycle()
    assert placements(fed) == {A + '/web-0': 'here'}
    clock[0] = 10_060.0
    assert 'guest(s) stopped for their host' in role.cycle()
    assert placements(fed) == {}
    deletes = [
        a['site']
        for a in fed.read('actions').values()
        if a['kind'] == 'server.delete'
    ]
    assert deletes == ['here']
    [alert] = [
        a for a in fed.read('alerts').values() if a['kind'] == 'reclaim'
    ]
    assert alert['severity'] == 'critical'


def test_a_member_its_only_site_refused_is_built_there_again_later(
    conf, api, fed, monkeypatch
):
    # Its own appliance id: the planner caches specs by id and commit
    # time, and other tests of this module set the clock too.
    aid = 'c' * 32
    clock = [50_000.0]
    monkeypatch.setattr(analyseplan_role.time, 'time', lambda: clock[0])
    fed.propose(
        'appliance.put', {'appliance_id': aid, 'spec': spec(sites=['s2'])}
    )
    role = analyseplan_role.AnalysePlanRole(conf, api)
    role.cycle()
    (action_id,) = fed.read('actions')
    fed.propose(
        'action.update',
        {
            'action_id': action_id,
            'state': 'failed',
            'result': {'error': 'No valid host was found.'},
        },
    )
    failed_at = fed.read('actions')[action_id]['updated_at']
    clock[0] = failed_at + 599
    role.cycle()
    (alert,) = fed.read('alerts').values()
    assert (
        's2: the server failed there; tried there again after %s'
        % (notices.when(failed_at + 600))
        in alert['message']
    )
    assert creates(fed) == [('s2', 'web-0')]
    clock[0] = failed_at + 600
    role.cycle()
    # Built anew at s2, the only site it may run at; the alert closes.
    assert creates(fed) == [('s2', 'web-0'), ('s2', 'web-0')]
    assert placements(fed) == {aid + '/web-0': 's2'}
    assert fed.read('alerts') == {}
