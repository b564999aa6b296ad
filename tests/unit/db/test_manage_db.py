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

"""sodos-manage db sync / db version."""

import subprocess
import sys

import pytest

from sodos.cmd import manage


def write_config(tmp_path, connection=None):
    path = tmp_path / 'sodos.conf'
    text = '[DEFAULT]\nstate_path = %s\n' % tmp_path
    if connection is not None:
        text += '[database]\nconnection = %s\n' % connection
    path.write_text(text)
    return str(path)


def run(config, *args):
    return manage.main(['--config-file', config, 'db', *args])


def test_sync_then_version(tmp_path, capsys):
    config = write_config(tmp_path)
    assert run(config, 'version') == 0
    assert capsys.readouterr().out == 'None (run "sodos-manage db sync")\n'
    assert run(config, 'sync') == 0
    assert capsys.readouterr().out == (
        'The history database is at revision 0002.\n'
    )
    assert (tmp_path / 'sodos.sqlite').exists()
    assert run(config, 'version') == 0
    assert capsys.readouterr().out == '0002\n'
    assert run(config, 'sync', '--revision', '0002') == 0


@pytest.mark.parametrize(
    'connection, message',
    [
        (
            'sqlite:///{tmp}/no/such/dir/h.sqlite',
            'database sqlite:///{tmp}/no/such/dir/h.sqlite: unable to open '
            'database file',
        ),
        (
            'this is no URL',
            '[database]connection: <not a database URL>: Could not parse',
        ),
        (
            'nosuchdb+driver://h/db',
            "[database]connection: nosuchdb+driver://h/db: Can't load plugin",
        ),
        (
            # A closed port: refused at once, and sodos-manage does not
            # retry unless [database]max_retries says so.
            'mysql+pymysql://sodos:pw@127.0.0.1:9/sodos',
            'database mysql+pymysql://sodos:***@127.0.0.1:9/sodos: (2003, '
            '"Can\'t connect to MySQL server',
        ),
    ],
)
def test_an_unusable_database_is_one_line_and_status_2(
    tmp_path, capsys, connection, message
):
    pytest.importorskip('pymysql')
    config = write_config(tmp_path, connection.format(tmp=tmp_path))
    for action in ('sync', 'version'):
        assert run(config, action) == 2
        err = capsys.readouterr().err
        assert err.startswith(
            'sodos-manage: error: ' + message.format(tmp=tmp_path)
        ), err
        assert err.count('\n') == 1
        assert 'Traceback' not in err and ':pw@' not in err


def test_an_unknown_revision_is_status_2(tmp_path, capsys):
    config = write_config(tmp_path)
    assert run(config, 'sync', '--revision', 'nope') == 2
    assert capsys.readouterr().err == (
        "sodos-manage: error: revision nope: Can't locate revision "
        "identified by 'nope'\n"
    )


def test_the_command_line_as_an_operator_runs_it(tmp_path):
    config = write_config(tmp_path, 'mysql+pymysql://root@127.0.0.1:9/x')
    done = subprocess.run(
        [sys.executable, '-m', 'sodos.cmd.manage', '--config-file', config]
        + ['db', 'sync'],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ''
    assert done.stderr.startswith('sodos-manage: error: database ')
    assert done.stderr.count('\n') == 1, done.stderr
