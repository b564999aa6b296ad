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

"""A site process under systemd: what it says on $NOTIFY_SOCKET, and the
unit files that run the daemons."""

import configparser
import os
import shutil
import signal
import socket
import subprocess
import sys

import pytest

UNITS_DIR = os.path.join(
    os.path.dirname(__file__), '..', '..', 'etc', 'systemd'
)
UNITS = {
    'sodos-site.service': 'sodos-site',
    'sodos-knowmon.service': 'sodos-knowmon',
    'sodos-exec.service': 'sodos-exec',
    'sodos-analyseplan.service': 'sodos-analyseplan',
}


def recv(sock):
    return sock.recv(4096).decode().split('\n')


def test_ready_reloading_and_stopping(local_federation, tmp_path):
    fed = local_federation(voter_count=1, roles=('knowmon',))
    site = fed.add_site(start=False)
    path = str(tmp_path / 'notify')
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(path)
        sock.settimeout(30)
        site.start(env={'NOTIFY_SOCKET': path})
        assert recv(sock) == ['READY=1']
        fed.wait(lambda r: r['leader'], 30, 'a leader')

        site.signal(signal.SIGHUP)
        reloading = recv(sock)
        assert reloading[0] == 'RELOADING=1'
        assert reloading[1].startswith('MONOTONIC_USEC=')
        assert recv(sock) == ['READY=1']

        site.signal(signal.SIGTERM)
        assert recv(sock) == ['STOPPING=1']
        assert site.process is not None
        assert site.process.wait(30) == 0
    assert 'Traceback' not in site.log()


def read_unit(name):
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive
    with open(os.path.join(UNITS_DIR, name), encoding='utf-8') as f:
        parser.read_file(f)
    return parser


@pytest.mark.parametrize('name', sorted(UNITS))
def test_the_unit_files(name):
    unit = read_unit(name)
    service = unit['Service']
    assert service['Type'] == 'notify'
    assert service['NotifyAccess'] == 'main'
    assert service['Restart'] == 'on-failure'
    assert service['ExecReload'] == '/bin/kill -HUP $MAINPID'
    assert service['User'] == 'sodos'
    assert int(service['TimeoutStopSec']) > 0
    command = service['ExecStart'].split()
    assert os.path.basename(command[0]) == UNITS[name]
    assert command[1:] == ['--config-file', '/etc/sodos/sodos.conf']
    assert 'network-online.target' in unit['Unit']['After'].split()
    assert 'network-online.target' in unit['Unit']['Wants'].split()
    assert unit['Install']['WantedBy'] == 'multi-user.target'


def test_the_single_process_unit_excludes_the_three_daemons():
    conflicts = read_unit('sodos-site.service')['Unit']['Conflicts'].split()
    assert sorted(conflicts) == sorted(set(UNITS) - {'sodos-site.service'})


@pytest.mark.skipif(
    not shutil.which('systemd-analyze'), reason='systemd-analyze not found'
)
def test_systemd_analyze_verify(tmp_path):
    # verify checks that ExecStart exists: point it at this venv's
    # console scripts (or the interpreter, if they are not installed).
    bin_dir = os.path.dirname(sys.executable)
    paths = []
    for name, program in UNITS.items():
        with open(os.path.join(UNITS_DIR, name), encoding='utf-8') as f:
            text = f.read()
        target = os.path.join(bin_dir, program)
        if not os.path.exists(target):
            target = sys.executable
        text = text.replace('/usr/bin/' + program, target)
        path = tmp_path / name
        path.write_text(text)
        paths.append(str(path))
    done = subprocess.run(
        ['systemd-analyze', 'verify', '--man=no', *paths],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # Units it cannot load here (no systemd as PID 1, no sodos user) are
    # not about these files; anything naming one of them is.
    problems = [
        line
        for line in done.stderr.splitlines()
        if any(name in line for name in UNITS)
    ]
    assert problems == [], done.stderr
