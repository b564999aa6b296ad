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

"""The identity routes of the REST API, over the in-memory KB."""

import json
import logging
import urllib.parse

import pytest

from sodos.identity import crypto
from sodos.kb import commands
from tests.unit.api.conftest import Client
from tests.unit.api.test_api import assert_error

SECRET = 'federation identity secret'
PASSWORD = 'Never-Shown-7f3a'
ROLE = '/v1/identity/role-assignments'


class Recording(Client):
    """A client that keeps every response body, to search them all."""

    def __init__(self, app, token=None):
        super().__init__(app, token)
        self.bodies = []

    def __call__(self, *args, **kwargs):
        answer = super().__call__(*args, **kwargs)
        self.bodies.append(json.dumps(answer[1]))
        return answer

    def patch(self, path, body):
        return self('PATCH', path, body=body)

    def delete(self, path):
        return self('DELETE', path)


@pytest.fixture
def secret(conf):
    conf.set_override('secret', SECRET, 'identity')


@pytest.fixture
def client(make_app, fed, secret):
    return Recording(make_app('noauth'))


def ident(fed):
    return fed.read('identity')


def create(client, kind, **fields):
    single = kind[:-1]
    status, body, headers = client.post(
        '/v1/identity/' + kind, {single: fields}
    )
    assert status == 201, body
    assert headers['Location'].endswith(
        '/v1/identity/%s/%s' % (kind, body[single]['id'])
    )
    return body[single]


# -- objects ---------------------------------------------------------------


def test_domain_lifecycle(client, fed):
    made = create(client, 'domains', name='acme', description='Acme Inc.')
    assert made['name'] == 'acme'
    assert made['enabled'] is True
    gid = made['id']
    assert ident(fed)['domains'][gid]['description'] == 'Acme Inc.'
    rows = client.get('/v1/identity/domains')[1]['domains']
    assert [(r['id'], r['name']) for r in rows] == [(gid, 'acme')]
    for ref in ('acme', gid):
        status, body, _ = client.get('/v1/identity/domains/' + ref)
        assert (status, body['domain']['id']) == (200, gid)
    status, body, _ = client.patch(
        '/v1/identity/domains/acme',
        {'domain': {'name': 'acme2', 'enabled': False, 'description': None}},
    )
    assert status == 200, body
    stored = ident(fed)['domains'][gid]
    assert (stored['name'], stored['enabled']) == ('acme2', False)
    assert stored['description'] is None
    assert client.delete('/v1/identity/domains/acme2')[0] == 204
    assert gid not in ident(fed)['domains']
    assert_error(
        client.get('/v1/identity/domains/' + gid), 404, 'not_found', gid
    )


@pytest.mark.parametrize('kind', ['projects', 'users', 'groups'])
def test_objects_in_a_domain(client, fed, kind):
    single = kind[:-1]
    domain = create(client, 'domains', name='acme')['id']
    here = create(client, kind, name='ops', domain='acme', description='d')
    home = create(client, kind, name='ops')
    assert here['domain_id'] == domain
    assert home['domain_id'] == 'default'
    assert here['site_ids'] == {}
    stored = ident(fed)[kind][here['id']]
    assert (stored['name'], stored['domain_id']) == ('ops', domain)
    # One name in two domains: the query says which.
    rows = client.get('/v1/identity/%s?domain=acme' % kind)[1][kind]
    assert [r['id'] for r in rows] == [here['id']]
    rows = client.get('/v1/identity/%s?name=ops' % kind)[1][kind]
    assert {r['id'] for r in rows} == {here['id'], home['id']}
    shown = client.get('/v1/identity/%s/ops?domain=acme' % kind)[1]
    assert shown[single]['id'] == here['id']
    shown = client.get('/v1/identity/%s/ops' % kind)[1]
    assert shown[single]['id'] == home['id']
    status, body, _ = client.patch(
        '/v1/identity/%s/ops?domain=%s' % (kind, domain),
        {single: {'name': 'ops2', 'description': 'changed'}},
    )
    assert status == 200, body
    assert body[single]['name'] == 'ops2'
    stored = ident(fed)[kind][here['id']]
    assert (stored['name'], stored['description']) == ('ops2', 'changed')
    assert stored['domain_id'] == domain
    assert client.delete('/v1/identity/%s/%s' % (kind, home['id']))[0] == 204
    assert set(ident(fed)[kind]) == {here['id']}


def test_a_name_with_blanks_is_found_in_the_path(client):
    made = create(client, 'projects', name='Research & Dev')
    path = '/v1/identity/projects/' + urllib.parse.quote('Research & Dev')
    assert client.get(path)[1]['project']['id'] == made['id']


def test_patch_keeps_what_it_does_not_name(client, fed):
    made = create(
        client, 'users', name='alice', email='a@example.org', enabled=False
    )
    status, _, _ = client.patch(
        '/v1/identity/users/alice', {'user': {'description': 'ops'}}
    )
    assert status == 200
    stored = ident(fed)['users'][made['id']]
    assert stored['email'] == 'a@example.org'
    assert stored['enabled'] is False
    assert stored['description'] == 'ops'
    client.patch('/v1/identity/users/alice', {'user': {'email': None}})
    assert ident(fed)['users'][made['id']]['email'] is None


# -- passwords -------------------------------------------------------------


def test_passwords_are_stored_encrypted_and_never_shown(client, fed, caplog):
    caplog.set_level(logging.DEBUG)
    made = create(client, 'users', name='alice', password=PASSWORD)
    assert made['password_version'] == 1
    stored = ident(fed)['users'][made['id']]['password']
    box = crypto.PasswordBox(SECRET)
    assert box.decrypt(stored) == PASSWORD
    status, body, _ = client.patch(
        '/v1/identity/users/' + made['id'],
        {'user': {'password': PASSWORD + '2'}},
    )
    assert (status, body['user']['password_version']) == (200, 2)
    assert box.decrypt(ident(fed)['users'][made['id']]['password']) == (
        PASSWORD + '2'
    )
    client.get('/v1/identity/users')
    client.get('/v1/identity/users/alice')
    group = create(client, 'groups', name='g')
    client('PUT', '/v1/identity/groups/g/users/alice')
    client.get('/v1/identity/groups/' + group['id'])
    # Refused ones, too.
    for refused in (
        {'name': 'alice', 'password': PASSWORD},  # the name is taken
        {'name': 'b', 'passwd': PASSWORD},
        {'name': 'b', 'password': PASSWORD * 200},
        {'name': 'b', 'password': [PASSWORD]},
    ):
        status, _, _ = client.post('/v1/identity/users', {'user': refused})
        assert status in (400, 409)
    for body in client.bodies:
        assert PASSWORD not in body
        assert 'ciphertext' not in body
    # The request log was captured (and holds no password).
    assert 'POST /v1/identity/users 201' in caplog.text
    assert PASSWORD not in caplog.text
    assert PASSWORD not in json.dumps(fed.read())


def test_a_password_without_the_secret_is_refused(make_app, fed, conf):
    client = Client(make_app('noauth'))
    before = fed.read()
    answer = client.post(
        '/v1/identity/users', {'user': {'name': 'bob', 'password': PASSWORD}}
    )
    assert_error(answer, 409, 'conflict', '[identity]secret', 'site here')
    assert PASSWORD not in json.dumps(answer[1])
    assert fed.read() == before
    # Users without one can still be managed.
    assert (
        client.post('/v1/identity/users', {'user': {'name': 'bob'}})[0] == 201
    )
    answer = client(
        'PATCH', '/v1/identity/users/bob', body={'user': {'password': 'x'}}
    )
    assert_error(answer, 409, 'conflict', '[identity]secret')


# -- refusals --------------------------------------------------------------


@pytest.mark.parametrize(
    'path, body, words',
    [
        ('domains', {'domain': {}}, ['body.domain', 'name']),
        ('domains', {'domain': {'name': 'a', 'domain': 'x'}}, ['domain']),
        ('projects', {'project': {'name': 'a/b'}}, ['body.project.name']),
        ('projects', {'project': {'name': ' a'}}, ['body.project.name']),
        ('projects', {'project': {'name': 'a', 'enabled': 'yes'}},
         ['body.project.enabled']),
        ('projects', {'project': {'name': 'a', 'description': 'x' * 256}},
         ['body.project.description']),
        ('users', {'user': {'name': 'a', 'email': 'nobody'}},
         ['body.user.email']),
        ('users', {'user': {'name': 'a', 'password': ''}},
         ['body.user.password']),
        ('users', {'user': {'name': 'a', 'password': 'x' * 1025}},
         ['body.user.password']),
        ('groups', {'group': {'name': 'a', 'enabled': True}},
         ['body.group', 'enabled']),
        ('groups', {'groups': {'name': 'a'}}, ['body']),
        ('groups', ['a'], ['body must be a JSON object']),
    ],
)  # fmt: skip
def test_bad_bodies_are_400_and_change_nothing(client, fed, path, body, words):
    before = fed.read()
    answer = client.post('/v1/identity/' + path, body)
    assert_error(answer, 400, 'invalid_body', *words)
    assert fed.read() == before


def test_bad_patches_are_400_and_change_nothing(client, fed):
    create(client, 'projects', name='demo')
    before = fed.read()
    for body, words in (
        ({'project': {}}, ['body.project', 'at least 1']),
        ({'project': {'domain': 'acme'}}, ['body.project', 'domain']),
        ({'project': {'name': 'a/b'}}, ['body.project.name']),
    ):
        answer = client.patch('/v1/identity/projects/demo', body)
        assert_error(answer, 400, 'invalid_body', *words)
    # The domain of a new object is in its body, never in the query.
    answer = client.post(
        '/v1/identity/projects?domain=acme', {'project': {'name': 'x'}}
    )
    assert_error(
        answer, 400, 'invalid_query', "unknown query parameter 'domain'"
    )
    assert fed.read() == before


def test_the_kb_refuses_a_taken_name_with_its_reason(client, fed):
    create(client, 'projects', name='demo')
    other = create(client, 'projects', name='other')
    before = fed.read()
    answer = client.post(
        '/v1/identity/projects', {'project': {'name': 'demo'}}
    )
    assert_error(answer, 409, 'conflict', "project 'demo' already exists")
    answer = client.patch(
        '/v1/identity/projects/' + other['id'], {'project': {'name': 'demo'}}
    )
    assert_error(answer, 409, 'conflict', "project 'demo' already exists")
    assert fed.read() == before


def test_a_domain_that_holds_objects_is_not_deleted(client, fed):
    create(client, 'domains', name='acme')
    create(client, 'projects', name='demo', domain='acme')
    before = fed.read()
    answer = client.delete('/v1/identity/domains/acme')
    assert_error(answer, 409, 'conflict', 'domain acme still holds 1 projects')
    assert fed.read() == before


@pytest.mark.parametrize(
    'kind, name, option',
    [
        ('users', 'admin', 'protected_users'),
        ('projects', 'service', 'protected_projects'),
        ('domains', 'Default', 'protected_domains'),
        ('domains', 'default', 'protected_domains'),
    ],
)
def test_protected_names_are_refused(client, fed, kind, name, option):
    before = fed.read()
    answer = client.post('/v1/identity/' + kind, {kind[:-1]: {'name': name}})
    assert_error(answer, 409, 'conflict', '[identity]%s' % option)
    assert fed.read() == before


def test_renaming_to_a_protected_name_is_refused(client, fed):
    create(client, 'users', name='alice')
    answer = client.patch(
        '/v1/identity/users/alice', {'user': {'name': 'nova'}}
    )
    assert_error(answer, 409, 'conflict', '[identity]protected_users')


def test_unknown_objects_are_404(client, fed):
    create(client, 'projects', name='demo')
    before = fed.read()
    for method, path, body, words in (
        ('GET', '/v1/identity/projects/nope', None, ["no project 'nope'"]),
        ('GET', '/v1/identity/projects/demo?domain=acme', None,
         ["no domain 'acme'"]),
        ('PATCH', '/v1/identity/projects/nope', {'project': {'name': 'x'}},
         ["no project 'nope'"]),
        ('DELETE', '/v1/identity/users/nope', None, ["no user 'nope'"]),
        ('DELETE', '/v1/identity/domains/default', None,
         ['default domain']),
        ('POST', '/v1/identity/projects',
         {'project': {'name': 'x', 'domain': 'acme'}},
         ["body.project.domain: no domain 'acme'"]),
        ('GET', '/v1/identity/users?domain=acme', None,
         ["domain: no domain 'acme'"]),
    ):  # fmt: skip
        answer = client(method, path, body=body)
        assert_error(answer, 404, 'not_found', *words)
    assert fed.read() == before


def test_the_kb_reason_comes_back_through_a_refusing_knowmon(
    make_app, api, fed, secret
):
    from tests.unit.api.test_api import Refusing

    result = {'ok': False, 'error': 'a reason of the KB'}
    client = Client(make_app('noauth', knowmon=Refusing(api, result)))
    answer = client.post('/v1/identity/groups', {'group': {'name': 'g'}})
    assert_error(answer, 409, 'conflict', 'a reason of the KB')


# -- memberships -----------------------------------------------------------


def test_memberships(client, fed):
    create(client, 'domains', name='acme')
    group = create(client, 'groups', name='ops', domain='acme')
    user = create(client, 'users', name='alice', domain='acme')
    other = create(client, 'users', name='bob')
    path = '/v1/identity/groups/ops/users/%s?domain=acme'
    assert client('PUT', path % 'alice')[0] == 204
    assert client('PUT', path % 'alice')[0] == 204  # again: no change
    # A user of another domain.
    assert client('PUT', path % 'bob' + '&user_domain=default')[0] == 204
    members = ident(fed)['memberships'].values()
    assert {(m['group_id'], m['user_id']) for m in members} == {
        (group['id'], user['id']),
        (group['id'], other['id']),
    }
    listed = client.get('/v1/identity/groups/ops/users?domain=acme')[1]
    assert [u['name'] for u in listed['users']] == ['alice', 'bob']
    shown = client.get('/v1/identity/users/alice?domain=acme')[1]['user']
    assert [g['name'] for g in shown['groups']] == ['ops']
    assert client('DELETE', path % 'alice')[0] == 204
    before = fed.read()
    answer = client('DELETE', path % 'alice')
    assert_error(answer, 404, 'not_found', 'user alice is not in group ops')
    answer = client('PUT', path % 'carol')
    assert_error(answer, 404, 'not_found', "no user 'carol' in domain acme")
    assert fed.read() == before
    # Deleting the user takes it out of its groups.
    assert client.delete('/v1/identity/users/bob')[0] == 204
    assert ident(fed)['memberships'] == {}


# -- role assignments ------------------------------------------------------


def grant(**fields):
    return {'role_assignment': fields}


def test_role_assignments(client, fed):
    create(client, 'domains', name='acme')
    project = create(client, 'projects', name='demo', domain='acme')
    user = create(client, 'users', name='alice')
    group = create(client, 'groups', name='ops')
    fields = dict(role='member', user='alice', project='demo')
    fields['project_domain'] = 'acme'
    status, body, _ = client.post(ROLE, grant(**fields))
    assert status == 201, body
    row = body['role_assignment']
    assert row['actor_id'] == user['id']
    assert (row['target_type'], row['target_id']) == ('project', project['id'])
    assert (row['actor_name'], row['target_name']) == ('alice', 'demo')
    assert client.post(ROLE, grant(**fields))[0] == 200  # there already
    status, _, _ = client.post(
        ROLE, grant(role='reader', group='ops', domain='default')
    )
    assert status == 201
    stored = ident(fed)['assignments'].values()
    assert {
        (a['role'], a['actor_id'], a['target_type'], a['target_id'])
        for a in stored
    } == {
        ('member', user['id'], 'project', project['id']),
        ('reader', group['id'], 'domain', 'default'),
    }
    rows = client.get(ROLE)[1]['role_assignments']
    assert len(rows) == 2
    assert rows[0]['target_name'] == 'Default'
    for query, roles in (
        ('?user=alice', ['member']),
        ('?group=ops', ['reader']),
        ('?role=reader', ['reader']),
        ('?project=demo&project_domain=acme', ['member']),
        ('?domain=default', ['reader']),
        ('?user=' + user['id'] + '&role=reader', []),
    ):
        rows = client.get(ROLE + query)[1]['role_assignments']
        assert [r['role'] for r in rows] == roles, query
    query = urllib.parse.urlencode(fields)
    assert client.delete(ROLE + '?' + query)[0] == 204
    assert len(ident(fed)['assignments']) == 1
    answer = client.delete(ROLE + '?' + query)
    assert_error(answer, 404, 'not_found', 'no such role assignment')
    # Deleting the group takes its assignments with it.
    assert client.delete('/v1/identity/groups/ops')[0] == 204
    assert ident(fed)['assignments'] == {}


@pytest.mark.parametrize(
    'fields, words',
    [
        ({'user': 'alice', 'project': 'demo'},
         ['body.role_assignment', 'role']),
        ({'role': 'member', 'project': 'demo'}, ['one of user and group']),
        ({'role': 'member', 'user': 'alice', 'group': 'ops',
          'project': 'demo'}, ['one of user and group']),
        ({'role': 'member', 'user': 'alice'}, ['one of project and domain']),
        ({'role': 'member', 'user': 'alice', 'project': 'demo',
          'group_domain': 'x'}, ['group_domain is given without group']),
        ({'role': 'bad role', 'user': 'alice', 'project': 'demo'},
         ['body.role_assignment.role']),
        ({'role': 'member', 'user': 'alice', 'project': 'demo', 'x': 1},
         ['body.role_assignment', 'x']),
    ],
)  # fmt: skip
def test_bad_assignments_are_400(client, fed, fields, words):
    create(client, 'projects', name='demo')
    create(client, 'users', name='alice')
    before = fed.read()
    answer = client.post(ROLE, grant(**fields))
    assert_error(answer, 400, 'invalid_body', *words)
    assert fed.read() == before


def test_assignment_refs_that_name_nothing_are_404(client, fed):
    create(client, 'projects', name='demo')
    before = fed.read()
    answer = client.post(
        ROLE, grant(role='member', user='nobody', project='demo')
    )
    assert_error(
        answer, 404, 'not_found', "body.role_assignment.user: no user 'nobody'"
    )
    answer = client.get(ROLE + '?user=nobody')
    assert_error(answer, 404, 'not_found', "user: no user 'nobody'")
    assert fed.read() == before


def test_assignment_delete_takes_the_query_only(client, fed):
    create(client, 'projects', name='demo')
    create(client, 'users', name='alice')
    fields = dict(role='member', user='alice', project='demo')
    assert client.post(ROLE, grant(**fields))[0] == 201
    before = fed.read()
    answer = client('DELETE', ROLE, body=grant(**fields))
    assert_error(answer, 400, 'invalid_body', 'in the query')
    answer = client.delete(ROLE + '?user=alice&project=demo')
    assert_error(answer, 400, 'invalid_query', 'role: required')
    answer = client.delete(ROLE + '?role=member&user=alice')
    assert_error(answer, 400, 'invalid_query', 'one of project and domain')
    assert fed.read() == before


def test_deleting_a_user_takes_its_role_assignments(client, fed):
    create(client, 'projects', name='p1')
    create(client, 'users', name='alice')
    fields = dict(role='member', user='alice', project='p1')
    assert client.post(ROLE, grant(**fields))[0] == 201
    assert client.delete('/v1/identity/users/alice')[0] == 204
    assert ident(fed)['assignments'] == {}
    assert ident(fed)['users'] == {}


# -- status ----------------------------------------------------------------


def test_status_counts_what_each_site_reports(client, fed):
    project = create(client, 'projects', name='demo')
    user = create(client, 'users', name='alice')
    create(client, 'groups', name='ops')
    client.post(ROLE, grant(role='member', user='alice', project='demo'))
    gone = 'f' * 32
    # Site s2 reports its ids of two of the three, and one of an object
    # the KB no longer has.
    entries = [
        {'kind': 'projects', 'id': project['id'], 'local_id': 'p2'},
        {'kind': 'users', 'id': user['id'], 'local_id': 'u2'},
        {'kind': 'users', 'id': gone, 'local_id': 'old'},
    ]
    fed.submit(
        commands.make('identity.map', {'site': 's2', 'set': entries}, 's2')
    )
    fed.propose(
        'alert.raise',
        {
            'alert_id': 'a' * 32,
            'site': 's2',
            'kind': 'identity_drift',
            'severity': 'warning',
            'message': 'identity drift at site s2, repaired: ...',
        },
    )
    status, body, _ = client.get('/v1/identity')
    assert status == 200, body
    found = body['identity']
    assert found['revision'] == ident(fed)['revision']
    assert found['counts'] == {
        'domains': 0,
        'projects': 1,
        'users': 1,
        'groups': 1,
        'memberships': 0,
        'assignments': 1,
    }
    sites = {row['site']: row for row in found['sites']}
    assert sites['s2'] == {
        'site': 's2',
        'status': 'up',
        'mapped': 2,
        'missing': 1,
        'stale': 1,
        'drift_alerts': 1,
    }
    assert (sites['here']['mapped'], sites['here']['missing']) == (0, 3)
    shown = client.get('/v1/identity/projects/demo')[1]['project']
    assert shown['site_ids'] == {'s2': 'p2'}


# -- policy ----------------------------------------------------------------


@pytest.fixture
def keystone_app(make_app, fed, tokens, secret):
    return make_app('keystone')


WRITES = [
    ('POST', '/v1/identity/projects', {'project': {'name': 'x'}}),
    ('PATCH', '/v1/identity/projects/demo', {'project': {'name': 'x'}}),
    ('DELETE', '/v1/identity/projects/demo', None),
    ('POST', '/v1/identity/domains', {'domain': {'name': 'x'}}),
    ('POST', '/v1/identity/users', {'user': {'name': 'x'}}),
    ('POST', '/v1/identity/groups', {'group': {'name': 'x'}}),
    ('PUT', '/v1/identity/groups/ops/users/alice', None),
    ('DELETE', '/v1/identity/groups/ops/users/alice', None),
    ('POST', ROLE, grant(role='member', user='alice', project='demo')),
    ('DELETE', ROLE + '?role=member&user=alice&project=demo', None),
]


@pytest.mark.parametrize('role', ['reader', 'member'])
def test_readers_read_but_cannot_write(keystone_app, tokens, fed, role):
    admin = Client(keystone_app, token=tokens['admin'])
    for kind, name in (('projects', 'demo'), ('users', 'alice')):
        assert (
            admin.post('/v1/identity/' + kind, {kind[:-1]: {'name': name}})[0]
            == 201
        )
    assert (
        admin.post('/v1/identity/groups', {'group': {'name': 'ops'}})[0] == 201
    )
    reader = Client(keystone_app, token=tokens[role])
    for path in (
        '/v1/identity',
        '/v1/identity/projects',
        '/v1/identity/projects/demo',
        '/v1/identity/groups/ops/users',
        ROLE,
    ):
        assert reader.get(path)[0] == 200, path
    before = fed.read()
    for method, path, body in WRITES:
        answer = reader(method, path, body=body)
        assert_error(answer, 403, 'forbidden', 'sodos:identity:')
    assert fed.read() == before
    for method, path, body in WRITES[-4:-1]:
        assert admin(method, path, body=body)[0] in (201, 204), path


def test_without_a_token_nothing_is_read(keystone_app):
    answer = Client(keystone_app).get('/v1/identity/users')
    assert_error(answer, 401, 'unauthorized')


def test_the_identity_policy_rules_are_those_of_the_contract():
    from oslo_config import cfg

    from sodos.api import policies
    from sodos.api import policy

    names = {
        rule.name
        for rule in policies.list_rules()
        if rule.name.startswith('sodos:identity:')
    }
    expected = {'sodos:identity:get'}
    for kind in ('domain', 'project', 'user', 'group'):
        for action in ('list', 'get', 'create', 'update', 'delete'):
            expected.add('sodos:identity:%s:%s' % (kind, action))
    for action in ('list_users', 'add_user', 'remove_user'):
        expected.add('sodos:identity:group:' + action)
    for action in ('list', 'create', 'delete'):
        expected.add('sodos:identity:role_assignment:' + action)
    for action in ('list', 'get', 'create'):
        expected.add('sodos:identity:adoption:' + action)
    assert names == expected
    conf = cfg.ConfigOpts()
    conf([], project='sodos', default_config_files=[])
    enforcer = policy.make_enforcer(conf)
    enforcer.load_rules()
    for name in expected:
        readable = name.endswith((':get', ':list', ':list_users'))
        assert str(enforcer.rules[name]) == (
            '(role:reader or role:member or role:admin)'
            if readable
            else 'role:admin'
        ), name
