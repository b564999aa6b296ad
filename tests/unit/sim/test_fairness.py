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

"""The community part of a sodos-sim report, from hand-made samples: the
share series against entitlement, the share error, starved owners and
reclaims; and what a sample records of the owners."""

import pytest

from sodos.sim import fairness
from sodos.sim import report
from sodos.sim import sample
from sodos.sim import scenario
from sodos.sim import text
from sodos.sim import timeline_html

# uni contributes 3 vCPUs of 4, town 1: entitled to 0.75 and 0.25. The
# federation has 4 vCPUs (ratio 1).
SCENARIO = scenario.parse(
    """
name: co
settings: {simulator: {cpu_allocation_ratio: 1.0}}
defaults: {capacity: {hosts: 1, vcpus: 1}}
owners: [{name: uni}, {name: town}]
sites:
  - {name: u1, owner: uni, capacity: {vcpus: 3}}
  - {name: t1, owner: town}
events:
  - {at: 1, action: demand, owner: town, extra: 3}
""",
    'co.yaml',
)
STARTED = 10.0
K1, K2 = 'a' * 32 + '/vm-0', 'b' * 32 + '/vm-0'


def _sample(t, uni, town, reclaims=None, owned_sites=None):
    """``uni``, ``town``: (used, demand) vCPUs."""
    taken = {
        't': t,
        'sites': {},
        'members': {},
        'doubles': [],
        'unplaced': {},
        'owners': {
            'uni': {'used': uni[0], 'demand': uni[1]},
            'town': {'used': town[0], 'demand': town[1]},
        },
    }
    if reclaims is not None:
        taken['reclaims'] = reclaims
    if owned_sites is not None:
        taken['owned_sites'] = owned_sites
    return taken


def _samples():
    # Before the start (ignored); calm; contended three times (town asks
    # 4, uni 3: 7 > 4); calm again.
    return [
        _sample(9.0, (1, 1), (0, 0)),
        _sample(10.0, (2, 2), (1, 1)),
        _sample(11.0, (3, 3), (1, 4)),
        _sample(12.0, (2, 3), (2, 4)),
        _sample(13.0, (3, 3), (1, 4)),
        _sample(14.0, (2, 2), (1, 1)),
    ]


def test_entitlements_and_capacity_come_from_the_scenario():
    assert fairness.entitlements(SCENARIO) == {'uni': 0.75, 'town': 0.25}
    assert fairness.capacity(SCENARIO) == 4.0


@pytest.mark.parametrize(
    'demand, expected',
    [
        # Both ask more than their part: their entitlements.
        ({'a': 10, 'b': 10}, {'a': 0.75, 'b': 0.25}),
        # a asks less than its part: what it asks; b the rest.
        ({'a': 1, 'b': 10}, {'a': 0.25, 'b': 0.75}),
        # No one asks: nothing.
        ({}, {'a': 0.0, 'b': 0.0}),
    ],
)
def test_fair_shares_are_max_min_by_entitlement(demand, expected):
    found = fairness.fair_shares({'a': 0.75, 'b': 0.25}, demand, 4.0)
    assert found == pytest.approx(expected)


def test_the_series_shares_against_entitlement_and_contention():
    points = fairness.series(
        _samples(),
        fairness.entitlements(SCENARIO),
        fairness.capacity(SCENARIO),
        STARTED,
    )
    assert [p['t'] for p in points] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert [p['contended'] for p in points] == [
        False,
        True,
        True,
        True,
        False,
    ]
    assert points[1]['share'] == {'uni': 0.75, 'town': 0.25}
    assert points[2]['share'] == {'uni': 0.5, 'town': 0.5}
    assert points[2]['fair'] == {'uni': 0.75, 'town': 0.25}


def test_the_report_has_the_share_series_errors_and_no_starved_owner():
    built = report.build(SCENARIO, _samples(), [], {}, {}, STARTED, extra={})
    community = built['community']
    assert len(community['series']) == 5
    assert community['contended_s'] == 2.0
    uni = community['owners']['uni']
    assert uni['entitlement'] == 0.75
    assert uni['share_mean'] == pytest.approx(
        (0.75 + 0.5 + 0.75) / 3, abs=1e-4
    )
    # |0|, |0.25|, |0| averaged.
    assert uni['share_error'] == pytest.approx(0.0833, abs=1e-4)
    assert community['share_error_max'] == pytest.approx(0.0833, abs=1e-4)
    assert community['starved_owners'] == []
    assert community['reclaims'] == {
        'moved': [],
        'stopped': [],
        'reclaim_s_p95': None,
    }
    printed = text.summary(built)
    assert 'Fair share (contended 2.0 s' in printed
    assert 'no reclaim happened' in printed
    page = timeline_html.render(built)
    assert '<h2>Fair share</h2>' in page
    assert 'uni entitlement' in page and 'town share' in page


def test_an_owner_below_half_its_fair_share_is_starved():
    samples = [
        _sample(10.0, (4, 6), (0, 4)),
        _sample(11.0, (4, 6), (0, 4)),
    ]
    built = fairness.build(SCENARIO, samples, [], STARTED)
    assert built['starved_owners'] == ['town']
    assert built['owners']['town']['starved'] is True
    assert built['share_error_max'] == 0.25


def test_reclaims_are_timed_from_the_site_owners_demand():
    samples = [
        _sample(20.0, (3, 4), (1, 1), {'moved': {}, 'noticed': {}},
                {K1: ['u1', ['u1']], K2: ['u1', ['u1']]}),
        # The leader moved town's member off uni's site, by a reclaim;
        # u1 still runs it (make before break). K2 had nowhere to go:
        # it is given notice.
        _sample(21.0, (3, 4), (1, 1),
                {'moved': {K1: 't1'}, 'noticed': {K2: 'u1'}},
                {K1: ['t1', ['t1', 'u1']], K2: ['u1', ['u1']]}),
        _sample(23.0, (4, 4), (1, 1),
                {'moved': {K1: 't1'}, 'noticed': {K2: 'u1'}},
                {K1: ['t1', ['t1']], K2: ['u1', ['u1']]}),
        # The notice ended: K2 is stopped, u1 no longer runs it.
        _sample(30.0, (4, 4), (1, 1),
                {'moved': {K1: 't1'}, 'noticed': {K2: 'u1'}},
                {K1: ['t1', ['t1']], K2: [None, []]}),
    ]  # fmt: skip
    events = [{'action': 'demand', 'owner': 'uni', 't': 18.5}]
    found = fairness.build(SCENARIO, samples, events, STARTED)['reclaims']
    [move] = found['moved']
    assert move['from'] == 'u1' and move['to'] == 't1'
    assert move['owner'] == 'uni'
    assert move['at'] == 11.0
    # uni asked at 18.5; u1 was free of the member at 23.
    assert move['reclaim_s'] == 4.5
    [stop] = found['stopped']
    assert stop['member'] == K2 and stop['from'] == 'u1'
    assert stop['to'] is None
    assert stop['at'] == 20.0
    assert stop['reclaim_s'] == 11.5
    assert found['reclaim_s_p95'] == 11.5


def test_a_guest_still_under_notice_is_not_counted_stopped():
    samples = [
        _sample(21.0, (3, 4), (1, 1), {'moved': {}, 'noticed': {K2: 'u1'}},
                {K2: ['u1', ['u1']]}),
        _sample(22.0, (3, 4), (1, 1), {'moved': {}, 'noticed': {K2: 'u1'}},
                {K2: ['u1', ['u1']]}),
    ]  # fmt: skip
    events = [{'action': 'demand', 'owner': 'uni', 't': 18.5}]
    found = fairness.build(SCENARIO, samples, events, STARTED)['reclaims']
    assert found['stopped'] == []
    assert found['reclaim_s_p95'] is None


def test_a_sample_records_owners_usage_and_reclaims():
    kb = {
        'sites': {},
        'alerts': {
            'al1': {'kind': 'reclaim', 'message': 'stopped'},
            'al2': {'kind': 'unplaced', 'message': 'x'},
        },
        'owners': {
            'uni': {
                'reclaims': {
                    K2: {'site': 't1', 'deadline': 5.0},
                    K1: {'site': 'u1', 'deadline': 5.0, 'moved_to': 't1'},
                }
            }
        },
        'placements': {
            K1: {'site': 'u1', 'info': {'reason': 'reclaim: uni needs u1'}},
            K2: {'site': 't1', 'info': {'flavor': 'm1.small'}},
        },
        'monitoring': {
            'u1': {'summary': {'servers': {K1: {'status': 'ACTIVE'}}}},
            't1': {'summary': {'servers': {K2: {'status': 'BUILD'}}}},
        },
    }
    owned = {
        K1: ('uni', 2.0),
        K2: ('town', 1.0),
        'c' * 32 + '/x': ('town', 1.0),
    }
    taken = sample.take(
        kb, 1.0, 0.0, {'u1': 'running', 't1': 'running'}, [], owned
    )
    assert taken['owners'] == {
        'uni': {'used': 2.0, 'demand': 2.0},
        'town': {'used': 0.0, 'demand': 2.0},
    }
    assert taken['reclaims'] == {
        'moved': {K1: 'u1'},
        'noticed': {K2: 't1'},
    }
    assert taken['owned_sites'][K1] == ['u1', ['u1']]
    assert taken['owned_sites']['c' * 32 + '/x'] == [None, []]
    # A run without owners samples as before.
    assert 'owners' not in sample.take(kb, 1.0, 0.0, {}, [])
