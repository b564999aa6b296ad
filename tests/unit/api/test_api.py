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

"""Every route of the REST API, in noauth mode, over an in-memory KB."""

import re

import pytest

from sodos.analyseplan import role as analyseplan_role
from sodos.api import errors
from tests.unit.api.conftest import A
from tests.unit.api.conftest import Client
from tests.unit.kb.test_state import ALERT

REQ_ID = re.compile(
    r'^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
)
SPEC = {
    'name': 'shop',
    'members': [
        {'name': 'web', 'image': 'cirros', 'flavor': 'm1.small', 'count': 2}
    ],
    'constraints': {'spread': 2},
}


def assert_error(answer, status, code, *words):
    got_status, body, headers = answer
    assert got_status == status, body
    assert body['error']['code'] == code
    assert body['error']['code'] in errors.CODES
    assert body['error']['request_id'] == headers['X-OpenStack-Request-Id']
    for word in words:
        assert word in body['error']['message']
    assert 'Traceback' not in body['error']['message']


# -- request ids, versions, routing -------------------------------------


def test_every_response_has_a_fresh_request_id(client):
    given = 'req-12345678-1234-1234-1234-123456789012'
    seen = set()
    for path in ('/', '/v1/sites', '/nowhere'):
        _, _, headers = client.get(
            path, headers={'X-OpenStack-Request-Id': given}
        )
        found = headers['X-OpenStack-Request-Id']
        assert REQ_ID.match(found)
        seen.add(found)
    assert given not in seen
    assert len(seen) == 3


@pytest.mark.parametrize('path', ['/', '/v1', '/v1/'])
def test_versions(client, path):
    status, body, _ = client.get(path)
    assert status == 200
    (version,) = body['versions']
    assert version['id'] == 'v1.0'
    assert version['status'] == 'CURRENT'
    assert version['links'][0]['href'] == 'http://localhost/v1'


def test_an_unknown_path_is_404(client):
    assert_error(client.get('/v2/sites'), 404, 'not_found', '/v2/sites')


def test_a_wrong_method_is_405_with_allow(client):
    answer = client('PUT', '/v1/appliances')
    assert_error(answer, 405, 'method_not_allowed', 'PUT')
    assert answer[2]['Allow'] == 'GET, POST'


def test_a_body_too_large_is_refused(client, fed):
    before = fed.read()
    answer = client.post(
        '/v1/whatif', raw=b'{"x": "' + b'a' * 2_000_000 + b'"}'
    )
    assert_error(answer, 413, 'invalid_body', 'max_request_body_size')
    assert fed.read() == before


def test_an_unexpected_failure_is_500_without_traceback(client, monkeypatch):
    from sodos import readmodel as views

    def broken(*args):
        raise RuntimeError('boom')

    monkeypatch.setattr(views, 'site_rows', broken)
    assert_error(client.get('/v1/sites'), 500, 'internal', 'RuntimeError')


# -- federation and sites -----------------------------------------------


def test_federation(client):
    status, body, _ = client.get('/v1/federation')
    assert status == 200
    assert body['federation'] == {
        'leader': 'here',
        'term': 1,
        'voters': ['here'],
        'voter_count': None,
        'paused': False,
        'consolidate': False,
        'sites': {'up': 3, 'down': 0, 'total': 3},
        'failure_domains': {
            'voter_regions': {'here': ['here']},
            'regions': 3,
            'majority_region': 'here',
            'warning': 'an outage of region here takes the quorum with it',
        },
    }


def test_sites_list_and_show(client):
    status, body, _ = client.get('/v1/sites')
    assert status == 200
    assert [s['name'] for s in body['sites']] == ['here', 's2', 's3']
    status, body, _ = client.get('/v1/sites/s2')
    site = body['site']
    assert site['status'] == 'up'
    assert site['api_healthy'] is True
    assert site['capacity'] == {
        'vcpus': 16.0,
        'ram_mb': 32768.0,
        'used_vcpus': 0.0,
        'used_ram_mb': 0.0,
    }
    assert site['members'] == 0
    assert site['maintenance'] == ''


@pytest.mark.parametrize('name', ['nowhere', '-bad-', 'a' * 64])
def test_an_unknown_site_is_404(client, name):
    assert_error(client.get('/v1/sites/' + name), 404, 'not_found')


def test_drain_and_undrain(client, fed):
    status, body, _ = client.post(
        '/v1/sites/s2/drain', {'reason': 'new racks'}
    )
    assert status == 200, body
    assert body['site']['maintenance'] == 'draining'
    assert fed.read('sites')['s2']['maintenance'] == 'draining'
    status, body, _ = client.post('/v1/sites/s2/undrain')
    assert status == 200, body
    assert body['site']['maintenance'] == ''
    assert fed.read('sites')['s2']['maintenance'] == ''


@pytest.mark.parametrize(
    'path, raw, code, words',
    [
        ('/v1/sites/s2/drain', b'{"why": 1}', 'invalid_body', ['body']),
        ('/v1/sites/s2/drain', b'{"reason": 5}', 'invalid_body', ['reason']),
        ('/v1/sites/s2/drain', b'[1]', 'invalid_body', ['JSON object']),
        ('/v1/sites/s2/drain', b'{nope', 'invalid_json', []),
        ('/v1/sites/s2/undrain', b'{"x": 1}', 'invalid_body', []),
        ('/v1/sites/zz/drain', b'{}', 'not_found', ['zz']),
    ],
)
def test_bad_maintenance_requests_change_nothing(
    client, fed, path, raw, code, words
):
    before = fed.read()
    answer = client.post(path, raw=raw)
    assert_error(answer, 404 if code == 'not_found' else 400, code, *words)
    assert fed.read() == before


def test_patch_overrides_the_profile_and_survives_re_register(client, fed):
    status, body, _ = client(
        'PATCH',
        '/v1/sites/s2',
        body={
            'labels': {'tier': 'gold'},
            'location': {'lat': 48.85, 'lon': -2.5},
            'pue': 1.2,
            'region': 'eu-west',
        },
    )
    assert status == 200, body
    site = body['site']
    assert site['labels'] == {'tier': 'gold'}
    assert site['location'] == {'lat': 48.85, 'lon': -2.5}
    assert site['pue'] == 1.2
    assert site['region'] == 'eu-west'
    # The site registers again (a restart) with its own profile.
    fed.propose(
        'site.register',
        {
            'site': 's2',
            'address': 'h:2',
            'info': {
                'profile': {
                    'region': 's2',
                    'pue': 1.5,
                    'cost_per_vcpu_hour': 3.0,
                }
            },
        },
    )
    site = client.get('/v1/sites/s2')[1]['site']
    assert site['region'] == 'eu-west'
    assert site['pue'] == 1.2
    assert site['cost_per_vcpu_hour'] == 3.0


def test_patch_null_takes_an_override_back(client, fed):
    fed.propose(
        'site.register',
        {
            'site': 's2',
            'address': 'h:2',
            'info': {'profile': {'region': 'own', 'pue': 1.5}},
        },
    )
    client('PATCH', '/v1/sites/s2', body={'region': 'eu-west', 'pue': 1.2})
    status, body, _ = client(
        'PATCH', '/v1/sites/s2', body={'region': None, 'pue': 1.3}
    )
    assert status == 200, body
    assert body['site']['region'] == 'own'
    assert body['site']['pue'] == 1.3
    assert fed.read('sites')['s2']['profile_overrides'] == {'pue': 1.3}
    # Taken back for good: a re-register does not bring it back.
    fed.propose(
        'site.register',
        {
            'site': 's2',
            'address': 'h:2',
            'info': {'profile': {'region': 'own-2', 'pue': 1.5}},
        },
    )
    site = client.get('/v1/sites/s2')[1]['site']
    assert (site['region'], site['pue']) == ('own-2', 1.3)


@pytest.mark.parametrize(
    'body, words',
    [
        ({}, ['body']),
        ({'pue': 0.5}, ['body.pue']),
        ({'location': {'lat': 91, 'lon': 0}}, ['body.location.lat']),
        ({'location': {'lat': 1}}, ['body.location', 'lon']),
        ({'labels': {'k': 1}}, ['body.labels.k']),
        ({'colour': 'red'}, ['body']),
        ({'region': ''}, ['body.region']),
    ],
)
def test_bad_patches_change_nothing(client, fed, body, words):
    before = fed.read()
    answer = client('PATCH', '/v1/sites/s2', body=body)
    assert_error(answer, 400, 'invalid_body', *words)
    assert fed.read() == before


# -- appliances ----------------------------------------------------------


def test_appliance_lifecycle(client, fed):
    status, body, headers = client.post('/v1/appliances', {'appliance': SPEC})
    assert status == 201, body
    created = body['appliance']
    aid = created['id']
    assert headers['Location'] == 'http://localhost/v1/appliances/' + aid
    assert created['name'] == 'shop'
    assert created['priority'] == 50
    assert created['spec']['constraints']['spread'] == 2
    assert [
        (m['member'], m['state'], m['site']) for m in created['members']
    ] == [
        ('web-0', 'unplaced', ''),
        ('web-1', 'unplaced', ''),
    ]
    assert fed.read('appliances')[aid]['spec']['name'] == 'shop'

    status, body, _ = client.get('/v1/appliances')
    assert body['appliances'] == [
        {
            'id': aid,
            'name': 'shop',
            'priority': 50,
            # noauth has no project: the service project's, as before.
            'project_id': None,
            'members_total': 2,
            'members_placed': 0,
            'members_active': 0,
        }
    ]
    status, _, _ = client('DELETE', '/v1/appliances/' + aid)
    assert status == 204
    assert aid not in fed.read('appliances')
    assert_error(client.get('/v1/appliances/' + aid), 404, 'not_found', aid)


def test_member_states(client, fed):
    fed.propose('appliance.put', {'appliance_id': A, 'spec': SPEC})
    for member, site in (('web-0', 's2'), ('web-1', 's3')):
        fed.propose(
            'placement.set',
            {'appliance_id': A, 'member': member, 'site': site},
        )
    fed.report(
        's2',
        servers={
            A + '/web-0': {
                'id': 'srv-1',
                'status': 'ACTIVE',
                'addresses': ['10.20.0.5'],
            }
        },
    )
    status, body, _ = client.get('/v1/appliances/' + A)
    assert status == 200
    assert body['appliance']['members'] == [
        {
            'member': 'web-0',
            'site': 's2',
            'state': 'ACTIVE',
            'server_id': 'srv-1',
            'addresses': ['10.20.0.5'],
            'refused': [],
        },
        {
            'member': 'web-1',
            'site': 's3',
            'state': 'building',
            'server_id': '',
            'addresses': [],
            'refused': [],
        },
    ]
    row = client.get('/v1/appliances')[1]['appliances'][0]
    assert (row['members_placed'], row['members_active']) == (2, 1)
    site = client.get('/v1/sites/s2')[1]['site']
    assert site['members'] == 1


def test_a_member_shows_the_sites_that_refused_it(client, fed):
    fed.propose('appliance.put', {'appliance_id': A, 'spec': SPEC})
    outcomes = (
        ('s2', {'error': 'Quota exceeded for instances (HTTP 403)'}),
        ('s3', {'error': 'site API down (gave up)', 'transient': True}),
    )
    for index, (site, result) in enumerate(outcomes):
        action_id = str(index + 1) * 32
        fed.propose(
            'action.put',
            {
                'action_id': action_id,
                'site': site,
                'kind': 'server.create',
                'params': {
                    'appliance_id': A,
                    'member': 'web-0',
                    'image': 'cirros',
                    'flavor': 'm1.small',
                },
            },
        )
        fed.propose(
            'action.update',
            {'action_id': action_id, 'state': 'failed', 'result': result},
        )
    members = client.get('/v1/appliances/' + A)[1]['appliance']['members']
    # Only the refusal for good: the transient failure is retried.
    assert [m['refused'] for m in members] == [
        [{'site': 's2', 'reason': 'Quota exceeded for instances (HTTP 403)'}],
        [],
    ]


def test_a_member_its_site_refused_shows_why_it_waits(client, fed):
    fed.propose('appliance.put', {'appliance_id': A, 'spec': SPEC})
    fed.propose(
        'placement.set', {'appliance_id': A, 'member': 'web-0', 'site': 's2'}
    )
    reason = (
        'its server failed at s2; no site can take it: s2: the server '
        'failed there; tried there again after 2026-12-07 16:00:00 UTC'
    )
    fed.propose(
        'alert.raise',
        {
            'alert_id': analyseplan_role.unplaced_alert_id(A + '/web-0'),
            'site': 's2',
            'kind': 'unplaced',
            'severity': 'critical',
            'message': 'member %s/web-0 cannot be placed: %s' % (A, reason),
        },
    )
    members = client.get('/v1/appliances/' + A)[1]['appliance']['members']
    # Still placed at s2 (nothing else takes it), yet waiting.
    assert [(m['site'], m.get('reason')) for m in members] == [
        ('s2', reason),
        ('', ''),
    ]


@pytest.mark.parametrize(
    'body, words',
    [
        ({}, ['body', 'appliance']),
        ({'appliance': {'name': 'x'}}, ['body.appliance', 'members']),
        (
            {
                'appliance': dict(
                    SPEC, members=[{'name': '!', 'image': 'i', 'flavor': 'f'}]
                )
            },
            ['body.appliance.members[0].name'],
        ),
        (
            {'appliance': dict(SPEC, members=SPEC['members'] * 2)},
            ['body.appliance.members', 'twice'],
        ),
        ({'appliance': SPEC, 'extra': 1}, ['body']),
        (
            {'appliance': dict(SPEC, constraints={'spread': 3})},
            ['spread'],
        ),
    ],
)
def test_invalid_appliances_change_nothing(client, fed, body, words):
    before = fed.read()
    answer = client.post('/v1/appliances', body)
    assert_error(answer, 400, 'invalid_body', *words)
    assert fed.read() == before


def test_an_appliance_that_cannot_be_placed_is_409(client, fed):
    before = fed.read()
    spec = dict(SPEC, constraints={'sites': ['mars', 's2']})
    answer = client.post('/v1/appliances', {'appliance': spec})
    assert_error(answer, 409, 'infeasible', 'mars')
    assert fed.read() == before


@pytest.mark.parametrize('aid', ['nothex', 'b' * 32])
def test_an_unknown_appliance_is_404(client, fed, aid):
    before = fed.read()
    assert_error(client.get('/v1/appliances/' + aid), 404, 'not_found')
    assert_error(client('DELETE', '/v1/appliances/' + aid), 404, 'not_found')
    assert fed.read() == before


# -- alerts --------------------------------------------------------------


@pytest.fixture
def alert(fed):
    fed.propose(
        'alert.raise',
        {
            'alert_id': ALERT,
            'site': 's2',
            'kind': 'overload',
            'severity': 'warning',
            'message': 'site s2 overloaded',
        },
    )
    return ALERT


def test_alerts_list_show_and_ack(client, fed, alert):
    status, body, _ = client.get('/v1/alerts')
    assert [a['id'] for a in body['alerts']] == [alert]
    assert body['alerts'][0]['state'] == 'open'
    status, body, _ = client.post(
        '/v1/alerts/%s/ack' % alert, {'comment': 'adding capacity'}
    )
    assert status == 200, body
    acked = body['alert']
    assert acked['state'] == 'acknowledged'
    assert acked['acknowledged_by'] == 'noauth'
    assert acked['acknowledged_at'] is not None
    assert client.get('/v1/alerts')[1]['alerts'] == []
    listed = client.get('/v1/alerts?state=acknowledged')[1]['alerts']
    assert [a['id'] for a in listed] == [alert]
    assert len(client.get('/v1/alerts?state=all')[1]['alerts']) == 1
    assert client.get('/v1/alerts/' + alert)[1]['alert'] == acked
    # KnowMon's own view: still open, for whoever raised it to close.
    assert fed.read('alerts')[alert]['state'] == 'open'


@pytest.mark.parametrize(
    'query, words',
    [
        ('state=closed', ['state', 'closed']),
        ('colour=red', ['colour']),
        ('state=open&state=all', ['twice']),
    ],
)
def test_bad_alert_queries(client, alert, query, words):
    assert_error(
        client.get('/v1/alerts?' + query), 400, 'invalid_query', *words
    )


def test_ack_of_an_unknown_alert_changes_nothing(client, fed, alert):
    before = fed.read()
    answer = client.post('/v1/alerts/%s/ack' % ('e' * 32), {})
    assert_error(answer, 404, 'not_found')
    answer = client.post('/v1/alerts/%s/ack' % alert, {'comment': 7})
    assert_error(answer, 400, 'invalid_body', 'body.comment')
    assert fed.read() == before


# -- what-if -------------------------------------------------------------


def test_whatif_reports_moves_and_commits_nothing(client, fed):
    fed.propose('appliance.put', {'appliance_id': A, 'spec': SPEC})
    for member, site in (('web-0', 's2'), ('web-1', 's3')):
        fed.propose(
            'placement.set',
            {'appliance_id': A, 'member': member, 'site': site},
        )
    before = fed.read()
    status, body, _ = client.post('/v1/whatif', {'fail_sites': ['s2']})
    assert status == 200, body
    result = body['whatif']
    assert result['events'] == {'failed': ['s2'], 'drained': []}
    assert result['affected_appliances'] == [{'id': A, 'name': 'shop'}]
    assert result['moves'] == [
        {
            'appliance': 'shop',
            'appliance_id': A,
            'member': 'web-0',
            'from': 's2',
            'to': 'here',
        }
    ]
    assert result['unplaceable'] == []
    assert set(result['capacity_left']) == {'here', 's3'}
    assert fed.read() == before


def test_whatif_says_when_nothing_can_take_a_member(client, fed):
    fed.propose('appliance.put', {'appliance_id': A, 'spec': SPEC})
    for member, site in (('web-0', 's2'), ('web-1', 's3')):
        fed.propose(
            'placement.set',
            {'appliance_id': A, 'member': member, 'site': site},
        )
    status, body, _ = client.post(
        '/v1/whatif', {'fail_sites': ['s2', 'here'], 'drain_sites': []}
    )
    (unplaceable,) = body['whatif']['unplaceable']
    assert unplaceable['member'] == 'web-0'
    assert unplaceable['reason']


@pytest.mark.parametrize(
    'body, words',
    [
        ({}, ['fail_sites or drain_sites']),
        ({'fail_sites': []}, ['fail_sites or drain_sites']),
        ({'fail_sites': ['mars']}, ['mars']),
        ({'fail_sites': 's2'}, ['body.fail_sites']),
        ({'drain_sites': ['s2', 's2']}, ['body.drain_sites']),
        ({'fail_sites': ['s2'], 'when': 'now'}, ['body']),
    ],
)
def test_bad_whatif_questions(client, fed, body, words):
    before = fed.read()
    assert_error(client.post('/v1/whatif', body), 400, 'invalid_body', *words)
    assert fed.read() == before


# -- the KnowMon unreachable, no quorum, the KB refusing ----------------


class Unreachable:
    via = 'RPC'

    def __init__(self, api, error):
        self.api = api
        self.error = error

    def __getattr__(self, name):
        return getattr(self.api, name)

    def read(self, section=None):
        raise self.error


def test_an_unreachable_knowmon_is_503(make_app, api, fed):
    from sodos import exception

    error = exception.NotReady('KnowMon of site here did not answer read')
    client = Client(make_app('noauth', knowmon=Unreachable(api, error)))
    assert_error(client.get('/v1/sites'), 503, 'unavailable', 'did not answer')


class Refusing:
    def __init__(self, api, result):
        self.api = api
        self.result = result
        self.via = api.via

    def __getattr__(self, name):
        return getattr(self.api, name)

    def submit(self, command, timeout=None):
        return self.result


def test_a_write_without_quorum_is_503(make_app, api, fed):
    result = {'ok': False, 'error': 'not committed in 10 s', 'timeout': True}
    client = Client(make_app('noauth', knowmon=Refusing(api, result)))
    before = fed.read()
    answer = client.post('/v1/sites/s2/drain', {})
    assert_error(answer, 503, 'unavailable', 'quorum', 'not committed')
    assert fed.read() == before


def test_a_command_the_kb_refuses_is_409_with_its_reason(make_app, api, fed):
    result = {'ok': False, 'error': "unknown site 's2'"}
    client = Client(make_app('noauth', knowmon=Refusing(api, result)))
    answer = client.post('/v1/sites/s2/drain', {})
    assert_error(answer, 409, 'conflict', "unknown site 's2'")
