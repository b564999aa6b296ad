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

"""/healthcheck of the REST API: oslo.middleware's answer over the
site's KB member and history database."""

import webob

from sodos.db import migration
from tests.unit.api.conftest import Client


def get(app, token=None, accept='application/json'):
    req = webob.Request.blank('/healthcheck', method='GET')
    req.headers['Accept'] = accept
    if token:
        req.headers['X-Auth-Token'] = token
    return req.get_response(app)


def test_without_a_token_it_answers_status_and_reasons_only(
    make_app, fed, tokens, conf
):
    app = make_app('keystone')
    migration.upgrade(conf)
    resp = get(app)
    assert resp.status_int == 200
    assert resp.json == {
        'detailed': False,
        'reasons': ['KB member in quorum', 'history database reachable'],
    }


def test_a_database_never_synced_makes_it_503_with_the_reason(
    make_app, fed, tokens
):
    app = make_app('keystone')
    resp = get(app, accept='text/plain')
    # oslo.middleware's own body, not rewritten into the API's errors.
    assert resp.status_int == 503
    assert resp.text.splitlines() == [
        'KB member in quorum',
        'history database schema not current',
    ]


def test_admins_see_the_details_readers_do_not(make_app, fed, tokens, conf):
    app = make_app('keystone')
    migration.upgrade(conf)
    admin = get(app, token=tokens['admin']).json
    assert admin['detailed'] is True
    details = {r['reason']: r['details'] for r in admin['reasons']}
    assert details['KB member in quorum'].startswith(
        'role voter, leader here, term 1'
    )
    assert details['history database reachable'] == (
        'schema %s' % migration.head()
    )
    reader = get(app, token=tokens['reader']).json
    assert reader['detailed'] is False


def test_a_forged_token_is_refused_as_everywhere(make_app, fed, tokens):
    app = make_app('keystone')
    status, body, _ = Client(app, token='forged').get('/healthcheck')
    assert status == 401
    assert body['error']['code'] == 'unauthorized'


def test_a_member_out_of_quorum_makes_it_503(make_app, fed, knowmon, conf):
    app = make_app('noauth')
    migration.upgrade(conf)
    knowmon.backend.stop()
    resp = get(app)
    assert resp.status_int == 503
    reasons = {r['reason'] for r in resp.json['reasons']}
    assert 'KB member not caught up with a leader' in reasons


def test_head_answers_the_status_alone(make_app, fed, conf):
    app = make_app('noauth')
    migration.upgrade(conf)
    resp = webob.Request.blank('/healthcheck', method='HEAD').get_response(app)
    assert resp.status_int == 204
    assert resp.body == b''
