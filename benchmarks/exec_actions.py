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

"""Exec's overhead: server create+delete through sodos vs novaclient.

    python benchmarks/exec_actions.py [--servers 5] [--rounds 3]
        [--site NAME --root DIR]

One real OpenStack site (a minicloud: Keystone, Glance, Placement, Nova
with the fake driver; started here unless ``--site``/``--root`` name one
that runs). Two cases, alternating for ``--rounds`` rounds, each with the
same shape: ``--servers`` creates at once, wait until all are ACTIVE,
then as many deletes at once, wait until all are gone.

``direct``
    python-novaclient from N threads, polling each server every
    ``--poll`` seconds.
``sodos``
    the KB (a one-member Raft federation, in this process) gets N
    placements and N ``server.create`` actions, then N ``server.delete``
    actions; Exec (openstack driver, same ``--poll``) carries them out:
    claim committed, tag lookup, boot, wait, outcome committed. The
    clock stops when the last outcome is committed in the KB.

The last line of stdout is one JSON object with ``sodos_s`` and
``direct_s`` (medians over the rounds) and ``overhead_ratio`` =
sodos_s / direct_s.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import statistics
import sys
import time
from typing import Any

from novaclient import client as nova_client

from sodos import exception
from sodos.exec import role as exec_role
from sodos.knowmon import role as knowmon_role
from sodos.sim import ports

# The test bed (minicloud and its helpers, under tests/) is not
# installed with sodos: it is imported from this checkout.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from tests import clouds  # noqa: E402
from tests import kbwriter  # noqa: E402
from tests import minicloud  # noqa: E402

IMAGE = 'fake-image'
FLAVOR = 'm1.tiny'


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def direct(site: minicloud.Site, count: int, poll: float) -> float:
    nova = nova_client.Client(
        '2.79', session=site.session(), region_name=site.region
    )
    glance = clouds.glance(site)
    image = next(iter(glance.images.list(filters={'name': IMAGE})))['id']
    flavor = nova.flavors.find(name=FLAVOR).id

    def build(n: int) -> str:
        server = nova.servers.create(
            'bench-direct-%d' % n, image, flavor, nics='none'
        )
        while nova.servers.get(server.id).status != 'ACTIVE':
            time.sleep(poll)
        return str(server.id)

    def remove(server_id: str) -> None:
        nova.servers.delete(server_id)
        while True:
            try:
                nova.servers.get(server_id)
            except Exception:
                return
            time.sleep(poll)

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(count) as pool:
        ids = list(pool.map(build, range(count)))
        list(pool.map(remove, ids))
    return time.monotonic() - started


def sodos_conf_for(
    site: minicloud.Site, root: str, poll: float, batch: bool
) -> Any:
    """The configuration an operator would write for this site."""
    return clouds.load_conf(
        root,
        {
            'DEFAULT': {'site_name': 'bench', 'state_path': root},
            'raft': {
                'address': ports.free_address(),
                'password': 'bench-password',
                'data_dir': root + '/raft',
                'batch_append_entries': batch,
            },
            'knowmon': {'serve_rpc': False},
            'exec': {
                'driver': 'openstack',
                'loop_interval': 0.1,
                'poll_interval': poll,
                'monitor_interval': 3600,
                'workers': 10,
            },
            'site_auth': clouds.site_auth(site),
        },
    )


class SodosSite:
    """KnowMon (one-member Raft) and Exec in this process."""

    def __init__(
        self, site: minicloud.Site, root: str, poll: float, batch: bool
    ):
        self.conf = sodos_conf_for(site, root, poll, batch)
        self.knowmon = knowmon_role.KnowMonRole(self.conf)
        self.knowmon.start()
        if not self.knowmon.backend.wait_ready(30):
            raise RuntimeError('the KB member did not start')
        self.kb = kbwriter.KBWriter(self.knowmon.api, origin='bench')
        deadline = time.monotonic() + 30
        while 'bench' not in self.knowmon.api.read('sites'):
            if time.monotonic() > deadline:
                raise RuntimeError('the site did not register')
            time.sleep(0.1)
        self.exec = exec_role.ExecRole(self.conf, self.knowmon.api)
        self.exec.start()

    def run(self, count: int) -> float:
        app = self.kb.appliance()
        members = ['m%d' % n for n in range(count)]
        # A planner submits a plan's commands side by side, as the
        # direct case sends its requests.
        with concurrent.futures.ThreadPoolExecutor(count) as pool:
            started = time.monotonic()
            creates = list(
                pool.map(
                    lambda m: self.kb.create(app, m, 'bench', IMAGE, FLAVOR),
                    members,
                )
            )
            self._wait(creates)
            deletes = list(
                pool.map(
                    lambda m: self.kb.action(
                        'bench',
                        'server.delete',
                        {'appliance_id': app, 'member': m},
                    ),
                    members,
                )
            )
            self._wait(deletes)
            return time.monotonic() - started

    def _wait(self, action_ids: list[str]) -> None:
        for action_id in action_ids:
            ended = self.kb.wait_action(action_id, 600)
            if ended['state'] != 'done':
                raise RuntimeError('action failed: %s' % ended)

    def stop(self) -> None:
        self.exec.stop()
        self.knowmon.stop()


def run_rounds(
    site: minicloud.Site, work: str, args: argparse.Namespace
) -> dict[str, list[float]]:
    sodos = SodosSite(
        site, os.path.join(work, 'sodos'), args.poll, args.raft_batch
    )
    try:
        times: dict[str, list[float]] = {'direct': [], 'sodos': []}
        for n in range(args.rounds):
            cases = ('direct', 'sodos') if n % 2 == 0 else ('sodos', 'direct')
            for case in cases:
                if case == 'direct':
                    took = direct(site, args.servers, args.poll)
                else:
                    took = sodos.run(args.servers)
                times[case].append(took)
                log(
                    'round %d/%d %s: %d create+delete in %.2f s'
                    % (n + 1, args.rounds, case, args.servers, took)
                )
    finally:
        sodos.stop()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('--servers', type=int, default=5)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--poll', type=float, default=0.5)
    parser.add_argument(
        '--raft-batch',
        action='store_true',
        help='turn [raft]batch_append_entries on (entries wait for the '
        'next heartbeat: about one heartbeat period per commit)',
    )
    parser.add_argument('--site', help='a running minicloud site to use')
    parser.add_argument('--root', help='the minicloud root of --site')
    args = parser.parse_args()
    if not 1 <= args.servers <= 10:
        parser.error('--servers must be 1..10 (the default instance quota)')
    if bool(args.site) != bool(args.root):
        parser.error('--site and --root go together')
    try:
        with clouds.scratch('sodos-bench-exec-') as (work, own):
            if args.site:
                site = minicloud.Site.load(args.site, args.root, output=log)
            else:
                log('starting a minicloud site (about a minute of CPU)')
                clouds.start_sites(['bench-exec'], work, own, log)
                (site,) = own
            times = run_rounds(site, work, args)
    except (minicloud.MinicloudError, exception.SodosError) as exc:
        log('error: %s' % exc)
        return 2
    sodos_s = statistics.median(times['sodos'])
    direct_s = statistics.median(times['direct'])
    print(
        json.dumps(
            {
                'servers': args.servers,
                'rounds': args.rounds,
                'poll_s': args.poll,
                'raft_batch_append_entries': args.raft_batch,
                'sodos_s': round(sodos_s, 3),
                'direct_s': round(direct_s, 3),
                'overhead_ratio': round(sodos_s / direct_s, 3),
                'sodos_runs_s': [round(t, 3) for t in times['sodos']],
                'direct_runs_s': [round(t, 3) for t in times['direct']],
            }
        )
    )
    return 0


if __name__ == '__main__':
    sys.exit(main())
