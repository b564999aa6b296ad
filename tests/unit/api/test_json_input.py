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

"""What JSON cannot carry is a 400 with the contract's error body, and
never reaches the Knowledge Base; so is a URL that is not UTF-8."""

import logging

import pytest

from tests.unit.api.conftest import Client
from tests.unit.api.test_api import assert_error


def deep(levels):
    return ('{"labels": {"k": %s}}' % ('[' * levels + ']' * levels)).encode()


@pytest.mark.parametrize(
    'raw, words',
    [
        (b'{"pue": NaN}', ['body.pue', 'NaN']),
        (b'{"pue": Infinity}', ['body.pue', 'Infinity']),
        (b'{"pue": -Infinity}', ['body.pue', '-Infinity']),
        (b'{"pue": 1e999}', ['body.pue', 'Infinity']),
        (b'{"region": "eu\\ud800"}', ['body.region', 'lone surrogate']),
        (b'{"labels": {"\\udc00": "x"}}', ['body.labels', 'lone surrogate']),
        (deep(5000), ['nested deeper than 64']),
        (deep(100000), ['nested deeper than 64']),
    ],
)
def test_a_body_json_cannot_carry_is_400_and_changes_nothing(
    client, fed, raw, words
):
    before = fed.read()
    answer = client('PATCH', '/v1/sites/s2', raw=raw)
    assert_error(answer, 400, 'invalid_json', *words)
    assert fed.read() == before


def test_a_lone_surrogate_in_a_project_name_is_refused(client, fed):
    raw = b'{"project": {"name": "lab\\ud800"}}'
    answer = client('POST', '/v1/identity/projects', raw=raw)
    assert_error(answer, 400, 'invalid_json', 'body.project.name')
    # The listing that a stored one would break still answers.
    status, body, _ = client.get('/v1/identity/projects')
    assert status == 200, body
    # A valid pair is one character, and welcome.
    status, body, _ = client(
        'PATCH', '/v1/sites/s2', raw=b'{"labels": {"k": "\\ud83d\\ude00"}}'
    )
    assert status == 200, body
    assert client.get('/v1/sites/s2')[1]['site']['labels'] == {'k': '😀'}


@pytest.mark.parametrize(
    'path, words',
    [
        ('/v1/sites/%ff', ['path', 'UTF-8']),
        ('/v1/%ed%a0%80', ['path', 'UTF-8']),
        ('/v1/alerts?state=%ff', ['query string', 'UTF-8']),
        ('/v1/alerts?%ff=open', ['query string', 'UTF-8']),
    ],
)
def test_a_url_that_is_not_utf8_is_400_json(client, caplog, path, words):
    caplog.set_level(logging.INFO)
    answer = client.get(path)
    assert_error(answer, 400, 'invalid_query', *words)
    # The request line is logged as sent (its escapes in capitals).
    assert '%s 400' % path.upper() in caplog.text.upper()


def test_a_newline_in_a_query_name_is_not_a_site_name(client):
    answer = client.get('/v1/identity/adoptions?site=s2%0a')
    assert_error(answer, 400, 'invalid_query', 'site')


def test_a_failed_request_is_logged_on_one_line(make_app, fed, caplog):
    app = make_app('noauth')

    def broken(environ, start_response):
        raise RuntimeError('boom')

    app.faults.application = broken
    caplog.set_level(logging.INFO)
    answer = Client(app).get('/v1/sites/x%0aFORGED 200?a=%0d%1b')
    assert_error(answer, 500, 'internal')
    assert 'GET /v1/sites/x%0AFORGED%20200?a=%0d%1b failed' in caplog.text
    for record in caplog.records:
        message = record.getMessage()
        assert '\n' not in message and '\r' not in message, message
        assert '\x1b' not in message, message
