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

"""The status page: its public shell and files, its snapshot behind
the API's authentication, and what the snapshot says."""

import json

import pytest
import webob

from sodos.api.dashboard import snapshot
from tests.unit.api.conftest import Client

NOW = 1_800_000_000.0


@pytest.fixture
def app(make_app, fed, tokens):
    return make_app('keystone')


def fetch(app, path):
    return webob.Request.blank(path).get_response(app)


def test_the_shell_and_its_files_need_no_token(app):
    page = fetch(app, '/dashboard')
    assert page.status_int == 200
    assert page.content_type == 'text/html'
    assert "default-src 'self'" in page.headers['Content-Security-Policy']
    assert 'data-snapshot="/v1/dashboard"' in page.text
    for name, kind in (
        ('d3.js', 'text/javascript'),
        ('dashboard.js', 'text/javascript'),
        ('dashboard.css', 'text/css'),
        ('world.json', 'application/json'),
    ):
        found = fetch(app, '/dashboard/static/' + name)
        assert (found.status_int, found.content_type) == (200, kind)
        assert '/dashboard/static/' + name in page.text or name == 'world.json'
    assert 'd3' in fetch(app, '/dashboard/static/d3.js').text


def test_the_world_map_has_every_country_as_lon_lat_rings(app):
    world = json.loads(fetch(app, '/dashboard/static/world.json').body)
    assert len(world['countries']) > 150
    for country in world['countries']:
        for ring in country['rings']:
            assert len(ring) % 2 == 0 and len(ring) >= 6
            assert all(-180 <= v <= 180 for v in ring[0::2])
            assert all(-90 <= v <= 90 for v in ring[1::2])


def test_an_unknown_file_is_404_in_the_contract_form(app):
    found = fetch(app, '/dashboard/static/secrets.txt')
    assert found.status_int == 404
    assert json.loads(found.body)['error']['code'] == 'not_found'


def test_the_snapshot_is_behind_the_api_authentication(app, tokens):
    status, body, _ = Client(app).get('/v1/dashboard')
    assert (status, body['error']['code']) == (401, 'unauthorized')
    # Every project's members and alerts: not a tenant's to read.
    for role in ('reader', 'member', 'observer'):
        status, _, _ = Client(app, token=tokens[role]).get('/v1/dashboard')
        assert status == 403, role
    status, body, headers = Client(app, token=tokens['admin']).get(
        '/v1/dashboard'
    )
    assert status == 200, body
    assert headers['Cache-Control'] == 'no-store'
    assert [s['name'] for s in body['sites']] == ['here', 's2', 's3']
    assert {s['name'] for s in body['sites'] if s['leader']} == {'here'}
    assert body['generated_at'].endswith('Z')


def kb(**sections):
    out = {name: {} for name in snapshot.SECTIONS}
    out.update(sections)
    return out


SITES = {
    'a': {'status': 'up', 'info': {'profile': {'location': '48.85,2.35'}}},
    'b': {
        'status': 'down',
        'status_changed_at': NOW - 100,
        'maintenance': 'draining',
        'maintenance_changed_at': NOW - 4000,
    },
}
STATUS = {'leader_site': 'a', 'term': 4, 'voters': [{'site': 'a'}]}


def action(site, kind, member, state, at):
    return {
        'site': site,
        'kind': kind,
        'state': state,
        'params': {'appliance_id': 'app', 'member': member},
        'created_at': at,
        'updated_at': at + 5,
    }


def test_the_snapshot_marks_the_leader_voters_and_members():
    made = snapshot.build(
        kb(
            sites=SITES,
            appliances={
                'app': {
                    'spec': {
                        'name': 'shop',
                        'members': [
                            {'name': 'web', 'image': 'i', 'flavor': 'f'}
                        ],
                    }
                }
            },
            placements={
                'k': {'appliance_id': 'app', 'member': 'web-0', 'site': 'a'}
            },
        ),
        STATUS,
        NOW,
    )
    rows = {s['name']: s for s in made['sites']}
    assert (rows['a']['leader'], rows['a']['voter']) == (True, True)
    assert (rows['b']['leader'], rows['b']['voter']) == (False, False)
    assert rows['a']['location'] == {'lat': 48.85, 'lon': 2.35}
    assert made['federation']['leader'] == 'a'
    assert made['generated_at'] == '2027-01-15T08:00:00Z'
    [appliance] = made['appliances']
    assert [(m['member'], m['site']) for m in appliance['members']] == [
        ('web-0', 'a')
    ]


def test_an_outage_is_detected_recovered_and_its_members_replaced():
    alert = {
        'kind': 'site_down',
        'site': 'b',
        'message': 'site b is down: not heard of for 1.6 s',
        'raised_at': NOW - 100,
        'closed_at': NOW - 10,
    }
    made = snapshot.build(
        kb(
            sites=SITES,
            closed_alerts={'1' * 32: alert},
            actions={
                '2' * 32: action(
                    'a', 'server.create', 'web-1', 'done', NOW - 90
                ),
                '3' * 32: action(
                    'b', 'server.create', 'web-1', 'done', NOW - 900
                ),
                '4' * 32: action(
                    'a', 'server.delete', 'web-9', 'done', NOW - 5000
                ),
            },
        ),
        STATUS,
        NOW,
    )
    [outage] = made['timeline']['outages']
    assert outage == {
        'site': 'b',
        'detected_at': NOW - 100,
        'recovered_at': NOW - 10,
        'replaced_at': NOW - 85,
        'message': alert['message'],
    }
    # The last hour only: the drain began before it, one action too.
    assert [(e['site'], e['label']) for e in made['timeline']['events']] == [
        ('b', 'web-1 placed (done)'),
        ('a', 'web-1 placed (done)'),
    ]
    assert [a['member'] for a in made['actions']] == [
        'web-1',
        'web-1',
        'web-9',
    ]


def test_an_open_outage_has_no_recovery_and_is_replaced_once_all_built():
    alert = {'kind': 'site_down', 'site': 'b', 'raised_at': NOW - 100}
    made = snapshot.build(
        kb(
            sites=SITES,
            alerts={'1' * 32: alert},
            actions={
                '2' * 32: action(
                    'a', 'server.create', 'w-1', 'done', NOW - 90
                ),
                '3' * 32: action(
                    'a', 'server.create', 'w-2', 'running', NOW - 80
                ),
            },
        ),
        STATUS,
        NOW,
    )
    [outage] = made['timeline']['outages']
    assert (outage['recovered_at'], outage['replaced_at']) == (None, None)
    assert [a['kind'] for a in made['alerts']] == ['site_down']


def test_times_are_utc_iso():
    assert snapshot.iso(0.0) == '1970-01-01T00:00:00Z'
    assert snapshot.iso(None) is None
