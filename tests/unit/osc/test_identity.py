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

"""``openstack sodos identity ...`` against what the API would answer."""

import io

import pytest

from tests.unit.osc import conftest as fakes

URL = fakes.URL + '/identity'
GID = 'a' * 32
DOMAIN = 'd' * 32
PASSWORD = 'Never-On-The-Command-Line'


def user(**extra):
    record = {
        'id': GID,
        'name': 'alice',
        'domain_id': 'default',
        'description': None,
        'email': 'alice@example.org',
        'enabled': True,
        'password_version': 1,
        'site_ids': {'paris': 'u-1', 'lyon': 'u-2'},
        'groups': [{'id': 'g' * 32, 'name': 'ops', 'domain_id': 'default'}],
        'created_at': 1764085000.0,
        'updated_at': 1764085000.0,
    }
    record.update(extra)
    return record


def project(**extra):
    record = {
        'id': GID,
        'name': 'demo',
        'domain_id': DOMAIN,
        'description': 'the demo',
        'enabled': True,
        'site_ids': {},
        'created_at': 1764085000.0,
        'updated_at': 1764085000.0,
    }
    record.update(extra)
    return record


@pytest.fixture
def stdin(monkeypatch):
    """What the command's standard input will hold."""
    text = io.StringIO()

    def fill(value, tty=False):
        text.write(value)
        text.seek(0)
        text.isatty = lambda: tty

    original = fakes._App.__init__

    def init(self, api, stdout, stderr):
        original(self, api, stdout, stderr)
        self.stdin = text

    monkeypatch.setattr(fakes._App, '__init__', init)
    return fill


# -- objects ---------------------------------------------------------------


def test_project_create(run, api):
    api.post(URL + '/projects', status_code=201, json={'project': project()})
    result = run(
        'sodos', 'identity', 'project', 'create', 'demo',
        '--domain', 'acme', '--description', 'the demo', '--disable',
        '-f', 'json',
    )  # fmt: skip
    assert result.rc == 0, result.stderr
    assert api.last_request.json() == {
        'project': {
            'name': 'demo',
            'domain': 'acme',
            'description': 'the demo',
            'enabled': False,
        }
    }
    assert result.json()['id'] == GID


def test_domain_create_sends_only_what_is_given(run, api):
    domain = {'id': DOMAIN, 'name': 'acme', 'enabled': True}
    api.post(URL + '/domains', status_code=201, json={'domain': domain})
    result = run('sodos', 'identity', 'domain', 'create', 'acme')
    assert result.rc == 0, result.stderr
    assert api.last_request.json() == {'domain': {'name': 'acme'}}
    assert 'acme' in result.stdout


def test_user_create_reads_the_password_from_stdin(run, api, stdin):
    stdin(PASSWORD + '\nignored\n')
    api.post(URL + '/users', status_code=201, json={'user': user()})
    result = run(
        'sodos', 'identity', 'user', 'create', 'alice',
        '--email', 'alice@example.org', '--password-stdin',
    )  # fmt: skip
    assert result.rc == 0, result.stderr
    assert api.last_request.json() == {
        'user': {
            'name': 'alice',
            'email': 'alice@example.org',
            'password': PASSWORD,
        }
    }
    assert PASSWORD not in result.stdout + result.stderr
    # The groups and sites, for people.
    assert 'ops (default)' in result.stdout
    assert 'lyon=u-2, paris=u-1' in result.stdout


def test_an_empty_password_line_sends_nothing(run, api, stdin):
    stdin('\n')
    result = run(
        'sodos', 'identity', 'user', 'create', 'alice', '--password-stdin'
    )
    assert result.rc == 1
    assert 'first line of standard input is empty' in result.stderr
    assert not api.called


def test_user_set_asks_for_the_password_twice(run, api, stdin, monkeypatch):
    stdin('', tty=True)
    asked = []

    def getpass(prompt):
        asked.append(prompt)
        return PASSWORD

    monkeypatch.setattr('getpass.getpass', getpass)
    api.patch(URL + '/users/alice', json={'user': user(password_version=2)})
    result = run(
        'sodos', 'identity', 'user', 'set', 'alice', '--password-prompt'
    )
    assert result.rc == 0, result.stderr
    assert asked == ['Password: ', 'Repeat Password: ']
    assert api.last_request.json() == {'user': {'password': PASSWORD}}
    assert result.stdout == ''


def test_a_prompt_needs_a_terminal(run, api, stdin):
    stdin('', tty=False)
    result = run(
        'sodos', 'identity', 'user', 'create', 'alice', '--password-prompt'
    )
    assert result.rc == 1
    assert 'No terminal detected' in result.stderr
    assert not api.called


def test_there_is_no_password_option(run, api):
    result = run(
        'sodos', 'identity', 'user', 'create', 'alice', '--password', 'x'
    )
    assert result.rc != 0
    assert not api.called


def test_project_set(run, api):
    api.patch(URL + '/projects/demo', json={'project': project()})
    result = run(
        'sodos', 'identity', 'project', 'set', 'demo', '--domain', 'acme',
        '--name', 'demo2', '--enable',
    )  # fmt: skip
    assert result.rc == 0, result.stderr
    assert api.last_request.qs == {'domain': ['acme']}
    assert api.last_request.json() == {
        'project': {'name': 'demo2', 'enabled': True}
    }


def test_set_without_a_change_sends_nothing(run, api):
    result = run('sodos', 'identity', 'group', 'set', 'ops')
    assert result.rc == 1
    assert 'nothing to set: give --name, --description' in result.stderr
    assert '--enable' not in result.stderr  # groups have no enabled
    assert not api.called


def test_user_list(run, api):
    api.get(URL + '/users', json={'users': [user(), user(id='b' * 32)]})
    result = run(
        'sodos', 'identity', 'user', 'list', '--domain', 'acme', '-f', 'json'
    )
    assert result.rc == 0, result.stderr
    assert api.last_request.qs == {'domain': ['acme']}
    rows = result.json()
    assert [r['ID'] for r in rows] == [GID, 'b' * 32]
    assert rows[0]['Password Version'] == 1
    assert 'Site Ids' not in rows[0]


def test_project_show_names_the_domain(run, api):
    api.get(URL + '/projects/demo', json={'project': project()})
    result = run(
        'sodos', 'identity', 'project', 'show', 'demo', '--domain', 'acme',
        '-f', 'json',
    )  # fmt: skip
    assert result.rc == 0, result.stderr
    assert api.last_request.qs == {'domain': ['acme']}
    assert result.json()['domain_id'] == DOMAIN


def test_show_unknown(run, api):
    api.get(
        URL + '/groups/nope',
        **fakes.error(404, 'not_found', "no group 'nope' in domain default"),
    )
    result = run('sodos', 'identity', 'group', 'show', 'nope')
    assert result.rc == 1
    assert (
        "no group 'nope' in domain default (HTTP 404 not_found"
        in result.stderr
    )


def test_delete_goes_on_past_failures(run, api):
    api.get(URL + '/projects/demo', json={'project': project()})
    api.delete(URL + '/projects/' + GID, status_code=204)
    api.get(
        URL + '/projects/nope',
        **fakes.error(404, 'not_found', "no project 'nope'"),
    )
    result = run('sodos', 'identity', 'project', 'delete', 'nope', 'demo')
    assert result.rc == 1
    assert "nope: no project 'nope'" in result.stderr
    assert '1 of 2 project(s) not deleted: nope' in result.stderr
    deleted = [r for r in api.request_history if r.method == 'DELETE']
    assert [r.path for r in deleted] == ['/v1/identity/projects/' + GID]


def test_domain_delete_refused(run, api):
    domain = {'id': DOMAIN, 'name': 'acme', 'enabled': True}
    api.get(URL + '/domains/acme', json={'domain': domain})
    api.delete(
        URL + '/domains/' + DOMAIN,
        **fakes.error(409, 'conflict', 'domain acme still holds 1 projects'),
    )
    result = run('sodos', 'identity', 'domain', 'delete', 'acme')
    assert result.rc == 1
    assert 'still holds 1 projects (HTTP 409 conflict' in result.stderr


def test_status(run, api):
    api.get(
        URL,
        json={
            'identity': {
                'revision': 7,
                'counts': {'projects': 2},
                'sites': [
                    {'site': 'paris', 'mapped': 2, 'missing': 0},
                ],
            }
        },
    )
    result = run('sodos', 'identity', 'status')
    assert result.rc == 0, result.stderr
    assert 'site=paris, mapped=2, missing=0' in result.stdout
    assert (
        run('sodos', 'identity', 'status', '-f', 'json').json()['revision']
        == 7
    )


# -- links -----------------------------------------------------------------


def test_group_add_users(run, api):
    for name in ('alice', 'bob'):
        api.put(URL + '/groups/ops/users/' + name, status_code=204)
    result = run(
        'sodos', 'identity', 'group', 'add', 'user', 'ops', 'alice', 'bob',
        '--group-domain', 'acme', '--user-domain', 'default',
    )  # fmt: skip
    assert result.rc == 0, result.stderr
    assert result.stdout == ''
    puts = [r for r in api.request_history if r.method == 'PUT']
    assert [r.path for r in puts] == [
        '/v1/identity/groups/ops/users/alice',
        '/v1/identity/groups/ops/users/bob',
    ]
    assert puts[0].qs == {'domain': ['acme'], 'user_domain': ['default']}


def test_group_remove_user_not_in_it(run, api):
    api.delete(
        URL + '/groups/ops/users/alice',
        **fakes.error(404, 'not_found', 'user alice is not in group ops'),
    )
    result = run(
        'sodos', 'identity', 'group', 'remove', 'user', 'ops', 'alice'
    )
    assert result.rc == 1
    assert 'alice: user alice is not in group ops' in result.stderr
    assert '1 of 1 user(s) not changed' in result.stderr


ASSIGNMENT = {
    'role': 'member',
    'actor_type': 'user',
    'actor_id': GID,
    'actor_name': 'alice',
    'target_type': 'project',
    'target_id': 'p' * 32,
    'target_name': 'demo',
    'created_at': 1764085000.0,
}


def test_role_assignment_create(run, api):
    api.post(
        URL + '/role-assignments',
        status_code=201,
        json={'role_assignment': ASSIGNMENT},
    )
    result = run(
        'sodos', 'identity', 'role-assignment', 'create', '--role', 'member',
        '--user', 'alice', '--project', 'demo', '--project-domain', 'acme',
        '-f', 'json',
    )  # fmt: skip
    assert result.rc == 0, result.stderr
    assert api.last_request.json() == {
        'role_assignment': {
            'role': 'member',
            'user': 'alice',
            'project': 'demo',
            'project_domain': 'acme',
        }
    }
    assert result.json()['target_name'] == 'demo'


@pytest.mark.parametrize(
    'argv, message',
    [
        (['--user', 'a', '--project', 'p'], 'required: --role'),
        (['--role', 'r', '--project', 'p'], '--user --group is required'),
        (['--role', 'r', '--user', 'a'], '--project --domain is required'),
        (['--role', 'r', '--user', 'a', '--group', 'g', '--project', 'p'],
         '--group: not allowed with argument --user'),
        (['--role', 'r', '--user', 'a', '--project', 'p', '--domain', 'd'],
         '--domain: not allowed with argument --project'),
    ],
)  # fmt: skip
def test_role_assignment_needs_one_actor_and_one_target(
    run, api, argv, message
):
    result = run('sodos', 'identity', 'role-assignment', 'create', *argv)
    assert result.rc != 0
    assert message in result.stderr
    assert not api.called


def test_role_assignment_list_filters(run, api):
    api.get(URL + '/role-assignments', json={'role_assignments': [ASSIGNMENT]})
    result = run(
        'sodos', 'identity', 'role-assignment', 'list', '--user', 'alice',
        '-f', 'json',
    )  # fmt: skip
    assert result.rc == 0, result.stderr
    assert api.last_request.qs == {'user': ['alice']}
    (row,) = result.json()
    assert (row['Role'], row['Actor Name'], row['Target Name']) == (
        'member',
        'alice',
        'demo',
    )


def test_role_assignment_delete_names_it_in_the_query(run, api):
    api.delete(URL + '/role-assignments', status_code=204)
    result = run(
        'sodos', 'identity', 'role-assignment', 'delete', '--role', 'reader',
        '--group', 'ops', '--domain', 'default',
    )  # fmt: skip
    assert result.rc == 0, result.stderr
    assert api.last_request.qs == {
        'role': ['reader'],
        'group': ['ops'],
        'domain': ['default'],
    }
    assert not api.last_request.body
