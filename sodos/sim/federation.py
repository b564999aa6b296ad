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

"""A federation of real sodos site processes on loopback.

Used by ``sodos-sim``, the functional tests, the benchmarks and the
local quick start: each site is a ``sodos-site`` process with its own
config file, data directory and log, talking real Raft over TCP to the
others. Sites are started, stopped, killed and frozen by their pid only.
The federation makes a throwaway CA and a certificate per site
(:mod:`sodos.sim.certs`), so that its sites talk mutual TLS as real ones
do; ``tls=False`` runs them in ``[raft]insecure_dev_mode`` instead.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from sodos import exception
from sodos.kb.raft import admin
from sodos.sim import certs
from sodos.sim import clients
from sodos.sim import ports
from sodos.sim import siteconf

# Timeouts for a LAN (here: loopback); kept with the other site settings.
LAN_SETTINGS = siteconf.LAN_SETTINGS


# Exec on the simulator driver, quick enough for tests.
FAST_SIMULATED_SETTINGS: dict[str, dict[str, Any]] = {
    'exec': {
        'loop_interval': 0.3,
        'monitor_interval': 0.5,
        'poll_interval': 0.05,
        'retry_delay': 0.1,
    },
    'simulator': {'boot_seconds': 0.3, 'delete_seconds': 0.2},
}


# glibc gives every thread that allocates its own malloc arena; a site
# process has a dozen threads, and two arenas hold its memory in less
# RSS (about 4% per site, measured with benchmarks/scale.py). The
# systemd units set the same. The caller's environment wins.
SITE_ENV = {'MALLOC_ARENA_MAX': '2'}


class LocalSite:
    def __init__(
        self, federation: LocalFederation, name: str, join: list[str]
    ) -> None:
        self.federation = federation
        self.name = name
        self.address = federation.new_address(name)
        self.join = join
        self.dir = os.path.join(federation.root, name)
        self.config_path = os.path.join(self.dir, 'sodos.conf')
        self.log_path = os.path.join(self.dir, 'sodos.log')
        self.data_dir = os.path.join(self.dir, 'raft')
        self.process: subprocess.Popen[bytes] | None = None
        os.makedirs(self.dir, exist_ok=True)
        self.write_config()

    def write_config(self, **extra: dict[str, Any]) -> None:
        fed = self.federation
        sections: dict[str, dict[str, Any]] = {
            'DEFAULT': {
                'site_name': self.name,
                'state_path': self.dir,
                'roles': fed.roles,
                'log_file': self.log_path,
                'debug': fed.debug,
                'transport_url': fed.transport_url,
                'control_exchange': fed.control_exchange,
            },
            'raft': {
                'address': self.address,
                'password': fed.password,
                'join': self.join,
                'data_dir': self.data_dir,
                'voter_count': fed.voter_count,
                **fed.tls_options(self.name, self.address),
            },
            'knowmon': {'serve_rpc': fed.transport_url is not None},
        }
        sections = siteconf.merged(sections, fed.settings, extra)
        with open(self.config_path, 'w', encoding='utf-8') as f:
            f.write(siteconf.render(sections))

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, env: dict[str, str] | None = None) -> None:
        if self.running:
            return
        command = self.federation.site_command(self) + [
            '--config-file',
            self.config_path,
        ]
        self.process = subprocess.Popen(
            command,
            env=dict(SITE_ENV, **os.environ, **(env or {})),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(self.dir, 'stderr.log'), 'ab'),
        )

    def spawn(self, module: str, name: str) -> subprocess.Popen[bytes]:
        """Another process of this site (e.g. sodos.cmd.exec), own log."""
        log_path = os.path.join(self.dir, name + '.log')
        process = subprocess.Popen(
            [
                sys.executable,
                '-m',
                module,
                '--config-file',
                self.config_path,
                '--log-file',
                log_path,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(self.dir, name + '.stderr'), 'ab'),
        )
        self.federation.extra_processes.append(process)
        return process

    def signal(self, signum: int) -> None:
        if self.running:
            assert self.process is not None
            os.kill(self.process.pid, signum)

    def kill(self) -> None:
        """SIGKILL: a crash, nothing flushed or said goodbye."""
        self.signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(10)

    def freeze(self) -> None:
        self.signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.signal(signal.SIGCONT)

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM and wait; returns the exit status."""
        if self.process is None:
            return None
        if self.running:
            self.thaw()
            self.signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.returncode

    def manage(
        self, *args: str, timeout: float = 120.0
    ) -> subprocess.CompletedProcess[str]:
        """Run ``sodos-manage ARGS`` with this site's config."""
        return subprocess.run(
            [
                sys.executable,
                '-m',
                'sodos.cmd.manage',
                '--config-file',
                self.config_path,
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def log(self) -> str:
        try:
            with open(self.log_path, encoding='utf-8', errors='replace') as f:
                return f.read()
        except FileNotFoundError:
            return ''


class LocalFederation:
    """Sites on loopback; the first one bootstraps, the others join it."""

    def __init__(
        self,
        root: str,
        password: str = 'local-federation-password',
        voter_count: int = 3,
        roles: tuple[str, ...] = ('knowmon', 'exec', 'analyseplan'),
        transport_url: str | None = None,
        settings: dict[str, dict[str, Any]] | None = None,
        debug: bool = False,
        command: list[str] | None = None,
        tls: bool = True,
    ) -> None:
        self.root = root
        self.password = password
        # The federation's CA; None: plaintext, in the development mode.
        self.ca = certs.LocalCA(os.path.join(root, 'ca')) if tls else None
        self.voter_count = voter_count
        self.roles = list(roles)
        self.transport_url = transport_url
        # Sites of one federation share one message bus exchange of their
        # own: two federations on one broker (tests run side by side, a
        # simulation beside a demo) use the same site names, and their
        # RPC calls would otherwise reach each other's sites.
        self.control_exchange = 'sodos-' + uuid.uuid4().hex[:12]
        self.debug = debug
        self.settings = siteconf.merged(LAN_SETTINGS, settings or {})
        self.command = command or [sys.executable, '-m', 'sodos.cmd.site']
        self.sites: dict[str, LocalSite] = {}
        self.extra_processes: list[subprocess.Popen[bytes]] = []
        # What a control-channel client of this federation needs.
        self.key: admin.Credentials = admin.key_for(
            password, self.ca.issue('client') if self.ca else None
        )
        self._rpc_conf: Any = None
        os.makedirs(root, exist_ok=True)

    # Hooks for a federation whose sites live in network namespaces of
    # their own, each with its own host (tests/chaos/network.py).
    def new_address(self, name: str) -> str:
        """Where site or member ``name`` will listen."""
        return ports.free_address()

    def site_command(self, site: LocalSite) -> list[str]:
        """The command that runs ``site`` (its config file follows)."""
        return list(self.command)

    def tls_options(
        self, name: str, address: str | None = None
    ) -> dict[str, Any]:
        """The [raft] options of site ``name``'s TLS (or of the
        development mode without it); its certificate names the host of
        ``address`` too, where the site listens off loopback."""
        if self.ca is None:
            return {'insecure_dev_mode': True}
        hosts = [address.rsplit(':', 1)[0].strip('[]')] if address else []
        return dict(self.ca.issue(name, hosts))

    def add_site(
        self,
        name: str | None = None,
        start: bool = True,
        join: list[str] | None = None,
    ) -> LocalSite:
        name = name or 'site-%d' % (len(self.sites) + 1)
        if join is None:
            join = [s.address for s in self.sites.values()][:1]
        site = LocalSite(self, name, join)
        self.sites[name] = site
        if start:
            site.start()
        return site

    def stop_all(self) -> dict[str, int | None]:
        return {name: s.stop() for name, s in self.sites.items()}

    def __enter__(self) -> LocalFederation:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        for process in self.extra_processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
        for site in self.sites.values():
            try:
                site.stop(timeout=10)
            except Exception:
                site.kill()

    def client_member(
        self, name: str = 'client', patience: float = 0.0
    ) -> Any:
        """An observer KB member in this process, joined to the sites:
        reads and writes the KB with no message bus, is listed as no site
        and never votes (stop() it after; :func:`clients.client_member`)."""
        return clients.client_member(self, name, patience)

    # -- looking at it ---------------------------------------------------

    def knowmon(self, site: LocalSite) -> Any:
        """A KnowMon RPC client for ``site``, over the message bus."""
        return clients.knowmon(self, site)

    def report(self, via: LocalSite | None = None) -> dict[str, Any]:
        """The federation status, asked of ``via`` or any running site.

        Without ``via``, a site that has left is asked last: it no longer
        hears from the leader, so its view stops at the moment it left.
        """
        candidates = (
            [via] if via else [s for s in self.sites.values() if s.running]
        )
        errors = []
        from_a_left_site = None
        for site in candidates:
            try:
                found = admin.federation_status(site.address, self.key)
            except exception.SodosError as exc:
                errors.append(str(exc))
                continue
            if via or (found.get('asked') or {}).get('role') != 'left':
                return found
            from_a_left_site = from_a_left_site or found
        if from_a_left_site is not None:
            return from_a_left_site
        raise exception.PeerUnreachable('; '.join(errors) or 'no site runs')

    def leader(self) -> LocalSite | None:
        try:
            address = self.report()['leader']
        except exception.SodosError:
            return None
        for site in self.sites.values():
            if site.address == address and site.running:
                return site
        return None

    def wait(
        self,
        predicate: Callable[[dict[str, Any]], Any],
        timeout: float,
        what: str,
        via: LocalSite | None = None,
    ) -> dict[str, Any]:
        """Poll the report until ``predicate(report)`` holds."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            try:
                last = self.report(via)
                if predicate(last):
                    return dict(last)
            except exception.SodosError as exc:
                last = str(exc)
            time.sleep(0.1)
        raise AssertionError(
            'timed out after %.0f s waiting for %s; last report: %s'
            % (timeout, what, last)
        )
