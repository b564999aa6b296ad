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

"""Report computations on a hand-made timeline, and sampling a KB."""

import re

from sodos.sim import report
from sodos.sim import sample
from sodos.sim import scenario
from sodos.sim import text
from sodos.sim import timeline_html

A0, A1, B0 = 'a' * 32 + '/web-0', 'a' * 32 + '/web-1', 'b' * 32 + '/db-0'
SCENARIO = scenario.parse(
    """
name: hand
sites:
  - {name: s1, cost: 0.02, carbon_intensity: 100, pue: 1.0, idle_power_kw: 2}
  - {name: s2, cost: 0.01, carbon_intensity: 500, pue: 2.0, idle_power_kw: 1}
  - {name: s3}
events:
  - {at: 1, action: crash, site: s1}
""",
    'hand.yaml',
)


def _sites(s1='up', s1_proc='running', since=None):
    return {
        's1': {
            'kb': s1,
            'since': since,
            'maintenance': '',
            'proc': s1_proc,
        },
        's2': {'kb': 'up', 'since': 0.0, 'maintenance': '', 'proc': 'running'},
        's3': {'kb': 'up', 'since': 0.0, 'maintenance': '', 'proc': 'running'},
    }


def _m(site, running=True, status='ACTIVE'):
    return {'site': site, 'status': status, 'running': running}


def _samples():
    """s1 crashes at t=10.2, is marked down at 11.7 (KB stamp), its two
    members are rebuilt on s3 by t=14; db-0 is unplaced for a while."""
    steady = {A0: _m('s1'), A1: _m('s2'), B0: _m('s2')}
    return [
        {
            't': 9.5,
            'sites': _sites(),
            'members': dict(steady),
            'doubles': [],
            'unplaced': {},
        },
        {
            't': 10.5,
            'sites': _sites(s1_proc='crashed'),
            'members': dict(steady, **{A0: _m('s1', False)}),
            'doubles': [],
            'unplaced': {},
        },
        {
            't': 12.0,
            'sites': _sites('down', 'crashed', since=11.7),
            'members': {
                A0: _m('s3', False, 'BUILD'),
                A1: _m('s2'),
                B0: _m(None, False, 'UNPLACED'),
            },
            'doubles': [],
            'unplaced': {B0: 's1: site down; s3: no room for m1.large'},
        },
        {
            't': 14.0,
            'sites': _sites('down', 'crashed', since=11.7),
            'members': {A0: _m('s3'), A1: _m('s2'), B0: _m('s3')},
            'doubles': [],
            'unplaced': {},
        },
    ]


EVENT = {
    'index': 0,
    'at': 1.0,
    't': 10.2,
    'action': 'crash',
    'sites': ['s1'],
    'what': 'crash s1',
}
APPLIANCES = {'a': [A0, A1], 'b': [B0]}


def test_failure_detect_and_recovery():
    samples = _samples()
    samples[0]['members'][B0] = _m('s1')
    out = report.failure(samples, EVENT)
    assert out['affected_members'] == [A0, B0]
    # The KB's own stamp (11.7), not the sample that saw it (12.0).
    assert out['detect_s'] == 1.5
    assert out['recovery_s'] == 3.8
    assert out['moved_to'] == {A0: 's3', B0: 's3'}
    assert out['not_recovered'] == {}


def test_failure_never_recovered_says_why():
    samples = _samples()[:3]
    out = report.failure(samples, EVENT)
    assert out['affected_members'] == [A0]
    assert out['recovery_s'] is None
    assert out['not_recovered'] == {A0: 'state BUILD'}


def test_failure_not_detected():
    samples = _samples()[:2]
    assert report.failure(samples, EVENT)['detect_s'] is None


def test_a_crashed_site_marked_down_is_no_false_alarm():
    assert report.false_downs(_samples()) == []


def test_a_running_site_marked_down_is_a_false_alarm():
    samples = _samples()
    # s2 ran throughout but the KB marked it down at 12.0 and kept it so.
    for later in samples[2:]:
        later['sites']['s2']['kb'] = 'down'
    assert report.false_downs(samples) == [{'site': 's2', 't': 12.0}]


def test_a_site_back_from_a_crash_but_still_down_is_no_false_alarm():
    samples = _samples()
    # s1 is restarted at 14.0; the KB has not seen it up yet.
    samples[-1]['sites']['s1']['proc'] = 'running'
    assert report.false_downs(samples) == []


def test_availability():
    # From 10.0: a is down at 10.5 and 12.0 (2 of 3), b down at 12.0.
    got = report.availability(_samples(), APPLIANCES, 10.0)
    assert got == {'a': round(1 / 3, 4), 'b': round(2 / 3, 4)}
    # At least one member: a keeps A1 running throughout.
    got = report.availability(_samples(), APPLIANCES, 10.0, needs=any)
    assert got == {'a': 1.0, 'b': round(2 / 3, 4)}


def test_availability_counts_from_when_an_appliance_was_complete():
    samples = _samples()
    # b is built late: its member first runs at 14.0.
    for early in samples[:3]:
        early['members'][B0] = _m(None, False, 'BUILD')
    got = report.availability(samples, APPLIANCES, 9.0)
    assert got['b'] == 1.0
    never = {'c': ['c' * 32 + '/web-0']}
    assert report.availability(samples, never, 9.0) == {'c': 0.0}


def test_moves_explain_a_cost_change():
    samples = _samples()
    names = {'shop': [A0, A1], 'db': [B0]}
    got = report.moves(samples[0], samples[-1], names)
    assert got == [
        {'member': 'shop/' + A0.split('/', 1)[1], 'from': 's1', 'to': 's3'},
        {'member': 'db/' + B0.split('/', 1)[1], 'from': 's2', 'to': 's3'},
    ]


def test_unplaced_and_end_state():
    samples = _samples()
    got = report.unplaced(samples)
    assert got['reasons'] == {B0: 's1: site down; s3: no room for m1.large'}
    assert got['at_end'] == []
    end = report.end_state(samples[-1])
    assert end['all_running'] and not end['on_dead_sites']
    stuck = report.end_state(samples[1])
    assert stuck['on_dead_sites'] == [A0]
    assert stuck['not_running'] == [A0]


def test_cost_before_and_after():
    vcpus = {A0: 1.0, A1: 1.0, B0: 2.0}
    profiles = SCENARIO.profiles()
    before = report.cost(_samples()[0], profiles, vcpus, 0.1)
    # s1: 2 kW x 100 g x 1.0 -> 0.2 kg -> 0.02/h, and 1 vCPU at 0.02;
    # s2: 1 kW x 500 g x 2.0 -> 1 kg -> 0.1/h, and 3 vCPUs at 0.01.
    assert before['cost_per_hour'] == round(0.02 + 0.02 + 0.1 + 0.03, 4)
    assert before['power_kw'] == 4.0
    assert before['co2_kg_per_hour'] == 1.2
    assert before['sites_in_use'] == ['s1', 's2']
    whole = report.build(
        SCENARIO,
        _samples(),
        [EVENT],
        APPLIANCES,
        vcpus,
        started=9.5,
    )
    assert whole['cost']['before'] == before
    assert whole['cost']['after']['sites_in_use'] == ['s2', 's3']
    assert whole['failures'][0]['detect_s'] == 1.5
    assert len(whole['timeline']) == 4
    assert whole['timeline'][2]['sites']['s1'] == ['down', 0, 0]
    assert whole['timeline'][1]['sites']['s1'] == ['crashed', 0, 1]
    page = timeline_html.render(whole)
    assert page.startswith('<!DOCTYPE html>') and '<svg' in page
    assert 'http://' not in page.replace('http://www.w3.org/2000/svg', '')
    assert 'crash s1' in text.summary(whole)
    # The scenario's clock: 0 where every member ran (9.5), ticks on it.
    labels = re.findall(r'text-anchor="middle">([^<]+)<', page)
    assert {'-8', '0', '+2', '+4'} <= set(labels)
    # The failure's detection and recovery, each marked once.
    assert page.count('>detected</text>') == 1
    assert page.count('>recovered</text>') == 1
    # The summary tables, moves included, in the page too.
    assert 'all members running' in page and 'Disruptions' in page
    assert whole['cost']['moves'] and 's1 -&gt; s3' in page


def test_sample_from_kb():
    kb = {
        'sites': {
            's1': {'status': 'up', 'status_changed_at': 1000.5},
            's2': {'status': 'up', 'maintenance': 'draining'},
            's3': {'status': 'down'},
        },
        'placements': {
            A0: {'appliance_id': 'a' * 32, 'member': 'web-0', 'site': 's1'},
            A1: {'appliance_id': 'a' * 32, 'member': 'web-1', 'site': 's2'},
        },
        'monitoring': {
            's1': {'summary': {'servers': {A0: {'status': 'ACTIVE'}}}},
            's2': {
                'summary': {
                    'servers': {
                        A1: {'status': 'BUILD'},
                        A0: {'status': 'ACTIVE'},
                    }
                }
            },
            # A crashed site's last report is not believed.
            's3': {'summary': {'servers': {A1: {'status': 'ACTIVE'}}}},
        },
        'alerts': {
            'x': {
                'kind': 'unplaced',
                'message': 'member %s cannot be placed: s1: site down' % B0,
            },
            'y': {'kind': 'overload', 'message': 'member z'},
        },
    }
    procs = {'s1': 'running', 's2': 'running', 's3': 'crashed'}
    got = sample.take(kb, 5.0, 1000.0, procs, [A0, A1, B0])
    assert got['sites']['s1']['since'] == 0.5
    assert got['members'][A0] == _m('s1')
    assert got['members'][A1] == _m('s2', False, 'BUILD')
    assert got['members'][B0] == _m(None, False, 'UNPLACED')
    assert got['doubles'] == [A0]
    assert got['unplaced'] == {B0: 's1: site down'}
    assert sample.counts(got) == {
        'sites_up': 2,
        'sites_down': 1,
        'running': 1,
        'pending': 2,
    }
    assert report.site_state(got['sites']['s2']) == 'draining'
    assert 'members 1 running, 2 pending' in text.progress_line(got, 'x')


def test_progress_shows_one_clock_the_scenarios():
    # Before every member first ran: the set-up's time. From then on the
    # scenario's clock, the one its events' "at:" count on.
    assert text.clock_label(8.4, None) == '[setup   8.4 s]'
    assert text.clock_label(14.5, 12.5) == '[t =    +2.0 s]'
    assert text.clock_label(12.0, 12.5) == '[t =    -0.5 s]'
    sample_at = {'t': 14.5, 'sites': {}, 'members': {}, 'doubles': []}
    line = text.progress_line(sample_at, 'crash madrid', started=12.5)
    assert line.startswith('[t =    +2.0 s] crash madrid ')
