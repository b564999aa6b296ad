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

"""federation, site, alert, whatif and history commands."""

import pytest

from tests.unit.osc import conftest as fakes

URL = fakes.URL


def test_federation_status(run, api):
    api.get(
        URL + '/federation',
        json={
            'federation': {
                'leader': 'paris',
                'term': 3,
                'voters': ['paris', 'lyon', 'berlin'],
                'voter_count': 3,
                'paused': False,
                'consolidate': True,
                'sites': {'up': 2, 'down': 1, 'total': 3},
                'failure_domains': {
                    'voter_regions': {
                        'fr': ['lyon', 'paris'],
                        'de': ['berlin'],
                    },
                    'regions': 2,
                    'majority_region': 'fr',
                    'warning': '3 voters but only 2 region(s): an outage '
                    'of region fr takes the quorum with it',
                },
            }
        },
    )
    result = run('sodos', 'federation', 'show', '-f', 'json')
    assert result.rc == 0, result.stderr
    assert result.json() == {
        'leader': 'paris',
        'term': 3,
        'voters': ['paris', 'lyon', 'berlin'],
        'voter_count': 3,
        'paused': False,
        'consolidate': True,
        'sites_up': 2,
        'sites_down': 1,
        'sites_total': 3,
        'voter_regions': {'fr': ['lyon', 'paris'], 'de': ['berlin']},
        'regions': 2,
        'majority_region': 'fr',
        'warning': '3 voters but only 2 region(s): an outage of region fr '
        'takes the quorum with it',
    }
    table = run('sodos', 'federation', 'show')
    assert 'berlin, lyon, paris' in table.stdout
    assert 'only 2 region(s)' in table.stdout
    value = run('sodos', 'federation', 'show', '-f', 'value', '-c', 'leader')
    assert value.stdout == 'paris\n'


IMAGE_ID = '6f1c2b9e-3a4d-4e5f-8a7b-9c0d1e2f3a4b'


@pytest.mark.parametrize(
    'old, new',
    [
        (['federation', 'status'], 'sodos federation show'),
        (['whatif', '--fail-site', 'lyon'], 'sodos whatif show'),
        (['history', 'actions'], 'sodos history action list'),
        (['history', 'alerts'], 'sodos history alert list'),
        (
            ['history', 'monitoring', '--site', 'x'],
            'sodos history monitoring list',
        ),
        (['image', 'status', IMAGE_ID], 'sodos image copy list'),
    ],
)
def test_old_command_names_still_work_and_name_the_new_one(run, api, old, new):
    api.get(URL + '/federation', json={'federation': {'leader': 'paris'}})
    api.post(URL + '/whatif', json={'whatif': WHATIF})
    for kind in ('actions', 'alerts', 'monitoring'):
        api.get(URL + '/history/' + kind, json={kind: [], 'samples': []})
    api.get(
        URL + '/images/' + IMAGE_ID,
        json={'image': {'id': IMAGE_ID, 'name': 'x', 'sites': []}},
    )
    result = run('sodos', *old)
    assert result.rc == 0, result.stderr
    assert 'is deprecated: use "openstack %s"' % new in result.stderr


def test_site_list(run, api):
    api.get(
        URL + '/sites',
        json={'sites': [fakes.site(), fakes.site('lyon', status='down')]},
    )
    result = run('sodos', 'site', 'list', '-f', 'json')
    assert result.rc == 0, result.stderr
    assert [(s['Name'], s['Status']) for s in result.json()] == [
        ('paris', 'up'),
        ('lyon', 'down'),
    ]
    assert 'Labels' not in result.json()[0]
    long = run('sodos', 'site', 'list', '--long', '-f', 'json').json()
    assert long[0]['Labels'] == {'tier': 'gold'}
    assert long[0]['Capacity']['vcpus'] == 64
    names = run('sodos', 'site', 'list', '-f', 'value', '-c', 'Name')
    assert names.stdout.split() == ['paris', 'lyon']


def test_site_show(run, api):
    api.get(URL + '/sites/paris', json={'site': fakes.site()})
    shown = run('sodos', 'site', 'show', 'paris', '-f', 'json').json()
    assert shown['location'] == {'lat': 48.85, 'lon': 2.35}
    # The same ISO time as the table, not the epoch seconds.
    assert shown['updated_at'] == '2025-11-25T15:36:40+00:00'
    table = run('sodos', 'site', 'show', 'paris').stdout
    assert '2025-11-25T15:36:40+00:00' in table
    # Each field once.
    names = [
        line.split('|')[1].strip()
        for line in table.splitlines()
        if line.startswith('|')
    ]
    assert names.count('name') == 1, table
    assert 'tier=gold' in table
    assert 'ram_mb=262144, used_ram_mb=8192' in table


def test_site_show_unknown(run, api):
    api.get(
        URL + '/sites/nowhere',
        **fakes.error(404, 'not_found', 'no site named nowhere'),
    )
    result = run('sodos', 'site', 'show', 'nowhere')
    assert result.rc != 0
    assert 'no site named nowhere (HTTP 404 not_found, request req-' in (
        result.stderr
    )
    assert 'Traceback' not in result.stderr


def test_site_drain_wait(run, api):
    api.post(
        URL + '/sites/paris/drain',
        json={'site': fakes.site(maintenance='draining')},
    )
    api.get(
        URL + '/sites/paris',
        [
            {'json': {'site': fakes.site(maintenance='draining')}},
            {'json': {'site': fakes.site(maintenance='draining', members=1)}},
            {'json': {'site': fakes.site(maintenance='drained', members=0)}},
        ],
    )
    result = run(
        'sodos', 'site', 'drain', 'paris', '--reason', 'disk swap',
        '--wait', '-f', 'json',
    )  # fmt: skip
    assert result.rc == 0, result.stderr
    assert result.json()['maintenance'] == 'drained'
    assert api.request_history[0].json() == {'reason': 'disk swap'}
    assert result.stderr.splitlines() == [
        'site paris: draining, 2 member(s) left',
        'site paris: draining, 1 member(s) left',
        'site paris: drained, 0 member(s) left',
    ]


def test_site_drain_timeout(run, api):
    api.post(
        URL + '/sites/paris/drain',
        json={'site': fakes.site(maintenance='draining')},
    )
    api.get(
        URL + '/sites/paris', json={'site': fakes.site(maintenance='draining')}
    )
    result = run(
        'sodos', 'site', 'drain', 'paris', '--wait', '--timeout', '0.1'
    )
    assert result.rc != 0
    assert (
        'timed out after 0.1 s waiting for site paris to be drained '
        '(last: site paris: draining, 2 member(s) left)' in result.stderr
    )


def test_site_undrain(run, api):
    api.post(URL + '/sites/paris/undrain', json={'site': fakes.site()})
    result = run('sodos', 'site', 'undrain', 'paris', '-f', 'json')
    assert result.json()['maintenance'] == ''
    assert api.last_request.json() == {}


def test_site_undrain_wait(run, api):
    api.post(
        URL + '/sites/paris/undrain',
        json={'site': fakes.site(status='down')},
    )
    api.get(
        URL + '/sites/paris',
        [
            {'json': {'site': fakes.site(status='down')}},
            {'json': {'site': fakes.site()}},
        ],
    )
    result = run('sodos', 'site', 'undrain', 'paris', '--wait', '-f', 'json')
    assert result.rc == 0, result.stderr
    assert result.json()['status'] == 'up'
    assert result.stderr.splitlines() == [
        'site paris: down, not in maintenance',
        'site paris: up, not in maintenance',
    ]


def test_site_unset(run, api):
    api.patch(URL + '/sites/paris', json={'site': fakes.site()})
    result = run(
        'sodos', 'site', 'unset', 'paris', '--labels', '--region',
        '--cost-per-vcpu-hour',
    )  # fmt: skip
    assert result.rc == 0, result.stderr
    assert api.last_request.json() == {
        'labels': None,
        'region': None,
        'cost_per_vcpu_hour': None,
    }


def test_site_unset_nothing_sends_nothing(run, api):
    result = run('sodos', 'site', 'unset', 'paris')
    assert result.rc != 0
    assert 'nothing to unset: give one or more of --labels' in result.stderr
    assert not api.called


def test_site_set(run, api):
    api.patch(URL + '/sites/paris', json={'site': fakes.site()})
    result = run(
        'sodos', 'site', 'set', 'paris',
        '--label', 'tier=gold', '--label', 'jurisdiction = eu',
        '--region', 'eu-west', '--location', '48.85,2.35',
        '--cost-per-vcpu-hour', '0.02', '--carbon-intensity', '50',
        '--pue', '1.3', '--idle-power-kw', '4',
    )  # fmt: skip
    assert result.rc == 0, result.stderr
    assert result.stdout == ''
    assert api.last_request.json() == {
        'labels': {'tier': 'gold', 'jurisdiction': 'eu'},
        'region': 'eu-west',
        'location': {'lat': 48.85, 'lon': 2.35},
        'cost_per_vcpu_hour': 0.02,
        'carbon_intensity': 50.0,
        'pue': 1.3,
        'idle_power_kw': 4.0,
    }


@pytest.mark.parametrize(
    'argv, message',
    [
        (['--label', 'tier'], "--label 'tier' is not KEY=VALUE"),
        (['--label', '=gold'], "--label '=gold' is not KEY=VALUE"),
        (['--location', '48.8'], "--location '48.8' is not LAT,LON"),
        (['--location', 'a,b'], "--location 'a,b' is not LAT,LON"),
        (['--location', '91,0'], "--location '91,0' is out of range"),
        ([], 'nothing to set'),
        (['--pue', '-1'], 'argument --pue: invalid non-negative number value'),
        (['--pue', 'x'], 'argument --pue: invalid non-negative number value'),
    ],
)
def test_site_set_bad_input_sends_nothing(run, api, argv, message):
    result = run('sodos', 'site', 'set', 'paris', *argv)
    assert result.rc != 0
    assert message in result.stderr
    assert not api.called


def test_site_drain_conflict(run, api):
    api.post(
        URL + '/sites/paris/drain',
        **fakes.error(409, 'conflict', 'site paris is down'),
    )
    result = run('sodos', 'site', 'drain', 'paris', '--wait')
    assert result.rc != 0
    assert 'site paris is down (HTTP 409 conflict' in result.stderr
    assert api.call_count == 1


def _alert(**extra):
    record = {
        'id': 'al-1',
        'kind': 'site_down',
        'site': 'lyon',
        'severity': 'critical',
        'message': 'site lyon is down',
        'state': 'open',
        'raised_at': 1764085000.0,
        'acknowledged_at': None,
        'acknowledged_by': None,
    }
    record.update(extra)
    return record


def test_alert_list(run, api):
    api.get(URL + '/alerts', json={'alerts': [_alert()]})
    rows = run('sodos', 'alert', 'list', '-f', 'json').json()
    assert api.last_request.qs == {'state': ['open']}
    assert rows[0]['ID'] == 'al-1'
    assert rows[0]['Message'] == 'site lyon is down'
    run('sodos', 'alert', 'list', '--all')
    assert api.last_request.qs == {'state': ['all']}
    run('sodos', 'alert', 'list', '--acknowledged')
    assert api.last_request.qs == {'state': ['acknowledged']}


def test_alert_show_and_ack(run, api):
    api.get(URL + '/alerts/al-1', json={'alert': _alert()})
    api.post(
        URL + '/alerts/al-1/ack',
        json={
            'alert': _alert(
                state='acknowledged',
                acknowledged_at=1764085060.0,
                acknowledged_by='admin',
            )
        },
    )
    shown = run('sodos', 'alert', 'show', 'al-1', '-f', 'json').json()
    assert shown['state'] == 'open'
    acked = run(
        'sodos', 'alert', 'ack', 'al-1', '--comment', 'on it', '-f', 'json'
    ).json()
    assert api.last_request.json() == {'comment': 'on it'}
    assert acked['state'] == 'acknowledged'
    assert acked['acknowledged_by'] == 'admin'


WHATIF = {
    'events': {'failed': ['lyon'], 'drained': []},
    'affected_appliances': [{'id': 'a1b2c3', 'name': 'shop'}],
    'moves': [
        {
            'appliance': 'shop',
            'appliance_id': 'a1b2c3',
            'member': 'web-1',
            'from': 'lyon',
            'to': 'paris',
        }
    ],
    'unplaceable': [],
    'capacity_left': {'paris': {'vcpu': 60, 'ram_mb': 250000}},
}


def test_whatif(run, api):
    api.post(URL + '/whatif', json={'whatif': WHATIF})
    result = run(
        'sodos', 'whatif', 'show', '--fail-site', 'lyon',
        '--fail-site', 'berlin', '--drain-site', 'paris', '-f', 'json',
    )  # fmt: skip
    assert result.rc == 0, result.stderr
    assert api.last_request.json() == {
        'fail_sites': ['lyon', 'berlin'],
        'drain_sites': ['paris'],
    }
    assert result.json()['moves'] == WHATIF['moves']
    table = run('sodos', 'whatif', 'show', '--fail-site', 'lyon').stdout
    assert (
        'appliance=shop, appliance_id=a1b2c3, member=web-1, from=lyon, '
        in (table)
    )
    assert 'id=a1b2c3, name=shop' in table
    assert 'drained=[], failed=["lyon"]' in table


def test_whatif_needs_an_event(run, api):
    result = run('sodos', 'whatif', 'show')
    assert result.rc != 0
    assert 'give --fail-site or --drain-site' in result.stderr
    assert not api.called


def test_history(run, api):
    api.get(
        URL + '/history/actions',
        json={
            'actions': [
                {'id': 'x1', 'site': 'paris', 'state': 'done', 'b': 1},
                {'id': 'x2', 'site': 'lyon', 'state': 'failed', 'a': 2},
            ]
        },
    )
    api.get(URL + '/history/monitoring', json={'samples': []})
    rows = run(
        'sodos', 'history', 'action', 'list', '--site', 'paris',
        '--limit', '2', '-f', 'json',
    ).json()  # fmt: skip
    assert api.last_request.qs == {'site': ['paris'], 'limit': ['2']}
    assert list(rows[0]) == ['ID', 'Site', 'State', 'A', 'B']
    assert rows[1]['A'] == 2
    missing = run('sodos', 'history', 'monitoring', 'list')
    assert missing.rc != 0
    assert '--site' in missing.stderr
    assert run('sodos', 'history', 'monitoring', 'list', '--site', 'x').rc == 0
