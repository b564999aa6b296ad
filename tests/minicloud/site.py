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

"""One minicloud site: a real Keystone, Glance, Placement and Nova.

Its network service is a real neutron-server, or a stub with
neutron='stub' (see neutron.py).

    site = Site('alpha', 17000, '/tmp/minicloud')
    site.start()          # fresh every time; prints one line per phase
    sess = site.session() # keystoneauth1 session as admin
    site.stop()
    site.destroy()        # also drops its databases and vhost

Every start wipes what an earlier site of the same name left (processes
by their pidfiles, files, databases, vhost) and builds it anew.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from typing import Any

from keystoneauth1 import session as ks_session

from tests.minicloud import accounts
from tests.minicloud import backends
from tests.minicloud import configs
from tests.minicloud import errors
from tests.minicloud import layout as layout_mod
from tests.minicloud import neutron as neutron_mod
from tests.minicloud import packages
from tests.minicloud import processes
from tests.minicloud import seed
from tests.minicloud import startup

# The site's daemons, with neutron.daemon(mode) in place of 'neutron'.
DAEMONS = (
    'keystone',
    'glance',
    'placement',
    'neutron',
    'nova-conductor',
    'nova-scheduler',
    'nova-api',
    'nova-compute',
)


def _print(line: str) -> None:
    print(line, flush=True)


class Site:
    admin_username = accounts.ADMIN_USER
    admin_password = accounts.ADMIN_PASSWORD
    admin_project_name = accounts.ADMIN_PROJECT
    admin_user_domain_name = accounts.DOMAIN
    admin_project_domain_name = accounts.DOMAIN

    def __init__(
        self,
        name: str,
        port_base: int,
        root: str,
        *,
        transport_url: str = backends.DEFAULT_TRANSPORT_URL,
        database_url: str = backends.DEFAULT_DATABASE_URL,
        compute_driver: str = configs.DEFAULT_COMPUTE_DRIVER,
        neutron: str = neutron_mod.DEFAULT_MODE,
        stop_grace: float = processes.DEFAULT_STOP_GRACE,
        output: Callable[[str], None] | None = None,
    ) -> None:
        layout_mod.check_name(name)
        layout_mod.check_port_base(port_base)
        neutron_mod.check_mode(neutron)
        self.layout = layout_mod.Layout(name, os.path.abspath(root), port_base)
        # The broker URL without a vhost; the site's own is transport_url.
        self.base_transport_url = transport_url
        self.database_url = database_url.rstrip('/')
        self.compute_driver = compute_driver
        # 'real' or 'stub' (neutron.MODES).
        self.neutron = neutron
        self.stop_grace = stop_grace
        self.output = output or _print

    @classmethod
    def load(
        cls, name: str, root: str, output: Callable[[str], None] | None = None
    ) -> Site:
        """The site that `start` made under root (its site.json)."""
        layout_mod.check_name(name)
        path = os.path.join(os.path.abspath(root), name, 'site.json')
        try:
            with open(path) as f:
                state = json.load(f)
        except FileNotFoundError:
            raise errors.MinicloudError(
                'input', 'unknown site %r: no %s' % (name, path)
            ) from None
        except (OSError, ValueError) as e:
            raise errors.MinicloudError(
                'input', 'cannot read %s: %s' % (path, e)
            ) from None
        return cls(
            name,
            state['port_base'],
            root,
            transport_url=state['transport_url'],
            database_url=state['database_url'],
            compute_driver=state['compute_driver'],
            # Sites from before the setting all ran the stub.
            neutron=state.get('neutron', neutron_mod.STUB),
            output=output,
        )

    # What a test needs

    @property
    def name(self) -> str:
        return self.layout.name

    @property
    def region(self) -> str:
        return self.layout.name

    @property
    def dir(self) -> str:
        return self.layout.dir

    @property
    def auth_url(self) -> str:
        return self.layout.keystone_url

    @property
    def glance_url(self) -> str:
        return self.layout.glance_url

    @property
    def placement_url(self) -> str:
        return self.layout.placement_url

    @property
    def nova_url(self) -> str:
        return self.layout.nova_url

    @property
    def neutron_url(self) -> str:
        return self.layout.neutron_url

    @property
    def neutron_daemon(self) -> str:
        """Its neutron process: 'neutron' (real) or 'neutron-stub'."""
        return neutron_mod.daemon(self.neutron)

    @property
    def compute_host(self) -> str:
        return self.layout.compute_host

    @property
    def transport_url(self) -> str:
        return backends.vhost_url(self.base_transport_url, self.layout.vhost)

    def database(self, kind: str) -> str:
        return backends.database_url(
            self.database_url, self.layout.database(kind)
        )

    def session(self) -> ks_session.Session:
        """A keystoneauth1 session as admin on project admin."""
        return accounts.session(self.auth_url)

    def log_file(self, name: str) -> str:
        return self.layout.log(name)

    @staticmethod
    def tail(path: str, lines: int = 40) -> str:
        try:
            with open(path, errors='replace') as f:
                return ''.join(f.readlines()[-lines:])
        except OSError as e:
            return '(cannot read %s: %s)' % (path, e)

    def say(self, text: str) -> None:
        self.output('[%s] %s' % (self.name, text))

    # Life cycle

    def start(self) -> float:
        """Build and start the site afresh; return seconds to READY."""
        started = time.monotonic()
        self._preflight()
        self._wipe()
        layout_mod.check_ports_free(self.layout)
        self._prepare()
        self.say(
            '%6.1fs configured in %s (ports %d-%d)'
            % (
                time.monotonic() - started,
                self.dir,
                self.layout.port_base,
                self.layout.port_base + layout_mod.PORT_COUNT - 1,
            )
        )
        try:
            startup.Startup(self, started).run()
        except BaseException:
            self._write_state('failed')
            processes.stop(self.layout, grace=0)
            raise
        ready = time.monotonic() - started
        self._write_state('ready', ready_seconds=round(ready, 1))
        self.say('%6.1fs READY' % ready)
        return ready

    def stop(self, grace: float | None = None) -> int:
        """Stop the site's daemons; return how many were running."""
        count = processes.stop(
            self.layout, self.stop_grace if grace is None else grace
        )
        if os.path.exists(self.layout.state_file):
            self._write_state('stopped')
        return count

    def destroy(self, keep_files: bool = False) -> None:
        """Stop the site and remove its databases, vhost and files.

        keep_files leaves the directory (configs and logs) to read after
        a failure.
        """
        processes.stop(self.layout, grace=0)
        # neutron's too, in either mode: DROP IF EXISTS costs nothing.
        backends.drop_databases(
            self.database_url,
            self._databases() + [self._neutron_database()],
        )
        backends.delete_vhost(self.layout.vhost)
        if not keep_files:
            shutil.rmtree(self.dir, ignore_errors=True)

    def status(self) -> dict[str, int | None]:
        """Each daemon of the site and its pid, None if it does not run."""
        pids = processes.running(self.layout)
        names = [
            self.neutron_daemon if name == 'neutron' else name
            for name in DAEMONS
        ]
        return {name: pids.get(name) for name in names}

    def state(self) -> dict[str, Any]:
        try:
            with open(self.layout.state_file) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def credentials(self) -> str:
        return '\n'.join(
            [
                'auth URL:  %s' % self.auth_url,
                'region:    %s' % self.region,
                'neutron:   %s' % self.neutron,
                'admin:     %s / %s (project %s, domain %s)'
                % (
                    self.admin_username,
                    self.admin_password,
                    self.admin_project_name,
                    self.admin_user_domain_name,
                ),
                'openrc:    %s' % self.layout.path('openrc'),
            ]
        )

    # Steps of start

    def _preflight(self) -> None:
        missing = packages.missing_packages(neutron_mod.STUB)
        if missing:
            raise errors.MinicloudError(
                'preflight',
                'OpenStack packages missing next to %s (%s); install them '
                'with: %s'
                % (
                    processes.bin_dir(),
                    ', '.join(missing),
                    packages.INSTALL_HINT,
                ),
            )
        missing = neutron_mod.missing(self.neutron)
        if missing:
            raise errors.MinicloudError(
                'preflight',
                "neutron 'real' needs the requirement %s next to %s (missing:"
                ' %s); install it with: %s; or run the stub (--neutron '
                "stub, Site(neutron='stub'))"
                % (
                    neutron_mod.REQUIREMENT,
                    processes.bin_dir(),
                    ', '.join(missing),
                    packages.INSTALL_HINT,
                ),
            )
        backends.check_reachable(self.database_url, self.base_transport_url)

    def _wipe(self) -> None:
        # An earlier site of this name: stop what its pidfiles name, and
        # throw its files away (the databases and vhost are recreated).
        if os.path.isdir(self.dir):
            processes.stop(self.layout, grace=0)
            shutil.rmtree(self.dir)

    def _databases(self) -> list[str]:
        """The site's databases but neutron's."""
        return [self.layout.database(k) for k in layout_mod.DATABASES]

    def _neutron_database(self) -> str:
        return self.layout.database(layout_mod.NEUTRON_DATABASE)

    def _prepare(self) -> None:
        for sub in ('etc', 'log', 'run'):
            os.makedirs(self.layout.path(sub), exist_ok=True)
        # keystone-manage makes its key directories itself, mode 0700.
        for sub in ('images', 'locks', 'nova', 'neutron'):
            os.makedirs(self.layout.data(sub), exist_ok=True)
        self._write_state('starting')
        real = self.neutron == neutron_mod.REAL
        if real:
            backends.recreate_databases(
                self.database_url,
                self._databases() + [self._neutron_database()],
            )
        else:
            backends.recreate_databases(self.database_url, self._databases())
            # Left by a real-mode site of the same name.
            backends.drop_databases(
                self.database_url, [self._neutron_database()]
            )
        configs.write_all(
            self.layout,
            {k: self.database(k) for k in layout_mod.DATABASES},
            self.transport_url,
            self.compute_driver,
            neutron_in_catalog=real,
        )
        if real:
            neutron_mod.write_all(
                self.layout,
                self.database(layout_mod.NEUTRON_DATABASE),
                self.transport_url,
            )
        self._write_openrc()

    def _write_state(self, state: str, **extra: Any) -> None:
        data = {
            'name': self.name,
            'port_base': self.layout.port_base,
            'transport_url': self.base_transport_url,
            'database_url': self.database_url,
            'compute_driver': self.compute_driver,
            'neutron': self.neutron,
            'state': state,
            'updated': time.strftime('%Y-%m-%dT%H:%M:%S'),
        }
        data.update(extra)
        tmp = self.layout.state_file + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(data, f, indent=2)
        os.replace(tmp, self.layout.state_file)

    def _write_openrc(self) -> None:
        env = {
            'OS_AUTH_URL': self.auth_url,
            'OS_IDENTITY_API_VERSION': '3',
            'OS_USERNAME': self.admin_username,
            'OS_PASSWORD': self.admin_password,
            'OS_PROJECT_NAME': self.admin_project_name,
            'OS_USER_DOMAIN_NAME': self.admin_user_domain_name,
            'OS_PROJECT_DOMAIN_NAME': self.admin_project_domain_name,
            'OS_REGION_NAME': self.region,
            'OS_COMPUTE_API_VERSION': seed.COMPUTE_MICROVERSION,
        }
        with open(self.layout.path('openrc'), 'w') as f:
            f.writelines('export %s=%s\n' % item for item in env.items())
