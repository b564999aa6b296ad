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

"""The network service of a site: a real neutron-server, or the stub.

``real``: neutron 29 with ML2 and no agents; only its API runs, in
uwsgi on PORT_BASE+4, with the site's own MariaDB database. It is in the
catalog as ``network``, where nova finds it. The whole API works
(networks, subnets, ports, security groups), and the mechanism driver
of neutron_bind.py binds every port, so servers boot with ports on
networks as well as with nics='none'.

``stub``: neutron_stub.py, empty answers to every GET, not in the
catalog; nova reaches it through [neutron]endpoint_override.

Beyond the plain install, real mode needs (each fixes a failure seen):

* ``service_plugins = router``: it imports the model that declares the
  ``Port.port_forwardings`` backref, which get_ports() reads; without
  it every port list is an HTTP 500.
* the entry point neutron_wsgi.py, which configures the mappers.
* MariaDB: neutron's migrations ALTER constraints, which SQLite cannot.
* a mechanism driver that binds ports with no agent (neutron_bind.py),
  registered by a ``.dist-info`` beside it on the worker's sys.path;
  without one every boot on a network ends in PortBindingFailed.
* neutron 29 has no neutron-server command. neutron-rpc-server and
  neutron-periodic-workers are not needed with no agents: the API only
  casts agent notifications that nobody consumes.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys

from tests.minicloud import configs
from tests.minicloud import errors
from tests.minicloud import layout as layout_mod
from tests.minicloud import processes

REAL = 'real'
STUB = 'stub'
MODES = (REAL, STUB)
# Real: nova's neutron calls meet the real API, for about 9 CPU seconds
# more per start (mostly neutron-db-manage) and 140 MiB more per site.
DEFAULT_MODE = REAL

# The pip requirement of real mode (integration-requirements.txt; the
# version that matches nova 34 is pinned in tools/openstack-constraints).
REQUIREMENT = 'neutron>=29.0.0'
_EXECUTABLES = ('neutron-db-manage',)
_MODULE = 'neutron'

# The service user and the catalog entry (type, name).
USER = 'neutron'
SERVICE = ('network', 'neutron')

_WSGI_MODULE = 'neutron_api'
# Copied, never imported here: importing it boots a neutron-server.
_WSGI_SOURCE = os.path.join(os.path.dirname(__file__), 'neutron_wsgi.py')
_CONFIG_FILES = ('neutron.conf', 'ml2_conf.ini')
# The mechanism driver that binds ports, and the entry point ML2 loads
# it by (mechanism drivers are looked up by entry point name only).
_BIND_SOURCE = os.path.join(os.path.dirname(__file__), 'neutron_bind.py')
_BIND_MODULE = 'minicloud_ml2'
MECHANISM_DRIVER = 'minicloud'
_BIND_DIST = 'minicloud_ml2-1.0.dist-info'
_BIND_METADATA = 'Metadata-Version: 2.1\nName: minicloud-ml2\nVersion: 1.0\n'
_BIND_ENTRY_POINTS = (
    '[neutron.ml2.mechanism_drivers]\n%s = %s:BindAnyHostDriver\n'
    % (MECHANISM_DRIVER, _BIND_MODULE)
)


def check_mode(mode: str) -> None:
    if mode not in MODES:
        raise errors.MinicloudError(
            'input',
            'bad neutron mode %r: use %s' % (mode, ' or '.join(MODES)),
        )


def daemon(mode: str) -> str:
    """The name of the site's neutron process (pidfile, log)."""
    return 'neutron' if mode == REAL else 'neutron-stub'


def missing(mode: str) -> list[str]:
    """What real mode lacks in this venv (nothing for the stub)."""
    if mode != REAL:
        return []
    found = processes.missing(_EXECUTABLES)
    if importlib.util.find_spec(_MODULE) is None:
        found.append(_MODULE)
    return found


def neutron_conf(
    lay: layout_mod.Layout, db: str, transport_url: str
) -> configs.Sections:
    return {
        'DEFAULT': {
            'host': lay.name + '-neutron',
            'core_plugin': 'ml2',
            'service_plugins': 'router',
            'auth_strategy': 'keystone',
            'transport_url': transport_url,
            'api_paste_config': lay.etc('neutron', 'api-paste.ini'),
            'state_path': lay.data('neutron'),
            # A file of its own, as for nova-api: uwsgi's standard output
            # (SITE/log/neutron.log) keeps the request log.
            'log_file': lay.log('neutron-app'),
            'notify_nova_on_port_status_changes': True,
            'notify_nova_on_port_data_changes': True,
        },
        'database': {'connection': db},
        'keystone_authtoken': configs.authtoken(lay, USER),
        'nova': dict(
            configs.password_auth(lay, USER), valid_interfaces='public'
        ),
        'oslo_concurrency': {'lock_path': lay.data('locks', 'neutron')},
    }


def ml2_conf() -> configs.Sections:
    # The only mechanism driver binds every port (neutron_bind.py): the
    # ones neutron ships wait for an agent. 'local' networks need no
    # physical network.
    return {
        'ml2': {
            'type_drivers': 'local,flat',
            'project_network_types': 'local',
            'mechanism_drivers': MECHANISM_DRIVER,
            'extension_drivers': 'port_security',
        },
        'ml2_type_flat': {'flat_networks': '*'},
    }


def uwsgi(lay: layout_mod.Layout) -> configs.Sections:
    # neutron joins the file names to the directory itself.
    sections = configs.uwsgi(
        lay,
        daemon(REAL),
        _WSGI_MODULE + ':application',
        layout_mod.NEUTRON,
        env=[
            'OS_NEUTRON_CONFIG_DIR=' + lay.etc('neutron'),
            'OS_NEUTRON_CONFIG_FILES=' + ';'.join(_CONFIG_FILES),
        ],
    )
    sections['uwsgi']['pythonpath'] = lay.path('wsgi')
    return sections


def write_all(lay: layout_mod.Layout, db: str, transport_url: str) -> None:
    """Write the config files and the entry point of a real neutron."""
    configs.write_file(
        lay.etc('neutron', 'neutron.conf'),
        neutron_conf(lay, db, transport_url),
    )
    configs.write_file(lay.etc('neutron', 'ml2_conf.ini'), ml2_conf())
    configs.write_file(lay.etc('uwsgi', daemon(REAL) + '.ini'), uwsgi(lay))
    configs.copy_paste_ini(
        os.path.join(sys.prefix, 'etc', 'neutron', 'api-paste.ini'),
        lay.etc('neutron', 'api-paste.ini'),
        {
            '/var/lib/neutron/healthcheck_disable': lay.data(
                'neutron', 'healthcheck_disable'
            )
        },
    )
    # A directory with nothing else in it: it goes on the worker's
    # sys.path.
    os.makedirs(lay.path('wsgi', _BIND_DIST), exist_ok=True)
    shutil.copyfile(_WSGI_SOURCE, lay.path('wsgi', _WSGI_MODULE + '.py'))
    shutil.copyfile(_BIND_SOURCE, lay.path('wsgi', _BIND_MODULE + '.py'))
    for name, text in (
        ('METADATA', _BIND_METADATA),
        ('entry_points.txt', _BIND_ENTRY_POINTS),
    ):
        with open(lay.path('wsgi', _BIND_DIST, name), 'w') as out:
            out.write(text)


def db_sync_argv(lay: layout_mod.Layout) -> list[str]:
    argv = [processes.executable('neutron-db-manage')]
    for name in _CONFIG_FILES:
        argv += ['--config-file', lay.etc('neutron', name)]
    return argv + ['upgrade', 'heads']
