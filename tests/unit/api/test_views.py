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

"""The read model the API shows."""

from sodos import readmodel as views

A = 'a' * 32
SPEC = {
    'name': 'x',
    'members': [{'name': 'web', 'count': 3, 'image': 'i', 'flavor': 'f'}],
}


def test_member_states_unplaced_building_and_reported():
    placements = {
        A + '/web-0': {'appliance_id': A, 'member': 'web-0', 'site': 's1'},
        A + '/web-1': {'appliance_id': A, 'member': 'web-1', 'site': 's2'},
        'b' * 32 + '/web-0': {
            'appliance_id': 'b' * 32,
            'member': 'web-0',
            'site': 's1',
        },
    }
    monitoring = {
        's1': {
            'summary': {
                'servers': {A + '/web-0': {'id': 'srv', 'status': 'ERROR'}}
            }
        }
    }
    members = views.member_states(A, SPEC, placements, monitoring)
    assert [
        (m['member'], m['site'], m['state'], m['server_id']) for m in members
    ] == [
        ('web-0', 's1', 'ERROR', 'srv'),
        ('web-1', 's2', 'building', ''),
        ('web-2', '', 'unplaced', ''),
    ]
    row = views.appliance_row(A, {'spec': SPEC}, placements, monitoring)
    assert row == {
        'id': A,
        'name': 'x',
        'priority': 50,
        'members_total': 3,
        'members_placed': 2,
        'members_active': 0,
    }


def test_a_site_row_without_monitoring():
    site = {'status': 'down', 'role': 'voter', 'updated_at': 5.0}
    row = views.site_row('s1', site, {}, {})
    assert row['status'] == 'down'
    assert row['region'] == 's1'
    assert row['capacity'] == {}
    assert row['api_healthy'] is None
    assert row['location'] is None
    assert row['maintenance'] == ''


def test_site_down_has_no_api_health_from_its_last_summary():
    # A site that went silent reported a healthy API before it did: the
    # row must not keep saying so.
    monitoring = {'s1': {'summary': {'api': {'ok': True}}}}
    down = views.site_row('s1', {'status': 'down'}, monitoring, {})
    assert down['api_healthy'] is None
    up = views.site_row('s1', {'status': 'up'}, monitoring, {})
    assert up['api_healthy'] is True


def test_locations():
    assert views.location('48.85,2.35') == {'lat': 48.85, 'lon': 2.35}
    assert views.location('north') is None
    assert views.location('1,2,3') is None
    assert views.location(None) is None


def test_site_counts_leave_out_sites_that_left():
    sites = {
        'a': {'status': 'up'},
        'b': {'status': 'down'},
        'c': {'status': 'left'},
        'd': {'status': 'unknown'},
    }
    assert views.site_counts(sites) == {'up': 1, 'down': 1, 'total': 3}
