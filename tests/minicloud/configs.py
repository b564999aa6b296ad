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

"""The config files of one site: keystone, glance, placement, nova, uwsgi.

Plain ini files under SITE/etc, one directory per service, so that each
file can be read (and changed by hand) when a site misbehaves. Services
log to standard output, which the process runner sends to SITE/log;
only nova-api gets a log_file, see _NOVA_API. neutron.py writes the
real neutron-server's files with the helpers here.
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import Any

from tests.minicloud import accounts
from tests.minicloud import layout as layout_mod

Sections = dict[str, dict[str, Any]]

DEFAULT_COMPUTE_DRIVER = 'fake.MediumFakeDriver'

# The API services run in uwsgi: (name, module:callable, port offset).
UWSGI_APPS = (
    ('keystone', 'keystone.wsgi.api:application', layout_mod.KEYSTONE),
    ('glance', 'glance.wsgi.api:application', layout_mod.GLANCE),
    ('placement', 'placement.wsgi.api:application', layout_mod.PLACEMENT),
    ('nova-api', 'nova.wsgi.osapi_compute:application', layout_mod.NOVA),
)

# nova-api's extra config file. With no log_file, oslo.log inside uwsgi
# would name the file after sys.argv[0] ('<frozen importlib._bootstrap>')
# if a log_dir were set; a file of its own also keeps the app log apart
# from uwsgi's request log.
_NOVA_API = 'nova-api.conf'


def render(sections: Sections) -> str:
    lines = []
    for group, options in sections.items():
        lines.append('[%s]' % group)
        for name, value in options.items():
            # A list repeats the key: uwsgi takes one 'env' line each.
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, bool):
                    item = 'true' if item else 'false'
                lines.append('%s = %s' % (name, item))
        lines.append('')
    return '\n'.join(lines)


def write_file(path: str, sections: Sections) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(render(sections))


def password_auth(lay: layout_mod.Layout, user: str) -> dict[str, Any]:
    return {
        'auth_type': 'password',
        'auth_url': lay.keystone_url,
        'username': user,
        'password': accounts.SERVICE_PASSWORD,
        'project_name': accounts.SERVICE_PROJECT,
        'user_domain_name': accounts.DOMAIN,
        'project_domain_name': accounts.DOMAIN,
        'region_name': lay.name,
    }


def authtoken(lay: layout_mod.Layout, user: str) -> dict[str, Any]:
    options = password_auth(lay, user)
    options['www_authenticate_uri'] = lay.keystone_url
    return options


def keystone(lay: layout_mod.Layout, db: str) -> Sections:
    return {
        'database': {'connection': db},
        'token': {'provider': 'fernet'},
        'fernet_tokens': {'key_repository': lay.data('fernet-keys')},
        'fernet_receipts': {'key_repository': lay.data('fernet-keys')},
        'credential': {'key_repository': lay.data('credential-keys')},
    }


# Glance's import methods: its defaults, and glance-download, with which
# a site's Glance fetches an image from another site's (sodos'
# [image_transfer]method). Glance's list options need the brackets.
GLANCE_IMPORT_METHODS = (
    "['glance-direct', 'web-download', 'copy-image', 'glance-download']"
)


def glance(lay: layout_mod.Layout, db: str) -> Sections:
    # Multi-store ('enabled_backends') also needs the two reserved
    # stores, or glance-api refuses to start.
    return {
        'DEFAULT': {
            'enabled_backends': 'fs:file',
            'enabled_import_methods': GLANCE_IMPORT_METHODS,
        },
        # The other sites' Glance, for glance-download: every site is on
        # loopback (which Glance refuses unless listed; unquoted, these
        # are host addresses) at a random port base, so any port.
        'import_filtering_opts': {
            'allowed_hosts': '[%s]' % layout_mod.HOST,
            'allowed_ports': '[]',
        },
        'database': {'connection': db},
        'glance_store': {'default_backend': 'fs'},
        'fs': {'filesystem_store_datadir': lay.data('images')},
        'os_glance_staging_store': {
            'filesystem_store_datadir': lay.data('glance-staging')
        },
        'os_glance_tasks_store': {
            'filesystem_store_datadir': lay.data('glance-tasks')
        },
        'paste_deploy': {
            'flavor': 'keystone',
            'config_file': lay.etc('glance', 'glance-api-paste.ini'),
        },
        'keystone_authtoken': authtoken(lay, 'glance'),
        'oslo_concurrency': {'lock_path': lay.data('locks', 'glance')},
    }


def placement(lay: layout_mod.Layout, db: str) -> Sections:
    return {
        'placement_database': {'connection': db},
        'api': {'auth_strategy': 'keystone'},
        'keystone_authtoken': authtoken(lay, 'placement'),
    }


def nova(
    lay: layout_mod.Layout,
    api_db: str,
    cell_db: str,
    transport_url: str,
    compute_driver: str,
    neutron_in_catalog: bool,
) -> Sections:
    neutron = password_auth(lay, 'nova')
    if not neutron_in_catalog:
        # The stub is not in the catalog: only nova needs a neutron, to
        # list (no) ports when it deletes a server.
        neutron['endpoint_override'] = lay.neutron_url
    service_auth = dict(password_auth(lay, 'nova'), valid_interfaces='public')
    return {
        'DEFAULT': {
            'transport_url': transport_url,
            'compute_driver': compute_driver,
            'host': lay.compute_host,
            'my_ip': layout_mod.HOST,
            'state_path': lay.data('nova'),
            'instances_path': lay.data('nova', 'instances'),
        },
        # One worker each (the default is one per CPU); oslo.service
        # still forks a master and a worker for both.
        'conductor': {'workers': 1},
        'scheduler': {'workers': 1},
        'api_database': {'connection': api_db},
        'database': {'connection': cell_db},
        'wsgi': {'api_paste_config': lay.etc('nova', 'api-paste.ini')},
        'api': {'auth_strategy': 'keystone'},
        'keystone_authtoken': authtoken(lay, 'nova'),
        'placement': service_auth,
        'glance': service_auth,
        'neutron': dict(neutron, valid_interfaces='public'),
        # Versioned notifications go to topic versioned_notifications on
        # the site's vhost, where a test can listen.
        'notifications': {'notification_format': 'versioned'},
        'oslo_messaging_notifications': {'driver': 'messagingv2'},
        'vnc': {'enabled': False},
        'oslo_concurrency': {'lock_path': lay.data('locks', 'nova')},
    }


def nova_compute(nova_sections: Sections) -> Sections:
    # nova-compute must not reach a database. With [api_database] set it
    # checks service versions in the DB itself and logs 'No DB access
    # allowed in nova-compute' with a trace at every start.
    return {
        group: options
        for group, options in nova_sections.items()
        if group not in ('database', 'api_database')
    }


def uwsgi(
    lay: layout_mod.Layout,
    name: str,
    module: str,
    offset: int,
    env: list[str] | None = None,
) -> Sections:
    if env is None:
        env = {
            'keystone': ['OS_KEYSTONE_CONFIG_DIR=' + lay.etc('keystone')],
            'glance': ['OS_GLANCE_CONFIG_DIR=' + lay.etc('glance')],
            'placement': ['OS_PLACEMENT_CONFIG_DIR=' + lay.etc('placement')],
            'nova-api': [
                'OS_NOVA_CONFIG_DIR=' + lay.etc('nova'),
                'OS_NOVA_CONFIG_FILES=api-paste.ini;nova.conf;' + _NOVA_API,
            ],
        }[name]
    return {
        'uwsgi': {
            'http-socket': '%s:%d' % (layout_mod.HOST, lay.port(offset)),
            'home': sys.prefix,
            'module': module,
            'env': env,
            'master': True,
            'die-on-term': True,
            # Load the app in the worker, not the master: a small master,
            # and no DB connections shared across a fork.
            'lazy-apps': True,
            # Exit at once if the app fails to load, instead of serving
            # 'no python application found'.
            'need-app': True,
            'processes': 1,
            'threads': 1,
            'enable-threads': True,
            'buffer-size': 65535,
            # uwsgi's http-socket closes the connection after each answer
            # without saying so; python-requests then reuses a dead pooled
            # socket ('Connection reset by peer').
            'add-header': 'Connection: close',
            # glanceclient uploads in 1 MiB chunks; uwsgi's default limit
            # is 1 MiB including the framing (HTTP 500 on upload).
            'chunked-input-limit': 16777216,
            'chunked-input-timeout': 60,
            'procname-prefix-spaced': '%s-%s' % (lay.name, name),
        }
    }


def copy_paste_ini(src: str, dst: str, replace: dict[str, str]) -> None:
    with open(src) as f:
        text = f.read()
    for old, new in replace.items():
        text = text.replace(old, new)
    with open(dst, 'w') as f:
        f.write(text)


def write_all(
    lay: layout_mod.Layout,
    databases: dict[str, str],
    transport_url: str,
    compute_driver: str,
    neutron_in_catalog: bool,
) -> None:
    """Write the config files of the site but neutron's (see neutron.py).

    The site's directories must exist.
    """
    write_file(
        lay.etc('keystone', 'keystone.conf'),
        keystone(lay, databases['keystone']),
    )
    write_file(
        lay.etc('glance', 'glance-api.conf'), glance(lay, databases['glance'])
    )
    write_file(
        lay.etc('placement', 'placement.conf'),
        placement(lay, databases['placement']),
    )
    nova_sections = nova(
        lay,
        databases['nova_api'],
        databases['nova_cell1'],
        transport_url,
        compute_driver,
        neutron_in_catalog,
    )
    write_file(lay.etc('nova', 'nova.conf'), nova_sections)
    write_file(
        lay.etc('nova', 'nova-compute.conf'), nova_compute(nova_sections)
    )
    write_file(
        lay.etc('nova', _NOVA_API),
        {'DEFAULT': {'log_file': lay.log('nova-api-app')}},
    )
    for name, module, offset in UWSGI_APPS:
        write_file(
            lay.etc('uwsgi', name + '.ini'), uwsgi(lay, name, module, offset)
        )
    # The paste pipelines ship in the venv's etc/; the site keeps a copy
    # so that it never reads anything under /etc.
    shipped = os.path.join(sys.prefix, 'etc')
    copy_paste_ini(
        os.path.join(shipped, 'glance', 'glance-api-paste.ini'),
        lay.etc('glance', 'glance-api-paste.ini'),
        {
            '/etc/glance/healthcheck_disable': lay.data(
                'glance-healthcheck-disable'
            )
        },
    )
    shutil.copyfile(
        os.path.join(shipped, 'nova', 'api-paste.ini'),
        lay.etc('nova', 'api-paste.ini'),
    )
