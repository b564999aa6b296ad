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

import pytest
import requests
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session
from osc_lib import exceptions

from sodos.osc import client
from tests.unit.osc import conftest as fakes

URL = fakes.URL


@pytest.fixture
def sodos():
    return client.Client(session.Session(), 'http://sodos.test:8787')


@pytest.mark.parametrize(
    'given, expected',
    [
        ('http://h:8787', 'http://h:8787/v1'),
        ('http://h:8787/', 'http://h:8787/v1'),
        ('http://h:8787/v1', 'http://h:8787/v1'),
        ('https://h/sodos/v1/', 'https://h/sodos/v1'),
        ('https://h/sodos', 'https://h/sodos/v1'),
    ],
)
def test_versioned_endpoint(given, expected):
    assert client.versioned_endpoint(given) == expected


@pytest.mark.parametrize('bad', ['h:8787', 'ftp://h/', '', 'http://'])
def test_endpoint_not_a_url(bad):
    with pytest.raises(exceptions.CommandError, match='not an http'):
        client.versioned_endpoint(bad)


def test_calls_strip_the_envelope(sodos, requests_mock):
    requests_mock.get(URL + '/sites/paris', json={'site': fakes.site()})
    assert sodos.site_get('paris')['region'] == 'eu-west'


def test_names_are_quoted_in_paths(sodos, requests_mock):
    requests_mock.get(URL + '/sites/a%2Fb', json={'site': fakes.site('a/b')})
    assert sodos.site_get('a/b')['name'] == 'a/b'


def test_api_error_carries_code_message_and_request_id(sodos, requests_mock):
    requests_mock.post(
        URL + '/sites/paris/drain',
        **fakes.error(409, 'conflict', 'site paris is already draining'),
    )
    with pytest.raises(client.ApiError) as caught:
        sodos.site_drain('paris')
    assert caught.value.status == 409
    assert caught.value.code == 'conflict'
    assert caught.value.request_id == fakes.REQUEST_ID
    assert str(caught.value) == (
        'site paris is already draining (HTTP 409 conflict, request %s)'
        % fakes.REQUEST_ID
    )
    assert isinstance(caught.value, exceptions.CommandError)


def test_keystonemiddleware_error_body(sodos, requests_mock):
    # keystonemiddleware answers 401 itself, with a numeric code.
    requests_mock.get(
        URL + '/federation',
        status_code=401,
        json={
            'error': {
                'code': 401,
                'title': 'Unauthorized',
                'message': 'The request you have made requires '
                'authentication.',
            }
        },
        headers={client.REQUEST_ID_HEADER: 'req-1'},
    )
    with pytest.raises(client.ApiError) as caught:
        sodos.federation()
    assert caught.value.code == 'unauthorized'
    assert caught.value.request_id == 'req-1'
    assert 'requires authentication' in str(caught.value)


def test_error_without_json_body(sodos, requests_mock):
    requests_mock.get(
        URL + '/federation', status_code=502, text='<html>Bad gateway</html>'
    )
    with pytest.raises(client.ApiError) as caught:
        sodos.federation()
    assert caught.value.code == 'internal'
    assert '502' in str(caught.value)
    assert 'Bad gateway' in str(caught.value)


def test_unreachable_endpoint(sodos, requests_mock):
    requests_mock.get(
        URL + '/federation', exc=ks_exc.ConnectFailure('refused')
    )
    with pytest.raises(exceptions.CommandError) as caught:
        sodos.federation()
    assert str(caught.value).startswith(
        'cannot reach the sodos API at %s' % URL
    )


def test_not_json_answer(sodos, requests_mock):
    requests_mock.get(URL + '/federation', text='hello')
    with pytest.raises(exceptions.CommandError, match='not JSON'):
        sodos.federation()


def test_bodies_and_queries(sodos, requests_mock):
    requests_mock.post(URL + '/whatif', json={'whatif': {'moves': []}})
    requests_mock.get(URL + '/alerts', json={'alerts': []})
    requests_mock.get(URL + '/history/monitoring', json={'samples': [{}]})
    requests_mock.delete(URL + '/appliances/a1', status_code=204)
    assert sodos.whatif(['paris'], []) == {'moves': []}
    assert requests_mock.last_request.json() == {
        'fail_sites': ['paris'],
        'drain_sites': [],
    }
    sodos.alert_list('all')
    assert requests_mock.last_request.qs == {'state': ['all']}
    assert sodos.history('monitoring', site='paris', limit=5) == [{}]
    assert requests_mock.last_request.qs == {
        'site': ['paris'],
        'limit': ['5'],
    }
    assert sodos.appliance_delete('a1') is None


@pytest.mark.parametrize(
    'text',
    [
        '{"federation": {"x": NaN}}',
        '{"federation": {"x": "\\ud800"}}',
        '[' * 5000 + ']' * 5000,
    ],
)
def test_a_reply_json_cannot_carry_is_not_json(sodos, requests_mock, text):
    requests_mock.get(URL + '/federation', text=text)
    with pytest.raises(exceptions.CommandError, match='not JSON'):
        sodos.federation()


def test_an_error_body_json_cannot_carry_is_not_trusted(sodos, requests_mock):
    requests_mock.get(
        URL + '/federation',
        status_code=409,
        text='{"error": {"code": "conflict", "message": "x\\ud800"}}',
    )
    with pytest.raises(client.ApiError) as caught:
        sodos.federation()
    # Said as the raw answer, which prints (a lone surrogate does not).
    assert caught.value.code == 'conflict'
    str(caught.value).encode('utf-8')


def test_a_read_whose_connection_is_reset_is_sent_again(sodos, requests_mock):
    # The API under uwsgi closes its connections after each answer: a
    # read sent on one as it closes is reset, and is safe to send again.
    requests_mock.get(
        URL + '/sites/paris',
        [
            {'exc': requests.exceptions.ConnectionError('reset by peer')},
            {'json': {'site': fakes.site()}},
        ],
    )
    assert sodos.site_get('paris')['region'] == 'eu-west'
    assert requests_mock.call_count == 2


def test_a_write_whose_connection_fails_is_not_sent_again(
    sodos, requests_mock
):
    # It may have been applied: the caller is told, and decides.
    requests_mock.post(
        URL + '/appliances',
        exc=requests.exceptions.ConnectionError('reset by peer'),
    )
    with pytest.raises(exceptions.CommandError, match='cannot reach'):
        sodos.appliance_create({'name': 'x'})
    assert requests_mock.call_count == 1
