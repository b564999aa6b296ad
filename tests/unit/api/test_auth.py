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

"""Keystone tokens (keystonemiddleware) and the policy rules."""

import pytest

from tests.unit.api.conftest import Client

SPEC = {
    'name': 'shop',
    'members': [{'name': 'web', 'image': 'cirros', 'flavor': 'm1.small'}],
}


@pytest.fixture
def app(make_app, fed, tokens):
    return make_app('keystone')


def as_(app, tokens, role):
    return Client(app, token=tokens[role] if role else None)


def test_no_token_is_401_in_the_contract_form(app, tokens):
    status, body, headers = as_(app, tokens, None).get('/v1/sites')
    assert status == 401
    assert body['error']['code'] == 'unauthorized'
    assert body['error']['request_id'] == headers['X-OpenStack-Request-Id']
    assert 'WWW-Authenticate' in headers


def test_an_unknown_token_is_401(app):
    status, body, _ = Client(app, token='forged').get('/v1/sites')
    assert status == 401
    assert body['error']['code'] == 'unauthorized'


def test_version_discovery_needs_no_token(app, tokens):
    status, body, _ = as_(app, tokens, None).get('/')
    assert status == 200
    assert body['versions'][0]['id'] == 'v1.0'


@pytest.mark.parametrize('role', ['reader', 'member', 'admin'])
def test_readers_read(app, tokens, role):
    client = as_(app, tokens, role)
    for path in ('/v1/federation', '/v1/sites', '/v1/appliances'):
        status, body, _ = client.get(path)
        assert status == 200, body


@pytest.mark.parametrize('role', ['reader', 'member', 'admin'])
def test_readers_may_ask_what_if(app, tokens, role):
    status, body, _ = as_(app, tokens, role).post(
        '/v1/whatif', {'fail_sites': ['s2']}
    )
    assert status == 200, body


def test_a_role_sodos_does_not_know_reads_nothing(app, tokens):
    status, body, _ = as_(app, tokens, 'observer').get('/v1/sites')
    assert status == 403
    assert body['error']['code'] == 'forbidden'
    assert 'sodos:site:list' in body['error']['message']


@pytest.mark.parametrize('role', ['reader', 'member'])
@pytest.mark.parametrize(
    'method, path, body',
    [
        ('POST', '/v1/sites/s2/drain', {}),
        ('POST', '/v1/sites/s2/undrain', {}),
        ('PATCH', '/v1/sites/s2', {'pue': 1.1}),
        ('POST', '/v1/alerts/%s/ack' % ('a' * 32), {}),
    ],
)
def test_readers_cannot_write(app, tokens, fed, role, method, path, body):
    before = fed.read()
    status, answer, _ = as_(app, tokens, role)(method, path, body=body)
    assert status == 403
    assert answer['error']['code'] == 'forbidden'
    assert fed.read() == before


def test_admins_write(app, tokens, fed):
    client = as_(app, tokens, 'admin')
    status, body, _ = client.post('/v1/sites/s2/drain', {})
    assert status == 200, body
    assert fed.read('sites')['s2']['maintenance'] == 'draining'
    status, body, _ = client.post('/v1/appliances', {'appliance': SPEC})
    assert status == 201, body
    assert body['appliance']['id'] in fed.read('appliances')


def test_an_ack_records_the_token_user(app, tokens, fed):
    alert_id = 'c' * 32
    fed.propose(
        'alert.raise',
        {
            'alert_id': alert_id,
            'site': 's2',
            'kind': 'overload',
            'severity': 'warning',
            'message': 'hot',
        },
    )
    status, body, _ = as_(app, tokens, 'admin').post(
        '/v1/alerts/%s/ack' % alert_id, {}
    )
    assert status == 200, body
    assert body['alert']['acknowledged_by'] == 'admin-user'


def test_an_operator_policy_file_overrides_a_default(
    conf, make_app, fed, tokens, tmp_path
):
    policy_file = tmp_path / 'policy.yaml'
    policy_file.write_text('"sodos:site:drain": "role:member"\n')
    conf.set_override('policy_file', str(policy_file), 'oslo_policy')
    app = make_app('keystone')
    status, body, _ = as_(app, tokens, 'member').post('/v1/sites/s2/drain', {})
    assert status == 200, body
