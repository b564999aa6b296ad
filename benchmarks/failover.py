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

"""Failover: how fast the federation recovers from a lost site.

    python benchmarks/failover.py [--sites 3] [--trials 5]

Real ``sodos-site`` processes on loopback (LAN timeouts from
doc/configuration.rst). The benchmark process joins as one more read-only
member and is the client. Two cases, each repeated ``--trials`` times:

* ``leader_loss_write_s``: SIGKILL of the leader's site -> the first
  write accepted (committed) again through the client member;
* ``site_down_detect_s``: SIGKILL of a non-leader site -> the site is
  marked down in the KB;
* ``site_loss_members_active_s``: SIGKILL of a non-leader site hosting
  appliance members -> every one of them ACTIVE at another site, as the
  sites' monitoring reports it (simulator driver, servers BUILD for
  ``--boot-seconds``). Appliances: ``--appliances`` of two members with
  spread 2.

The killed site is restarted from its data directory between trials.
Progress goes to stderr; the last line of stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import statistics
import sys
import tempfile
import time
from typing import Any

from sodos.testing import federation

NO_REPLACEMENT = {'raft': {'voter_replace_timeout': 3600}}
FAST_LOOPS = {
    'exec': {
        'loop_interval': 0.2,
        'monitor_interval': 0.5,
        'poll_interval': 0.1,
        'retry_delay': 0.2,
    },
    'analyseplan': {'loop_interval': 0.2},
}
SPEC = {
    'members': [
        {'name': 'web', 'image': 'fake-image', 'flavor': 'm1.tiny', 'count': 2}
    ],
    'constraints': {'spread': 2},
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def healthy(fed: federation.LocalFederation, voters: int, timeout=60.0):
    fed.wait(
        lambda r: (
            r['has_quorum']
            and sum(1 for v in r['voters'] if v['connected']) == voters
            and all(m['status'] == 'up' for m in r['members'])
        ),
        timeout,
        'all sites up and %d voters connected' % voters,
    )


def site_of(fed: federation.LocalFederation, address: str):
    return next(s for s in fed.sites.values() if s.address == address)


def leader_loss(fed, client, voters: int) -> float:
    victim = site_of(fed, client.status().leader)
    started = time.monotonic()
    victim.kill()
    client.propose('policy.set', {'key': 'paused', 'value': False})
    elapsed = time.monotonic() - started
    victim.start()
    healthy(fed, voters)
    return elapsed


def site_down(fed, client, voters: int) -> float:
    leader = client.status().leader
    victim = next(s for s in fed.sites.values() if s.address != leader)
    started = time.monotonic()
    victim.kill()
    deadline = started + 60
    while time.monotonic() < deadline:
        if client.read('sites')[victim.name]['status'] == 'down':
            break
        time.sleep(0.02)
    else:
        raise RuntimeError('%s was never marked down' % victim.name)
    elapsed = time.monotonic() - started
    victim.start()
    healthy(fed, voters)
    return elapsed


def active_members(client) -> tuple[set[str], dict[str, Any]]:
    """Member keys whose server is ACTIVE at their placed site."""
    monitoring = client.read('monitoring')
    placements = client.read('placements')
    ok = set()
    for key, placed in placements.items():
        summary = (monitoring.get(placed['site']) or {}).get('summary') or {}
        entry = (summary.get('servers') or {}).get(key) or {}
        if entry.get('status') == 'ACTIVE':
            ok.add(key)
    return ok, placements


def wait_all_active(client, count: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ok, placements = active_members(client)
        if len(ok) == count == len(placements):
            return
        time.sleep(0.05)
    raise RuntimeError(
        'members not all ACTIVE after %.0f s: %d of %d'
        % (timeout, len(active_members(client)[0]), count)
    )


def setup_appliances(client, count: int) -> int:
    for n in range(count):
        client.propose(
            'appliance.put',
            {
                'appliance_id': '%032x' % (n + 1),
                'spec': dict(SPEC, name='a%d' % n),
            },
        )
    members = 2 * count
    wait_all_active(client, members)
    return members


def site_loss(fed, client, voters: int, members: int) -> float:
    leader = client.status().leader
    placements = client.read('placements')
    hosting = {p['site'] for p in placements.values()}
    victim = next(
        s
        for s in sorted(fed.sites.values(), key=lambda s: s.name)
        if s.address != leader and s.name in hosting
    )
    lost = {k for k, p in placements.items() if p['site'] == victim.name}
    started = time.monotonic()
    victim.kill()
    deadline = started + 120
    while time.monotonic() < deadline:
        ok, now = active_members(client)
        if all(key in ok and now[key]['site'] != victim.name for key in lost):
            break
        time.sleep(0.05)
    else:
        raise RuntimeError(
            'the members of %s were not ACTIVE elsewhere in 120 s'
            % victim.name
        )
    elapsed = time.monotonic() - started
    victim.start()
    healthy(fed, voters)
    wait_all_active(client, members)
    return elapsed


def run(
    sites: int, trials: int, appliances: int = 6, boot_seconds: float = 1.0
) -> dict[str, Any]:
    root = tempfile.mkdtemp(prefix='sodos-failover-')
    voters = min(sites, 3) if sites < 5 else 5
    if voters == 2:
        voters = 1
    client = None
    try:
        settings = dict(NO_REPLACEMENT, **FAST_LOOPS)
        settings['simulator'] = {
            'boot_seconds': boot_seconds,
            'delete_seconds': 0.2,
        }
        with federation.LocalFederation(
            root, voter_count=voters, settings=settings
        ) as fed:
            log('starting %d sites (%d voters)' % (sites, voters))
            fed.add_site()
            fed.wait(lambda r: r['leader'], 30, 'a leader')
            for _ in range(sites - 1):
                fed.add_site()
            healthy(fed, voters, timeout=120)
            client = fed.client_member()
            members = setup_appliances(client, appliances)
            log('%d appliance members ACTIVE' % members)
            results: dict[str, list[float]] = {
                'leader': [],
                'down': [],
                'members': [],
            }
            for trial in range(trials):
                results['leader'].append(leader_loss(fed, client, voters))
                log(
                    'trial %d: leader loss -> write in %.2f s'
                    % (trial + 1, results['leader'][-1])
                )
                results['down'].append(site_down(fed, client, voters))
                log(
                    'trial %d: site loss -> marked down in %.2f s'
                    % (trial + 1, results['down'][-1])
                )
                results['members'].append(
                    site_loss(fed, client, voters, members)
                )
                log(
                    'trial %d: site loss -> its members ACTIVE elsewhere '
                    'in %.2f s' % (trial + 1, results['members'][-1])
                )
    finally:
        if client is not None:
            client.stop()
        shutil.rmtree(root, ignore_errors=True)
    return {
        'sites': sites,
        'voters': voters,
        'trials': trials,
        'leader_loss_write_s': round(statistics.median(results['leader']), 3),
        'leader_loss_write_s_max': round(max(results['leader']), 3),
        'site_down_detect_s': round(statistics.median(results['down']), 3),
        'site_down_detect_s_max': round(max(results['down']), 3),
        'site_loss_members_active_s': round(
            statistics.median(results['members']), 3
        ),
        'site_loss_members_active_s_max': round(max(results['members']), 3),
        'appliance_members': 2 * appliances,
        'boot_seconds': boot_seconds,
        'settings': federation.LAN_SETTINGS,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('--sites', type=int, default=3)
    parser.add_argument('--trials', type=int, default=5)
    parser.add_argument('--appliances', type=int, default=6)
    parser.add_argument('--boot-seconds', type=float, default=1.0)
    args = parser.parse_args()
    if args.sites < 3:
        parser.error('--sites must be at least 3 (spread 2 after a loss)')
    logging.basicConfig(level=logging.WARNING)
    result = run(args.sites, args.trials, args.appliances, args.boot_seconds)
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == '__main__':
    sys.exit(main())
