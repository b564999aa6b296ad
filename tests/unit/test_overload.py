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

"""Overload alerts: raised over the threshold, closed under it minus the
hysteresis, and acted on by AnalysePlan."""

from sodos.knowmon import overload


def monitoring(vcpu_used, total=100.0):
    return {
        's1': {
            'summary': {
                'capacity': {
                    'vcpu': {'total': total, 'used': vcpu_used},
                    'ram_mb': {'total': 1000.0, 'used': 0.0},
                }
            }
        }
    }


SITES = {'s1': {'status': 'up'}}


def test_raised_above_the_threshold_once():
    raise_, close = overload.changes(monitoring(95.0), SITES, {}, 90.0, 10.0)
    assert close == []
    (alert,) = raise_
    assert alert['alert_id'] == overload.alert_id('s1')
    assert alert['message'] == ('site s1 overloaded: vcpu 95% used (over 90%)')
    open_ = {alert['alert_id']: dict(alert, state='open')}
    assert overload.changes(monitoring(95.0), SITES, open_, 90.0, 10.0) == (
        [],
        [],
    )


def test_closed_only_under_the_hysteresis():
    open_ = {overload.alert_id('s1'): {'site': 's1', 'kind': 'overload'}}
    assert overload.changes(monitoring(85.0), SITES, open_, 90.0, 10.0) == (
        [],
        [],
    )
    assert overload.changes(monitoring(79.0), SITES, open_, 90.0, 10.0) == (
        [],
        [overload.alert_id('s1')],
    )
    assert overload.targets(open_, 80.0) == {'s1': 0.8}


def test_sites_down_or_without_totals_are_not_judged():
    assert overload.changes(
        monitoring(95.0), {'s1': {'status': 'down'}}, {}, 90.0, 10.0
    ) == ([], [])
    assert overload.changes(
        monitoring(5.0, total=0.0), SITES, {}, 90.0, 10.0
    ) == ([], [])


def test_knowmon_leader_raises_it(knowmon, conf):
    summary = monitoring(95.0)['s1']['summary']
    knowmon.backend.propose(
        'monitoring.report', {'site': 'here', 'summary': summary}
    )
    line = knowmon.cycle()
    assert 'raised: site here overloaded: vcpu 95% used' in line
    (alert,) = knowmon.backend.read('alerts').values()
    assert alert['kind'] == 'overload'
