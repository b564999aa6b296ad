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

"""The console scripts: a user mistake is one line and exit status 2."""

import os
import pathlib
import socket
import subprocess
import sys

import pytest

from sodos.sim import certs

ROOT = str(pathlib.Path(__file__).resolve().parents[2])


def run(module, *args, timeout=60):
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (ROOT, env.get('PYTHONPATH')) if p
    )
    env.pop('NOTIFY_SOCKET', None)
    return subprocess.run(
        [sys.executable, '-m', module, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def config_file(tmp_path):
    def make(**groups):
        sections = {
            'DEFAULT': {'site_name': 'here', 'state_path': str(tmp_path)},
            'knowmon': {'state_backend': 'memory', 'serve_rpc': 'false'},
        }
        for group, options in groups.items():
            sections.setdefault(group, {}).update(options)
        path = tmp_path / 'sodos.conf'
        path.write_text(
            ''.join(
                '[%s]\n%s\n'
                % (g, ''.join('%s = %s\n' % kv for kv in o.items()))
                for g, o in sections.items()
            )
        )
        return str(path)

    return make


@pytest.mark.parametrize(
    'module, args, groups, message',
    [
        (
            'sodos.cmd.site',
            ['--roles', 'knowmon,bogus'],
            {},
            'sodos-site: error: [DEFAULT]roles (or --roles): unknown role '
            "'bogus' (known: analyseplan, api, exec, knowmon)",
        ),
        (
            'sodos.cmd.knowmon',
            [],
            {'knowmon': {'loop_interval': 'often'}},
            'sodos-knowmon: error: [knowmon]loop_interval: invalid value: '
            "could not convert string to float: 'often'",
        ),
        (
            'sodos.cmd.knowmon',
            [],
            {'knowmon': {'state_backend': 'etcd'}},
            'sodos-knowmon: error: [knowmon]state_backend: unknown state '
            "backend 'etcd' (known: memory, raft)",
        ),
        (
            'sodos.cmd.knowmon',
            [],
            {'knowmon': {'state_backend': 'raft'}},
            "sodos-knowmon: error: cannot load state backend 'raft': "
            '[raft]address is not set: give the HOST:PORT other members '
            'reach this one at',
        ),
    ],
)
def test_a_user_mistake_is_one_line_and_status_2(
    config_file, module, args, groups, message
):
    done = run(module, '--config-file', config_file(**groups), *args)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [message]


def test_status_upgrade_check_names_what_is_wrong(config_file):
    path = config_file(knowmon={'loop_interval': 'often'})
    done = run('sodos.cmd.status', '--config-file', path, 'upgrade', 'check')
    assert done.returncode == 2  # a failure
    assert '[knowmon]loop_interval: invalid value' in done.stdout
    assert '[raft]address is not set' in done.stdout
    assert 'Traceback' not in done.stdout + done.stderr


def test_status_upgrade_check_passes_a_good_config(
    config_file, tmp_path, site_tls
):
    path = config_file(
        raft={'address': '127.0.0.1:9871', 'password': 'secret', **site_tls}
    )
    db_sync(path)
    done = run('sodos.cmd.status', '--config-file', path, 'upgrade', 'check')
    assert done.returncode == 0, done.stdout
    assert 'Failure' not in done.stdout
    assert 'insecure_dev_mode' not in done.stdout


def db_sync(path):
    synced = run('sodos.cmd.manage', '--config-file', path, 'db', 'sync')
    assert synced.returncode == 0, synced.stdout + synced.stderr


def test_status_upgrade_check_names_a_history_database_never_synced(
    config_file, site_tls
):
    path = config_file(
        raft={'address': '127.0.0.1:9871', 'password': 'secret', **site_tls}
    )
    done = run('sodos.cmd.status', '--config-file', path, 'upgrade', 'check')
    assert done.returncode == 2, done.stdout
    text = table_text(done.stdout)
    assert 'history database schema not current' in text
    assert 'schema never migrated' in text
    assert 'run "sodos-manage db sync"' in text
    db_sync(path)
    again = run('sodos.cmd.status', '--config-file', path, 'upgrade', 'check')
    assert again.returncode == 0, again.stdout


def table_text(stdout):
    """The words of oslo.upgradecheck's table, its wrapped lines joined."""
    cells = (line.strip('|+- ') for line in stdout.splitlines())
    return ' '.join(cell for cell in cells if cell)


def test_status_upgrade_check_reports_the_dev_mode(config_file):
    path = config_file(
        raft={'address': '127.0.0.1:9871', 'insecure_dev_mode': 'true'}
    )
    db_sync(path)
    done = run('sodos.cmd.status', '--config-file', path, 'upgrade', 'check')
    assert done.returncode == 1, done.stdout  # a warning
    text = table_text(done.stdout)
    assert '[raft]insecure_dev_mode is on (development only)' in text
    assert 'unauthenticated pickles' in text
    assert 'talk plaintext' in text


def test_status_upgrade_check_reports_the_dev_mode_even_with_tls(
    config_file, site_tls
):
    path = config_file(
        raft={
            'address': '127.0.0.1:9871',
            'password': 'secret',
            'insecure_dev_mode': 'true',
            **site_tls,
        }
    )
    db_sync(path)
    done = run('sodos.cmd.status', '--config-file', path, 'upgrade', 'check')
    assert done.returncode == 1, done.stdout
    assert '[raft]insecure_dev_mode is on' in table_text(done.stdout)


def test_status_upgrade_check_names_a_certificate_of_another_ca(
    config_file, site_tls, tmp_path
):
    stranger = certs.LocalCA(str(tmp_path / 'other')).issue('x')
    path = config_file(
        raft={
            'address': '127.0.0.1:9871',
            'password': 'secret',
            **dict(site_tls, ssl_cert_file=stranger['ssl_cert_file']),
            'ssl_key_file': stranger['ssl_key_file'],
        }
    )
    done = run('sodos.cmd.status', '--config-file', path, 'upgrade', 'check')
    assert done.returncode == 2, done.stdout
    text = table_text(done.stdout)
    assert '[raft]ssl_cert_file: the certificate in' in text
    assert 'is not signed by the CA in [raft]ssl_ca_file' in text
    assert 'Traceback' not in done.stdout + done.stderr


def test_a_metrics_port_in_use_is_one_line_and_status_2(config_file):
    with socket.socket() as taken:
        taken.bind(('127.0.0.1', 0))
        taken.listen()
        port = taken.getsockname()[1]
        path = config_file(metrics={'enabled': 'true', 'bind_port': port})
        done = run('sodos.cmd.knowmon', '--config-file', path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        'sodos-knowmon: error: [metrics]bind_host/bind_port: cannot listen '
        'on 127.0.0.1:%d: Address already in use' % port
    ]
