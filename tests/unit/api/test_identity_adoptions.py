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

"""``/v1/identity/adoptions``, over the in-memory KB: the site's answer is
the KB command its Exec would commit."""

import pytest

from sodos.kb import commands
from tests.unit.api.conftest import Client
from tests.unit.api.test_api import assert_error

URL = '/v1/identity/adoptions'
GID = '1' * 32


def adopt(client, **fields):
    body = {'kind': 'project', 'name': 'legacy', 'site': 's2'}
    body.update(fields)
    return client.post(URL, {'adoption': body})


def answer(fed, site, args):
    """What site ``site``'s Exec commits once it looked."""
    result = fed.submit(
        commands.make('identity.adoption.finish', args, site), check=False
    )
    assert result['ok'], result
    return result


def test_a_request_is_committed_and_shown_pending(client, fed):
    status, body, headers = adopt(client)
    assert status == 201, body
    made = body['adoption']
    assert headers['Location'].endswith('%s/%s' % (URL, made['id']))
    assert made['state'] == 'pending'
    assert (made['kind'], made['name'], made['domain_id'], made['site']) == (
        'project',
        'legacy',
        'default',
        's2',
    )
    assert made['object_id'] is None and made['reason'] is None
    stored = fed.read('identity')['adoptions'][made['id']]
    assert stored['kind'] == 'projects' and stored['state'] == 'pending'
    assert client.get(URL + '/' + made['id'])[1] == {'adoption': made}
    assert client.get(URL)[1] == {'adoptions': [made]}


def test_done_shows_the_federation_id_and_the_sites(client, fed):
    rid = adopt(client)[1]['adoption']['id']
    answer(
        fed,
        's2',
        {
            'request_id': rid,
            'outcome': 'done',
            'id': GID,
            'local_id': 'p-at-s2',
            'attrs': {'description': 'by hand'},
        },
    )
    shown = client.get(URL + '/' + rid)[1]['adoption']
    assert shown['state'] == 'done'
    assert (shown['object_id'], shown['site_id']) == (GID, 'p-at-s2')
    assert shown['finished_at'] >= shown['created_at']
    project = client.get('/v1/identity/projects/legacy')[1]['project']
    assert project['id'] == GID
    assert project['description'] == 'by hand'
    assert project['site_ids'] == {'s2': 'p-at-s2'}
    # Adopted: a second request for it has nothing to adopt.
    assert_error(adopt(client), 409, 'conflict', 'already (id %s)' % GID)


def test_a_failed_request_says_why(client, fed):
    rid = adopt(client, kind='user', name='bob')[1]['adoption']['id']
    reason = "user 'bob' (domain default) at site s2: the site has no such"
    answer(
        fed, 's2', {'request_id': rid, 'outcome': 'failed', 'reason': reason}
    )
    shown = client.get(URL + '/' + rid)[1]['adoption']
    assert (shown['state'], shown['reason']) == ('failed', reason)
    assert not fed.read('identity')['users']


def test_lists_filter_by_site_state_and_kind(client, fed):
    first = adopt(client)[1]['adoption']['id']
    second = adopt(client, kind='group', name='ops', site='s3')[1]
    second = second['adoption']['id']
    answer(
        fed, 's2', {'request_id': first, 'outcome': 'failed', 'reason': 'x'}
    )

    def ids(query):
        return [a['id'] for a in client.get(URL + query)[1]['adoptions']]

    assert ids('') == [first, second]
    assert ids('?site=s3') == [second]
    assert ids('?state=failed') == [first]
    assert ids('?kind=group&state=pending') == [second]
    assert ids('?site=s2&state=pending') == []


@pytest.mark.parametrize(
    'fields, status, code, words',
    [
        ({'site': 'nowhere'}, 404, 'not_found', ["no site 'nowhere'"]),
        (
            {'domain': 'acme'},
            404,
            'not_found',
            ["body.adoption.domain: no domain 'acme'"],
        ),
        (
            {'name': 'admin'},
            409,
            'conflict',
            ['project admin is protected ([identity]protected_projects)'],
        ),
        ({'kind': 'domain'}, 400, 'invalid_body', ['body.adoption.kind']),
        ({'name': 'a/b'}, 400, 'invalid_body', ['body.adoption.name']),
        ({'password': 'x'}, 400, 'invalid_body', ['body.adoption']),
    ],
)
def test_bad_requests_change_nothing(client, fed, fields, status, code, words):
    before = fed.read('identity')
    assert_error(adopt(client, **fields), status, code, *words)
    assert fed.read('identity') == before


def test_a_missing_site_field_is_named(client, fed):
    answer_ = client.post(
        URL, {'adoption': {'kind': 'project', 'name': 'legacy'}}
    )
    assert_error(answer_, 400, 'invalid_body', 'site')


def test_a_site_that_left_cannot_adopt(client, fed):
    fed.propose('site.leave', {'site': 's3'})
    assert_error(adopt(client, site='s3'), 409, 'conflict', 'has left')


def test_a_federation_name_is_refused(client, fed):
    made = client.post('/v1/identity/projects', {'project': {'name': 'p'}})
    gid = made[1]['project']['id']
    assert_error(
        adopt(client, name='p'),
        409,
        'conflict',
        "the federation has a project 'p' in domain default already (id %s)"
        % gid,
    )
    assert not fed.read('identity')['adoptions']


def test_unknown_requests_and_queries(client):
    assert_error(client.get(URL + '/' + 'f' * 32), 404, 'not_found', 'f' * 32)
    assert_error(client.get(URL + '/nope'), 404, 'not_found', '32 lowercase')
    assert_error(client.get(URL + '?state=done-ish'), 400, 'invalid_query')
    assert_error(client.get(URL + '?kind=projects'), 400, 'invalid_query')
    assert_error(client.get(URL + '?bogus=1'), 400, 'invalid_query')


# -- policy ----------------------------------------------------------------


@pytest.fixture
def keystone_app(make_app, fed, tokens):
    return make_app('keystone')


@pytest.mark.parametrize('role', ['reader', 'member'])
def test_readers_list_but_only_admins_adopt(keystone_app, tokens, fed, role):
    admin = Client(keystone_app, token=tokens['admin'])
    status, body, _ = adopt(admin)
    assert status == 201, body
    made = body['adoption']
    assert made['requested_by'] == 'admin-user'
    reader = Client(keystone_app, token=tokens[role])
    assert reader.get(URL)[1]['adoptions'] == [made]
    assert reader.get(URL + '/' + made['id'])[0] == 200
    before = fed.read('identity')
    assert_error(
        adopt(reader, name='other'),
        403,
        'forbidden',
        'sodos:identity:adoption:create',
    )
    assert fed.read('identity') == before
