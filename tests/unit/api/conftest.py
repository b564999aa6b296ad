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

"""The REST API over a KnowMon on the in-memory KB, called in process."""

import json

import pytest
import webob
from keystonemiddleware import auth_token
from keystonemiddleware import fixture as ksm_fixture

from sodos.api import deploy
from tests.unit.analyseplan import kbviews

A = 'a' * 32


class Client:
    """Calls a WSGI app in process; answers (status, json, headers)."""

    def __init__(self, app, token=None):
        self.app = app
        self.token = token

    def __call__(self, method, path, body=None, raw=None, headers=None):
        req = webob.Request.blank(path, method=method)
        if body is not None:
            raw = json.dumps(body).encode()
        if raw is not None:
            req.body = raw
            req.content_type = 'application/json'
        if self.token:
            req.headers['X-Auth-Token'] = self.token
        for name, value in (headers or {}).items():
            req.headers[name] = value
        resp = req.get_response(self.app)
        data = json.loads(resp.body) if resp.body else None
        return resp.status_int, data, resp.headers

    def get(self, path, **kwargs):
        return self('GET', path, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self('POST', path, body=body, **kwargs)


@pytest.fixture
def fed(knowmon):
    """'here' plus two sites, each with a monitoring report."""
    return kbviews.reporting_sites(knowmon.backend)


@pytest.fixture
def make_app(conf, api):
    def make(strategy='noauth', knowmon=None):
        conf.set_override('auth_strategy', strategy, 'api')
        # keystonemiddleware registers these when the app builds it;
        # the test sets one before.
        for group, opts in auth_token.list_opts():
            conf.register_opts(opts, group=group)
        conf.set_override(
            'www_authenticate_uri',
            'http://keystone.example/identity',
            'keystone_authtoken',
        )
        return deploy.deploy(conf, knowmon or api)

    return make


@pytest.fixture
def client(make_app, fed):
    return Client(make_app('noauth'))


@pytest.fixture
def tokens():
    """keystonemiddleware's fixture: tokens it accepts without Keystone."""
    fixture = ksm_fixture.AuthTokenFixture()
    fixture.setUp()
    made = {}
    for role in ('reader', 'member', 'admin', 'observer'):
        made[role] = 'token-of-a-' + role
        fixture.add_token_data(
            token_id=made[role],
            user_name='%s-user' % role,
            user_id='%s-id' % role,
            project_id='p' * 32,
            role_list=[role],
        )
    yield made
    fixture.cleanUp()
