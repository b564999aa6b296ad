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

    python benchmarks/failover.py [--sites 3[,10,100]] [--trials 5]
        [--large-trials 2] [--profile auto|lan|wan]
        [--detector heartbeat|gossip] [--gossip-probe-interval 0.3]
        [--gossip-leader-election]

Real ``sodos-site`` processes on loopback. The benchmark process joins as
one more read-only member and is the client. Four cases, each repeated
``--trials`` times (``--large-trials`` times with 50 sites or more):

* ``leader_loss_write_s``: SIGKILL of the leader's site -> the first
  write accepted (committed) again through the client member;
* ``leader_freeze_write_s``: SIGSTOP of the leader's site, as a host
  that stops answering while its ports still take connections -> the
  first write accepted again; the site is thawed (SIGCONT) after. A
  killed leader's port refuses connections, which its voters act on at
  once (sodos.kb.raft.vigil); a frozen one's does not;
* ``site_down_detect_s``: SIGKILL of a non-leader site -> the site is
  marked down in the KB;
* ``site_loss_members_active_s``: SIGKILL of a non-leader site hosting
  appliance members -> every one of them ACTIVE at another site, as the
  sites' monitoring reports it (simulator driver, servers BUILD for
  ``--boot-seconds``). Appliances: ``--appliances`` of two members with
  spread 2.

The killed site is restarted from its data directory between trials.
Each case kills a site not killed before in the run while there is one:
a site killed again seconds after its restart may still be catching up,
not the steady state measured here.

Timeouts: ``lan`` are those doc/configuration.rst gives for a LAN;
``wan`` those of examples/edge-100.yaml (a site is marked down after
15 s), the only ones a hundred site processes on a small machine keep
without false alarms. ``auto`` (default) takes ``wan`` as soon as one
size has 50 sites or more, for every size, so that the sizes of one run
compare. Several sizes run one after the other; the report then has
each size under ``by_sites`` and, for every case, the median of each
size over the median of the smallest (``ratio_to_smallest``).

Progress goes to stderr; the last line of stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from typing import Any

import _child
import yaml

from sodos import exception
from sodos.knowmon.gossip import params as gossip_params
from sodos.sim import federation
from sodos.sim import ports

EDGE_100 = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    'examples',
    'edge-100.yaml',
)
# From this many sites on: fewer trials, WAN timeouts (with --profile
# auto), sites started in batches.
LARGE = 50
START_BATCH = 10
CASES = (
    'leader_loss_write_s',
    'leader_freeze_write_s',
    'site_down_detect_s',
    'site_loss_members_active_s',
)

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


def start_sites(
    fed: federation.LocalFederation, sites: int, voters: int, timeout: float
) -> None:
    """The first site, then the others in batches: a hundred Python
    processes starting at once starve the leader on a small machine."""
    add_site(fed)
    fed.wait(lambda r: r['leader'], 30, 'a leader')
    for first in range(1, sites, START_BATCH):
        count = min(sites, first + START_BATCH)
        for _ in range(first, count):
            add_site(fed)
        fed.wait(
            lambda r, count=count: (
                sum(m['status'] == 'up' for m in r['members']) >= count
            ),
            timeout,
            '%d sites up' % count,
        )
    healthy(fed, voters, timeout)


def add_site(fed: federation.LocalFederation) -> None:
    """A site listening outside the ephemeral ports, which the sites'
    own outgoing connections could take while it is down."""
    site = fed.add_site(start=False)
    taken = {s.address for s in fed.sites.values() if s is not site}
    site.address = ports.free_address()
    while site.address in taken:
        site.address = ports.free_address()
    site.write_config()
    site.start()


def site_of(fed: federation.LocalFederation, address: str):
    return next(s for s in fed.sites.values() if s.address == address)


class Trials:
    """The three cases on one running federation."""

    def __init__(self, fed, client, voters: int, heal: float) -> None:
        self.fed = fed
        self.client = client
        self.voters = voters
        # How long a restarted site may take to be up again.
        self.heal = heal
        # Sites killed so far: a site killed again within seconds of its
        # restart may still be catching up, not the steady state
        # measured here.
        self.killed: set[str] = set()

    def victim(self, candidates):
        """The first of ``candidates`` not killed yet in this run (the
        first one if all were)."""
        candidates = list(candidates)
        fresh = [s for s in candidates if s.name not in self.killed]
        chosen = (fresh or candidates)[0]
        self.killed.add(chosen.name)
        return chosen

    def restart(self, victim) -> None:
        victim.start()
        healthy(self.fed, self.voters, self.heal)
        # The report can see the site before the KB has it up again: the
        # next case must not start from a site still marked down.
        deadline = time.monotonic() + self.heal
        while time.monotonic() < deadline:
            sites = self.client.read('sites')
            if all(
                (sites.get(name) or {}).get('status') == 'up'
                for name in self.fed.sites
            ):
                return
            time.sleep(0.05)
        raise RuntimeError('%s is not up again in the KB' % victim.name)

    def recovered(self, victim, started: float) -> float:
        """End a case: the seconds since ``started``, logged, then the
        victim thawed or restarted."""
        elapsed = time.monotonic() - started
        # Said before the restart, which can fail on a loaded machine.
        log('%s: %.2f s' % (victim.name, elapsed))
        victim.thaw()
        self.restart(victim)
        return elapsed

    def leader_loss(self, freeze: bool = False) -> float:
        victim = site_of(self.fed, self.client.status().leader)
        self.killed.add(victim.name)
        started = time.monotonic()
        if freeze:
            victim.freeze()
        else:
            victim.kill()
        while True:
            try:
                self.client.propose(
                    'policy.set', {'key': 'paused', 'value': False}
                )
                break
            except (exception.CommitTimeout, exception.NotReady):
                # Slow timeouts can outlast one commit_timeout.
                if time.monotonic() - started > 4 * self.heal:
                    raise
        return self.recovered(victim, started)

    def site_down(self) -> float:
        client = self.client
        leader = client.status().leader
        victim = self.victim(
            s for s in self.fed.sites.values() if s.address != leader
        )
        started = time.monotonic()
        victim.kill()
        deadline = started + self.heal
        while time.monotonic() < deadline:
            if client.read('sites')[victim.name]['status'] == 'down':
                break
            time.sleep(0.02)
        else:
            raise RuntimeError('%s was never marked down' % victim.name)
        return self.recovered(victim, started)

    def site_loss(self, members: int) -> float:
        client = self.client
        leader = client.status().leader
        placements = client.read('placements')
        hosting = {p['site'] for p in placements.values()}
        victim = self.victim(
            s
            for s in sorted(self.fed.sites.values(), key=lambda s: s.name)
            if s.address != leader and s.name in hosting
        )
        lost = {k for k, p in placements.items() if p['site'] == victim.name}
        started = time.monotonic()
        victim.kill()
        deadline = started + 2 * self.heal
        while time.monotonic() < deadline:
            ok, now = active_members(client)
            if all(
                key in ok and now[key]['site'] != victim.name for key in lost
            ):
                break
            time.sleep(0.05)
        else:
            raise RuntimeError(
                'the members of %s were not ACTIVE elsewhere in %.0f s'
                % (victim.name, 2 * self.heal)
            )
        elapsed = self.recovered(victim, started)
        wait_all_active(client, members, 2 * self.heal)
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


def setup_appliances(client, count: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    for n in range(count):
        while True:
            try:
                client.propose(
                    'appliance.put',
                    {
                        'appliance_id': '%032x' % (n + 1),
                        'spec': dict(SPEC, name='a%d' % n),
                    },
                )
                break
            except (exception.CommitTimeout, exception.NotReady):
                # A federation that just formed on a loaded machine may
                # still be electing; a put of the same spec is safe again.
                if time.monotonic() > deadline:
                    raise
    members = 2 * count
    wait_all_active(client, members, timeout)
    return members


def profile_settings(
    profile: str,
    boot_seconds: float,
    detector: str = 'heartbeat',
    probe_interval: float = gossip_params.Params.probe_interval,
    leader_election: bool = False,
) -> dict[str, Any]:
    """The options every site gets, over LocalFederation's LAN ones."""
    if profile == 'wan':
        with open(EDGE_100, encoding='utf-8') as f:
            settings = yaml.safe_load(f)['settings']
    else:
        settings = {g: dict(o) for g, o in FAST_LOOPS.items()}
    settings.setdefault('raft', {}).update(NO_REPLACEMENT['raft'])
    settings['simulator'] = {
        'boot_seconds': boot_seconds,
        'delete_seconds': 0.2,
    }
    if detector == 'gossip':
        params = gossip_params.with_interval(probe_interval)
        settings.setdefault('knowmon', {}).update(
            failure_detector='gossip',
            gossip_probe_interval=params.probe_interval,
            gossip_probe_timeout=params.probe_timeout,
            gossip_leader_election=leader_election,
        )
    return settings


def run(
    sites: int,
    trials: int,
    appliances: int = 6,
    boot_seconds: float = 1.0,
    profile: str = 'lan',
    detector: str = 'heartbeat',
    probe_interval: float = gossip_params.Params.probe_interval,
    leader_election: bool = False,
) -> dict[str, Any]:
    root = tempfile.mkdtemp(prefix='sodos-failover-')
    voters = min(sites, 3) if sites < 5 else 5
    if voters == 2:
        voters = 1
    heal = 60.0 if profile == 'lan' else 180.0
    client = None
    results: dict[str, list[float]] = {case: [] for case in CASES}
    try:
        with federation.LocalFederation(
            root,
            voter_count=voters,
            settings=profile_settings(
                profile,
                boot_seconds,
                detector,
                probe_interval,
                leader_election,
            ),
        ) as fed:
            log('starting %d sites (%d voters)' % (sites, voters))
            start_sites(fed, sites, voters, 2 * heal)
            # A hundred sites that just formed keep a loaded machine busy:
            # the client may take minutes to catch up.
            client = fed.client_member(patience=2 * heal)
            members = setup_appliances(client, appliances, 2 * heal)
            log('%d appliance members ACTIVE' % members)
            bench = Trials(fed, client, voters, heal)
            for trial in range(trials):
                for case, measure, what in (
                    (CASES[0], bench.leader_loss, 'leader loss -> write'),
                    (
                        CASES[1],
                        lambda: bench.leader_loss(freeze=True),
                        'leader frozen -> write',
                    ),
                    (CASES[2], bench.site_down, 'site loss -> marked down'),
                    (
                        CASES[3],
                        lambda: bench.site_loss(members),
                        'site loss -> its members ACTIVE elsewhere',
                    ),
                ):
                    results[case].append(measure())
                    log(
                        '%d sites, trial %d: %s in %.2f s'
                        % (sites, trial + 1, what, results[case][-1])
                    )
            settings = fed.settings
    finally:
        if client is not None:
            client.stop()
        shutil.rmtree(root, ignore_errors=True)
    report: dict[str, Any] = {
        'sites': sites,
        'voters': voters,
        'trials': trials,
        'profile': profile,
        'detector': detector,
        'gossip_leader_election': leader_election,
    }
    for case in CASES:
        report[case] = round(statistics.median(results[case]), 3)
        report[case + '_max'] = round(max(results[case]), 3)
    report.update(
        appliance_members=2 * appliances,
        boot_seconds=boot_seconds,
        settings=settings,
    )
    return report


def compare(runs: list[dict[str, Any]], profile: str) -> dict[str, Any]:
    """Several sizes of one run: each, and each case over the smallest."""
    smallest = runs[0]
    return {
        'sites': [r['sites'] for r in runs],
        'profile': profile,
        'trials': {str(r['sites']): r['trials'] for r in runs},
        'by_sites': {str(r['sites']): r for r in runs},
        'ratio_to_smallest': {
            case: {
                str(r['sites']): round(r[case] / smallest[case], 3)
                for r in runs[1:]
            }
            for case in CASES
        },
    }


def sizes(value: str) -> list[int]:
    try:
        found = sorted({int(v) for v in value.split(',') if v.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(
            'expected site counts separated by commas, e.g. 3,10,100'
        ) from None
    if not found or found[0] < 3:
        raise argparse.ArgumentTypeError(
            'every size needs at least 3 sites (spread 2 after a loss)'
        )
    return found


def main() -> int:
    # Stopped by a signal, it still stops its sites (LocalFederation's
    # exit): a hundred orphaned sites would hold the machine.
    _child.stop_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('--sites', type=sizes, default=[3])
    parser.add_argument('--trials', type=int, default=5)
    parser.add_argument(
        '--large-trials',
        type=int,
        default=2,
        help='trials with %d sites or more' % LARGE,
    )
    parser.add_argument('--appliances', type=int, default=6)
    parser.add_argument('--boot-seconds', type=float, default=1.0)
    parser.add_argument(
        '--profile', choices=('auto', 'lan', 'wan'), default='auto'
    )
    parser.add_argument(
        '--detector', choices=('heartbeat', 'gossip'), default='heartbeat'
    )
    parser.add_argument(
        '--gossip-probe-interval',
        type=float,
        default=gossip_params.Params.probe_interval,
        help='with --detector gossip; the probe timeout is scaled with it '
        'as the defaults are',
    )
    parser.add_argument(
        '--gossip-leader-election',
        action='store_true',
        help='with --detector gossip: a voter stands for election once '
        'the gossip confirms the leader dead ([knowmon]'
        'gossip_leader_election)',
    )
    args = parser.parse_args()
    if args.gossip_leader_election and args.detector != 'gossip':
        parser.error('--gossip-leader-election needs --detector gossip')
    if args.trials < 1 or args.large_trials < 1:
        parser.error('--trials and --large-trials must be at least 1')
    profile = args.profile
    if profile == 'auto':
        profile = 'wan' if args.sites[-1] >= LARGE else 'lan'
    logging.basicConfig(level=logging.WARNING)
    runs = []
    for count in args.sites:
        trials = args.trials
        if count >= LARGE:
            trials = min(trials, args.large_trials)
        runs.append(
            run(
                count,
                trials,
                args.appliances,
                args.boot_seconds,
                profile,
                args.detector,
                args.gossip_probe_interval,
                args.gossip_leader_election,
            )
        )
        log(json.dumps(runs[-1], sort_keys=True))
    result = runs[0] if len(runs) == 1 else compare(runs, profile)
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == '__main__':
    sys.exit(main())
