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

"""How long an identity change takes to reach every site's Keystone.

    python benchmarks/identity_sync.py [--changes 100] [--sync-interval 0.5]
        [--site NAME:ROOT]...

Three real OpenStack sites (minicloud sites, started here unless
``--site`` names three that run). In this process: a one-member Raft KB
and, for each site, the Exec identity loop of that site
(:mod:`sodos.exec.identity.sync`, ``[identity]mode = api``) with its own
``[site_auth]``. The changes are made one after the other through the
identity API, cycling through: create a project, create a user with a
password, grant the user ``member`` on the project, disable the user.
For each change the clock starts when the KB has committed it and stops
when python-keystoneclient sees it at all three sites.

Baseline, same run: the same kind of change made directly with
python-keystoneclient at the three sites one after the other (a project
created at each site), ``--baseline`` times.

The last line of stdout is one JSON object with ``converge_p50_s``,
``converge_max_s``, ``direct_p50_s`` and ``ratio_p50`` =
converge_p50_s / direct_p50_s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from keystoneclient.v3 import client as ks_client
from oslo_config import cfg

from sodos import exception
from sodos.exec.drivers.openstack import driver as os_driver
from sodos.exec.drivers.openstack import identity as os_identity
from sodos.exec.identity import sync as identity_sync
from sodos.identity import crypto
from sodos.knowmon import identity_api
from sodos.knowmon import role as knowmon_role
from sodos.sim import ports

# The test bed (minicloud and its helpers, under tests/) is not
# installed with sodos: it is imported from this checkout.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from tests import clouds  # noqa: E402
from tests import minicloud  # noqa: E402

SECRET = 'benchmark identity secret'
PREFIX = 'bench-id-'


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def make_conf(
    site_name: str, root: str, site: minicloud.Site | None, interval: float
) -> cfg.ConfigOpts:
    """The configuration an operator would write for this site."""
    sections = {
        'DEFAULT': {'site_name': site_name, 'state_path': root},
        'raft': {
            'address': ports.free_address(),
            'password': 'bench-password',
            'data_dir': os.path.join(root, 'raft'),
        },
        'knowmon': {'serve_rpc': 'false'},
        'exec': {'driver': 'openstack'},
        'identity': {
            'secret': SECRET,
            'sync_interval': interval,
            'audit_interval': 3600,
        },
    }
    if site is not None:
        sections['site_auth'] = clouds.site_auth(site)
    return clouds.load_conf(root, sections)


class Federation:
    """One KB member and the identity loop of each site, in process."""

    def __init__(
        self, sites: list[minicloud.Site], root: str, interval: float
    ) -> None:
        conf = make_conf('bench', os.path.join(root, 'kb'), None, interval)
        self.knowmon = knowmon_role.KnowMonRole(conf)
        self.knowmon.start()
        if not self.knowmon.backend.wait_ready(30):
            raise exception.NotReady('the KB member did not start')
        api = self.knowmon.api
        self.loops = []
        for n, site in enumerate(sites):
            api.submit(_register(site.name, n))
            site_conf = make_conf(
                site.name, os.path.join(root, site.name), site, interval
            )
            writer = os_identity.KeystoneWriter(
                site_conf, os_driver.session(site_conf)
            )
            loop = identity_sync.IdentitySync(site_conf, writer, lambda: api)
            loop.start()
            self.loops.append(loop)
        # As in a site process (sodos.roleset): the KB member beside the
        # loops wakes them when the identity changes.
        self.knowmon.backend.add_listener(self._wake)
        self.ident = identity_api.IdentityAPI(
            api, 'bench', box=crypto.PasswordBox(SECRET)
        )

    def _wake(self, wire: dict[str, Any], result: dict[str, Any]) -> None:
        for loop in self.loops:
            if loop.wakes_for(wire, result):
                loop.wake()

    def stop(self) -> None:
        for loop in self.loops:
            loop.stop()
        self.knowmon.stop()


def _register(name: str, n: int) -> dict[str, Any]:
    from sodos.kb import commands

    return commands.make(
        'site.register',
        {'site': name, 'address': '127.0.0.1:%d' % (n + 1)},
        name,
    ).to_wire()


def keystones(sites: list[minicloud.Site]) -> list[ks_client.Client]:
    return [
        ks_client.Client(session=s.session(), region_name=s.region)
        for s in sites
    ]


def wait_everywhere(
    clients: list[ks_client.Client],
    seen: Callable[[ks_client.Client], bool],
    timeout: float = 120.0,
) -> None:
    pending = list(clients)
    deadline = time.monotonic() + timeout
    while pending:
        pending = [c for c in pending if not seen(c)]
        if pending and time.monotonic() > deadline:
            raise exception.SodosError('a change not seen in %.0f s' % timeout)
        if pending:
            time.sleep(0.05)


def change(fed: Federation, n: int) -> tuple[str, Callable[[Any], bool]]:
    """Make change ``n`` in the KB; return what it is and how to see it."""
    step, i = n % 4, n // 4
    project, user = '%sp%d' % (PREFIX, i), '%su%d' % (PREFIX, i)
    ident = fed.ident
    if step == 0:
        ident.put('projects', project)
        return 'project', lambda c: bool(c.projects.list(name=project))
    if step == 1:
        ident.put('users', user, password=uuid.uuid4().hex)
        return 'user', lambda c: bool(c.users.list(name=user))
    if step == 2:
        ident.assignment('member', ('user', user), ('project', project))

        def granted(c: Any) -> bool:
            (u,) = c.users.list(name=user)
            (p,) = c.projects.list(name=project)
            return bool(c.role_assignments.list(user=u, project=p))

        return 'assignment', granted
    ident.put('users', user, enabled=False)
    return 'disable', lambda c: not c.users.list(name=user)[0].enabled


def direct(clients: list[ks_client.Client], n: int) -> float:
    name = '%sdirect%d' % (PREFIX, n)
    started = time.monotonic()
    made = [(c, c.projects.create(name, 'default')) for c in clients]
    took = time.monotonic() - started
    for c, project in made:
        c.projects.delete(project)
    return took


def cleanup(fed: Federation, clients: list[ks_client.Client]) -> None:
    state = fed.ident.state()
    for kind in ('users', 'projects'):
        for gid in list(state[kind]):
            fed.ident.delete(kind, gid)
    wait_everywhere(
        clients,
        lambda c: (
            not [p for p in c.projects.list() if p.name.startswith(PREFIX)]
        ),
    )


def measure(args: Any, sites: list[minicloud.Site], work: str) -> dict:
    clients = keystones(sites)
    fed = Federation(sites, work, args.sync_interval)
    try:
        times: dict[str, list[float]] = {}
        for n in range(args.changes):
            kind, seen = change(fed, n)
            started = time.monotonic()
            wait_everywhere(clients, seen)
            times.setdefault(kind, []).append(time.monotonic() - started)
        baseline = [direct(clients, n) for n in range(args.baseline)]
        cleanup(fed, clients)
    finally:
        fed.stop()
    every = sorted(t for ts in times.values() for t in ts)
    p50 = statistics.median(every)
    direct_p50 = statistics.median(baseline)
    return {
        'sites': len(sites),
        'changes': len(every),
        'sync_interval_s': args.sync_interval,
        'converge_p50_s': round(p50, 3),
        'converge_p90_s': round(every[int(0.9 * (len(every) - 1))], 3),
        'converge_max_s': round(every[-1], 3),
        'converge_p50_by_kind_s': {
            k: round(statistics.median(v), 3) for k, v in sorted(times.items())
        },
        'direct_p50_s': round(direct_p50, 3),
        'ratio_p50': round(p50 / direct_p50, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('--changes', type=int, default=100)
    parser.add_argument('--baseline', type=int, default=10)
    parser.add_argument('--sync-interval', type=float, default=0.5)
    parser.add_argument(
        '--site',
        action='append',
        metavar='NAME:ROOT',
        help='a running minicloud site (give three)',
    )
    args = parser.parse_args()
    if args.site and len(args.site) != 3:
        parser.error('give --site three times, or not at all')
    try:
        with clouds.scratch('sodos-bench-identity-') as (work, own):
            if args.site:
                sites = [
                    minicloud.Site.load(*s.split(':', 1), output=log)
                    for s in args.site
                ]
            else:
                log('starting three minicloud sites (minutes of CPU)')
                names = ['bench-id-%d' % n for n in range(3)]
                clouds.start_sites(names, work, own, log)
                sites = own
            result = measure(args, sites, os.path.join(work, 'sodos'))
    except (minicloud.MinicloudError, exception.SodosError) as exc:
        log('error: %s' % exc)
        return 2
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == '__main__':
    sys.exit(main())
