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

"""sodos-manage identity, against the in-memory KB."""

import io
import json

import pytest

from sodos.cmd import manage
from sodos.identity import crypto
from sodos.knowmon import rpcapi
from tests.unit.identity.conftest import SECRET


class _Client:
    """The site's KnowMon as sodos-manage reaches it, in-process."""

    def __init__(self, api):
        self.api = api

    def __getattr__(self, name):
        return getattr(self.api, name)

    def close(self):
        pass


@pytest.fixture
def cli(api, tmp_path, monkeypatch, capsys):
    path = tmp_path / 'sodos.conf'
    path.write_text(
        '[DEFAULT]\nsite_name = here\nstate_path = %s\n'
        '[identity]\nsecret = %s\n' % (tmp_path, SECRET)
    )
    monkeypatch.setattr(
        rpcapi, 'KnowMonAPI', lambda conf, *a, **k: _Client(api)
    )

    def run(*args, stdin=''):
        monkeypatch.setattr('sys.stdin', io.StringIO(stdin))
        code = manage.main(['--config-file', str(path), 'identity', *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_create_list_show_delete(cli, api):
    assert cli('project', 'create', 'p1', '--description', 'd')[0] == 0
    code, out, _ = cli(
        'user', 'create', 'alice', '--password-stdin', stdin='pw-1\n'
    )
    assert code == 0 and 'user alice created' in out
    stored = api.read('identity')
    assert 'pw-1' not in json.dumps(stored)
    (user,) = stored['users'].values()
    assert crypto.PasswordBox(SECRET).decrypt(user['password']) == 'pw-1'
    code, out, _ = cli(
        'role-assignment',
        'create',
        '--role',
        'member',
        '--user',
        'alice',
        '--project',
        'p1',
    )
    assert code == 0 and 'created' in out
    code, out, _ = cli('role-assignment', 'list', '--format', 'json')
    assert json.loads(out) == [
        {'actor': 'user alice', 'role': 'member', 'target': 'project p1'}
    ]
    code, out, _ = cli('user', 'list')
    assert 'alice' in out and 'v1' in out
    code, out, _ = cli('user', 'show', 'alice')
    shown = json.loads(out)
    assert shown['name'] == 'alice' and 'password' not in shown
    code, out, _ = cli('user', 'delete', 'alice')
    assert 'deleted with 1 membership(s) and assignment(s)' in out
    assert api.read('identity')['assignments'] == {}


def test_create_again_changes_only_what_is_given(cli, api):
    cli('project', 'create', 'p1', '--description', 'first')
    code, out, _ = cli('project', 'create', 'p1', '--disable')
    assert 'updated' in out
    (project,) = api.read('identity')['projects'].values()
    assert project['enabled'] is False and project['description'] == 'first'


@pytest.mark.parametrize(
    'args, message',
    [
        (('project', 'create', 'a/b'), 'name must match pattern'),
        (('project', 'create', 'service'), 'is protected'),
        (('project', 'create', 'p', '--domain', 'nope'), "no domain 'nope'"),
        (('user', 'show', 'ghost'), "no user 'ghost' in domain default"),
        (
            (
                'role-assignment',
                'create',
                '--role',
                'member',
                '--user',
                'ghost',
                '--project',
                'p',
            ),
            'no ',
        ),
    ],
)
def test_bad_input_is_a_clear_error_and_changes_nothing(
    cli, api, args, message
):
    code, out, err = cli(*args)
    assert code == 2
    assert message in err and 'Traceback' not in err
    assert api.read('identity').get('projects', {}) == {}


def test_a_password_without_a_secret_is_refused(cli, api, tmp_path):
    path = tmp_path / 'sodos.conf'
    path.write_text(path.read_text().replace('secret = ', 'x = '))
    code, _, err = cli('user', 'create', 'bob', '--password-stdin', stdin='x')
    assert code == 2 and 'secret is not set' in err
    assert api.read('identity').get('users', {}) == {}
