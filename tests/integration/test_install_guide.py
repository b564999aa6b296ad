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

"""The install guide, run as written at the three test-bed sites.

The marked blocks of doc/source/install.rst (tests/install_guide.py) run
in document order at the sites they name, with the test bed's hosts,
ports, names and folders in place of the example's. ``systemctl enable
--now`` starts each unit's ExecStart (the guide's drop-in) and waits for
its READY=1 on a notify socket, as systemd does for ``Type=notify``.
Then the guide's own commands must show a named federation of three
sites and an appliance whose member is ACTIVE.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib

import pytest
import sqlalchemy
from keystoneclient.v3 import client as keystone_client
from sqlalchemy import pool

from sodos.sim import certs
from sodos.sim import ports
from tests import install_guide
from tests.integration import sodos_sites
from tests.integration.conftest import SITE_NAMES
from tests.minicloud import backends
from tests.minicloud import seed

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
UNITS = os.path.join(ROOT, 'etc', 'systemd')
# systemd's TimeoutStartSec of the units.
START_TIMEOUT = 120.0
COMMAND_TIMEOUT = 600.0


def _bin_dir(path):
    """/opt/sodos/bin of the guide: sodos's commands, and the venv's."""
    os.makedirs(path)
    with open(os.path.join(ROOT, 'pyproject.toml'), 'rb') as f:
        scripts = tomllib.load(f)['project']['scripts']
    for name, target in scripts.items():
        module, function = target.split(':')
        script = os.path.join(path, name)
        with open(script, 'w') as f:
            f.write(
                '#!%s\nimport sys\nfrom %s import %s\nsys.exit(%s())\n'
                % (sys.executable, module, function, function)
            )
        os.chmod(script, 0o755)
    venv = os.path.dirname(sys.executable)
    for name in ('uwsgi', 'openstack'):
        if os.path.exists(os.path.join(venv, name)):
            os.symlink(os.path.join(venv, name), os.path.join(path, name))
    return path


class Host:
    """A test-bed site's host: its commands, files and daemons."""

    def __init__(self, mc, site, work, env):
        self.mc = mc
        self.site = site
        self.work = work
        self.env = dict(
            env,
            OS_AUTH_URL=mc.auth_url,
            OS_USERNAME=mc.admin_username,
            OS_PASSWORD=mc.admin_password,
            OS_PROJECT_NAME=mc.admin_project_name,
            OS_USER_DOMAIN_NAME=mc.admin_user_domain_name,
            OS_PROJECT_DOMAIN_NAME=mc.admin_project_domain_name,
            OS_REGION_NAME=mc.region,
            OS_IDENTITY_API_VERSION='3',
        )
        self.daemons = {}
        self.transcript = []
        # command -> its standard output, as the guide ran it
        self.said = {}

    def sh(self, command, check=True):
        done = subprocess.run(
            ['bash', '-e', '-c', command],
            cwd=self.work,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
        )
        self.said[command] = done.stdout
        self.transcript.append(
            '$ %s\n%s%s' % (command, done.stdout, done.stderr)
        )
        if check and done.returncode:
            raise AssertionError(
                'at %s, %r exited %d:\n%s%s'
                % (self.mc.name, command, done.returncode, done.stdout,
                   done.stderr)
            )  # fmt: skip
        return done

    def start(self, unit, argv):
        """What systemctl start does for a Type=notify unit."""
        env = dict(self.env)
        for line in _unit_lines(unit):
            if line.startswith('Environment='):
                key, _, value = line.split('=', 1)[1].partition('=')
                env[key] = _paths(value, self.site)
        notify = tempfile.mkdtemp(prefix='sodos-notify-')
        address = os.path.join(notify, 'notify')
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(address)
        env['NOTIFY_SOCKET'] = address
        log = open(os.path.join(self.work, unit + '.log'), 'ab')
        proc = subprocess.Popen(
            argv, cwd=self.work, env=env, stdout=log, stderr=log,
            start_new_session=True,
        )  # fmt: skip
        self.daemons[unit] = proc
        deadline = time.monotonic() + START_TIMEOUT
        try:
            while time.monotonic() < deadline:
                sock.settimeout(1.0)
                try:
                    message = sock.recv(4096).decode()
                except TimeoutError:
                    message = ''
                if 'READY=1' in message.split('\n'):
                    return
                if proc.poll() is not None:
                    break
            raise AssertionError(
                'at %s, %s did not become ready (exit %s):\n%s'
                % (self.mc.name, unit, proc.poll(), self.log(unit))
            )
        finally:
            sock.close()
            shutil.rmtree(notify, ignore_errors=True)

    def log(self, unit, size=6000):
        with open(
            os.path.join(self.work, unit + '.log'), errors='replace'
        ) as f:
            return f.read()[-size:]

    def stop(self):
        for proc in self.daemons.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.daemons.values():
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _address():
    # The daemons start minutes after the pick: below the ports that
    # outgoing connections take (ephemeral) and that the simulated
    # federations of other test runs on this machine pick (10000 up).
    return ports.free_address(6000, 9700)


def _unit_lines(unit):
    path = os.path.join(UNITS, unit + '.service')
    with open(path) as f:
        return f.read().replace('\\\n', ' ').splitlines()


def _paths(text, site):
    return text.replace('/etc/sodos', site.etc_dir).replace(
        '/var/lib/sodos', site.state_dir
    )


def _root_sql(statements):
    base = os.environ.get(
        'SODOS_TEST_MARIADB_URL', backends.DEFAULT_DATABASE_URL
    )
    engine = sqlalchemy.create_engine(base, poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:
            for statement in statements:
                # The driver formats its SQL with %: a literal % doubles.
                conn.exec_driver_sql(statement.replace('%', '%%'))
    finally:
        engine.dispose()


def _sql_statements(text):
    return [s.strip() for s in text.split(';') if s.strip()]


def _run_block(block, host, hosts, units):
    first = hosts[0].site
    text = install_guide.substitute(block, host.site, first)
    if block.kind == 'run':
        for command in install_guide.commands(text):
            if command.startswith('systemctl enable --now '):
                for unit in command.split()[3:]:
                    host.start(unit, units[unit](host.site, first))
            else:
                host.sh(command)
    elif block.kind == 'sql':
        _root_sql(_sql_statements(text))
    elif block.kind == 'file':
        path = os.path.join(host.work, _paths(block.argument, host.site))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'a' if block.append else 'w') as f:
            f.write(('\n' if block.append else '') + text)


def _unit_commands(blocks):
    """unit name -> f(site, first) -> argv, from the guide's drop-ins."""
    found = {}
    for block in blocks:
        if block.kind != 'unit':
            continue

        def argv(site, first, block=block):
            text = install_guide.substitute(block, site, first)
            return install_guide.exec_start(
                install_guide.Block(**dict(vars(block), text=text))
            )

        found[block.argument] = argv
    # "The same for sodos-exec and sodos-analyseplan", says the guide.
    knowmon = found['sodos-knowmon']
    for role in ('exec', 'analyseplan'):
        found.setdefault(
            'sodos-' + role,
            lambda site, first, role=role: [
                a.replace('sodos-knowmon', 'sodos-' + role)
                for a in knowmon(site, first)
            ],
        )
    return found


def _forget_accounts(mc):
    """Take out of a site's Keystone what the guide made in it: the
    session's other tests share the site."""
    ks = keystone_client.Client(
        session=mc.session(), region_name=mc.region, interface='public'
    )
    for service in ks.services.list(name='sodos'):
        for endpoint in ks.endpoints.list(service=service):
            ks.endpoints.delete(endpoint)
        ks.services.delete(service)
    for user in ks.users.list(name='sodos'):
        ks.users.delete(user)
    for project in ks.projects.list(name='sodos'):
        ks.projects.delete(project)


def _forget_shared(names):
    """The vhost, users and databases the guide made on the servers the
    test bed's sites share (a failed run may have left them)."""
    _root_sql(
        ['DROP DATABASE IF EXISTS `%s`' % n for n in names]
        + ["DROP USER IF EXISTS '%s'@'%%'" % n for n in names]
    )
    for args in (['delete_vhost', 'sodos'], ['delete_user', 'sodos']):
        subprocess.run(
            [shutil.which('rabbitmqctl') or '/usr/sbin/rabbitmqctl', '-q']
            + args,
            capture_output=True,
            timeout=120,
        )  # fmt: skip


@pytest.fixture(scope='module')
def guide(minicloud_sites, tmp_path_factory):
    """The guide run at the three sites: their Hosts, first one first."""
    blocks = install_guide.read()
    root = str(tmp_path_factory.mktemp('install-guide'))
    bin_dir = _bin_dir(os.path.join(root, 'bin'))
    env = dict(os.environ)
    env = {k: v for k, v in env.items() if not k.startswith('OS_')}
    env.pop('SODOS_URL', None)
    env['PATH'] = bin_dir + os.pathsep + env.get('PATH', '')
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (ROOT, env.get('PYTHONPATH')) if p
    )
    ca = certs.LocalCA(os.path.join(root, 'ca'))
    hosts = []
    for name in SITE_NAMES:
        mc = minicloud_sites[name]
        work = os.path.join(root, name)
        site = install_guide.Site(
            name=name,
            region=mc.region,
            auth_url=mc.auth_url,
            nova_bus_url=mc.transport_url,
            broker=backends.vhost_url(mc.base_transport_url, '')
            .split('@')[-1]
            .rstrip('/'),
            database_host='127.0.0.1:3306',
            database_name=name.replace('-', '_') + '_history',
            raft_address=_address(),
            relay_port=int(_address().rsplit(':', 1)[1]),
            api_address=_address(),
            etc_dir=os.path.join(work, 'etc'),
            state_dir=os.path.join(work, 'state'),
            bin_dir=bin_dir,
            image=seed.IMAGE_NAME,
        )
        # The federation's PKI: what the guide leaves to the operator.
        tls = os.path.join(site.etc_dir, 'tls')
        os.makedirs(tls)
        issued = ca.issue(name)
        shutil.copy(ca.ca_file, os.path.join(tls, 'federation-ca.pem'))
        shutil.copy(issued['ssl_cert_file'], os.path.join(tls, name + '.pem'))
        shutil.copy(
            issued['ssl_key_file'], os.path.join(tls, name + '-key.pem')
        )
        hosts.append(Host(mc, site, work, env))
    names = [h.site.database_name for h in hosts]
    _forget_shared(names)
    units = _unit_commands(blocks)
    try:
        for block in blocks:
            if block.kind in ('skip', 'unit'):
                continue
            for index, host in enumerate(hosts):
                if block.runs_at(index):
                    _run_block(block, host, hosts, units)
        yield hosts
    finally:
        first = hosts[0]
        first.sh(
            'openstack sodos appliance delete hello --wait --timeout 120',
            check=False,
        )
        for host in hosts:
            host.stop()
            print(
                '---- %s ----\n%s' % (host.mc.name, '\n'.join(host.transcript))
            )
            for unit in host.daemons:
                print(
                    '---- %s %s ----\n%s'
                    % (host.mc.name, unit, host.log(unit))
                )
        for host in hosts:
            _forget_accounts(host.mc)
        _forget_shared(names)


def _json(host, command):
    return json.loads(host.sh(command + ' -f json').stdout)


def _said(host, words):
    (output,) = [out for cmd, out in host.said.items() if cmd.endswith(words)]
    return output


def test_the_guide_forms_a_named_federation_of_three_sites(guide):
    first = guide[0]
    # Step 7's own federation status: the bootstrapped federation has a
    # name, and the first site leads it.
    status = _said(first, 'federation status')
    assert 'Federation:  None' not in status, status
    assert 'Leader:      %s' % first.mc.name in status, status
    shown = _json(first, 'openstack sodos federation show')
    assert shown['voter_count'] is not None, shown
    # A joined site registers itself once its Exec has started.
    sodos_sites.wait_for(
        lambda: (
            {
                s['Name']
                for s in _json(first, 'openstack sodos site list')
                if s['Status'] == 'up'
            }
            == set(SITE_NAMES)
        ),
        'the three sites up in openstack sodos site list',
    )


def test_the_guides_appliance_runs_at_the_first_site(guide):
    first = guide[0]
    shown = _json(first, 'openstack sodos appliance show hello')
    placed = [(m['site'], m['state']) for m in shown['members']]
    assert placed == [(first.mc.name, 'ACTIVE')], shown
