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

"""How far one leader carries read-only members: N up to 1000.

    python benchmarks/scale_members.py [--members 100,250,500,1000]
        [--per-host 125] [--rate 2] [--seconds 20] [--victims 2]
        [--gossip-members 100] [--gossip-per-host 25]
        [--profile wan|lan] [--quick]

Five voters, each alone in its process (the leader's process then holds
the leader only), and N read-only KB members: real Raft over TCP on
127.0.0.1, sodos's SyncObj and KB consumer, many members a process
(``--per-host``) so that N reaches 1000 on two cores (no Exec, no
AnalysePlan; see benchmarks/_members_host.py). The members grow to each
N in turn; at each:

* a writer commits ``--rate`` entries a second on the leader for
  ``--seconds``; ``leader_cpu_pct`` is the leader process's CPU (of one
  core, from /proc/<pid>/stat) over that window, ``cpu_per_member_pct``
  that divided by N;
* ``lag_p50_s`` / ``lag_p99_s``: from an entry applied on the leader to
  the same entry applied on each member (each stamps it; one machine,
  one clock); ``missing``: (member, entry) pairs never applied;
* ``detect_s``: a process holding ``--victims`` members is SIGKILLed;
  seconds until the gossip (sodos.knowmon.gossip, its default knobs) at
  the other members holds every one of them dead: the median over those
  members, ``detect_s_max`` the last of them. ``--gossip-members`` run the
  gossip: the victims, and watchers in processes of their own,
  ``--gossip-per-host`` at most each (the gossip of all 1,000 members does
  not fit on two cores beside their Raft).

The last line is one JSON object: the largest N's numbers and the
``curve`` of every N. ``load`` is the machine's 1-minute load average at
each point: other work on the machine shows in every number here.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from typing import Any

import _child
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from sodos.sim import ports  # noqa: E402

HOST = os.path.join(HERE, '_members_host.py')
EDGE_100 = os.path.join(ROOT, 'examples', 'edge-100.yaml')
VOTERS = 5
PASSWORD = 'benchmark-password'
CLK_TCK = os.sysconf('SC_CLK_TCK')


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


Host = _child.Child
HostError = _child.ChildError


def spawn(name: str, root: str, argv: list[str], raft: dict[str, Any]) -> Host:
    """One process of members (benchmarks/_members_host.py)."""
    return _child.Child(
        name,
        root,
        HOST,
        argv + ['--password', PASSWORD, '--raft', json.dumps(raft)],
    )


def cpu_seconds(pid: int) -> float:
    with open('/proc/%d/stat' % pid, encoding='ascii') as f:
        # Fields after the command name, which may hold spaces.
        fields = f.read().rpartition(')')[2].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


class Bench:
    def __init__(self, args: argparse.Namespace, root: str) -> None:
        self.args = args
        self.root = root
        self.voters: list[Host] = []
        self.hosts: list[Host] = []
        self.names: dict[Host, list[str]] = {}
        self.addresses: dict[str, list[Any]] = {}
        self.count = 0
        self.started = 0
        self.peers: list[str] = []

    # -- forming ------------------------------------------------------------

    def start_voters(self) -> Host:
        self.peers = [ports.free_address() for _ in range(VOTERS)]
        for i, address in enumerate(self.peers):
            self.voters.append(
                spawn(
                    'voter-%d' % i,
                    self.root,
                    ['voter', '--address', address]
                    + ['--peers', ','.join(self.peers)],
                    self.args.raft,
                )
            )
        for voter in self.voters:
            voter.expect(60)
        return self.leader(60)

    def leader(self, timeout: float) -> Host:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for voter in self.voters:
                if voter.request('status')['is_leader']:
                    return voter
            time.sleep(0.2)
        raise HostError('no leader within %.0f s' % timeout)

    def add_host(
        self, size: int, kb: bool = True, gossip: bool = False
    ) -> Host:
        """A process of ``size`` members: KB members, gossip members or
        both (the victims: they are killed, the others time it)."""
        index = self.started
        self.started += 1
        names = ['m%d-%d' % (index, i) for i in range(size)]
        host = spawn(
            'host-%d' % index,
            self.root,
            ['members', '--peers', ','.join(self.peers)]
            + ['--names', ','.join(names)]
            + ['--kb', str(size if kb else 0)]
            + ['--gossip', str(size if gossip else 0)],
            self.args.raft,
        )
        host.expect(120)
        self.hosts.append(host)
        self.names[host] = names
        self.addresses.update(host.request('gossip_addresses'))
        if kb:
            self.count += size
        return host

    def start_gossip(self) -> None:
        """The gossip's watchers, in processes of their own: beside the
        KB members, they would compete with them for the same thread;
        and ``--gossip-per-host`` at most a process, as each site's
        gossip has a thread of its own on a real federation."""
        watchers = self.args.gossip_members - self.args.victims
        while watchers > 0:
            size = min(self.args.gossip_per_host, watchers)
            self.add_host(size, kb=False, gossip=True)
            watchers -= size

    def grow(self, target: int, leader: Host) -> Host:
        """Reach ``target`` members, the last process the victims'."""
        victims = self.args.victims
        while self.count < target - victims:
            left = target - victims - self.count
            self.add_host(min(self.args.per_host, left))
        victim = self.add_host(target - self.count, gossip=True)
        for host in self.hosts:
            host.request('gossip_members', addresses=self.addresses)
        deadline = time.monotonic() + self.args.connect_timeout
        while leader.request('status')['readonly'] < target:
            if time.monotonic() > deadline:
                # Measured all the same: the point says how many were.
                log(
                    'the leader has %d of %d members connected'
                    % (leader.request('status')['readonly'], target)
                )
                break
            time.sleep(0.5)
        return victim

    # -- measuring ----------------------------------------------------------

    def measure(self, target: int, leader: Host) -> dict[str, Any]:
        victim = self.grow(target, leader)
        log('%d members started; settling' % target)
        time.sleep(self.args.settle)
        connected = leader.request('status')['readonly']
        pid = leader.proc.pid
        cpu0, wall0 = cpu_seconds(pid), time.monotonic()
        written = leader.request(
            'write',
            timeout=self.args.seconds + 60,
            rate=self.args.rate,
            seconds=self.args.seconds,
        )
        cpu1, wall1 = cpu_seconds(pid), time.monotonic()
        cpu_pct = 100.0 * (cpu1 - cpu0) / (wall1 - wall0)
        time.sleep(2.0)  # the last entries reach the members
        lags: list[float] = []
        missing = 0
        for host in self.hosts:
            found = host.request('lags', committed=written['stamps'])
            lags.extend(found['lags'])
            missing += found['missing']
        detect = self.detect(victim)
        point = {
            'members': target,
            'connected': connected,
            'hosts': len(self.hosts),
            'leader_cpu_pct': round(cpu_pct, 1),
            'cpu_per_member_pct': round(cpu_pct / target, 4),
            'entries': written['sent'],
            'failed_writes': written['failed'],
            'lag_p50_s': round(statistics.median(lags), 3) if lags else None,
            'lag_p99_s': round(percentile(lags, 0.99), 3) if lags else None,
            'missing': missing,
            **detect,
            'load': round(os.getloadavg()[0], 2),
        }
        log(json.dumps(point, sort_keys=True))
        return point

    def detect(self, victim: Host) -> dict[str, Any]:
        victims = self.names.pop(victim)
        self.hosts.remove(victim)
        for host in self.hosts:
            host.request('watch', victims=victims)
        killed = time.time()
        victim.kill()
        victim.stop()
        for name in victims:
            self.addresses.pop(name)
        self.count -= len(victims)
        watchers = len(self.addresses)
        deadline = time.monotonic() + self.args.detect_timeout
        seen: dict[str, float] = {}
        false_dead: set[tuple[str, str]] = set()
        while time.monotonic() < deadline:
            seen = {}
            for host in self.hosts:
                found = host.request('seen_dead')
                seen.update(found['at'])
                false_dead.update(tuple(pair) for pair in found['false_dead'])
            if len(seen) >= watchers:
                break
            time.sleep(0.5)
        for host in self.hosts:
            # The victims leave the member list, as a site that left would.
            host.request('gossip_members', addresses=self.addresses)
        times = sorted(at - killed for at in seen.values())
        return {
            'detect_s': round(statistics.median(times), 2) if times else None,
            'detect_s_max': round(times[-1], 2) if times else None,
            'detect_seen_by': '%d/%d' % (len(times), watchers),
            # Live members some member held dead, since the start.
            'false_dead': len({member for _, member in false_dead}),
            'gossip_members': watchers + len(victims),
        }

    def stop(self) -> None:
        for host in self.hosts + self.voters:
            host.stop()


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--members',
        default='100,250,500,1000',
        help='the Ns, comma-separated, in increasing order',
    )
    parser.add_argument(
        '--profile',
        choices=('lan', 'wan'),
        default='wan',
        help='the [raft] timeouts: sodos defaults (lan) or those of '
        'examples/edge-100.yaml (wan, heartbeat every 0.25 s)',
    )
    parser.add_argument('--per-host', type=int, default=125)
    parser.add_argument('--rate', type=float, default=2.0)
    parser.add_argument('--seconds', type=float, default=20.0)
    parser.add_argument('--settle', type=float, default=5.0)
    parser.add_argument('--victims', type=int, default=2)
    parser.add_argument(
        '--gossip-members',
        type=int,
        default=100,
        help='members that run the gossip (the victims among them)',
    )
    parser.add_argument(
        '--gossip-per-host',
        type=int,
        default=25,
        help='gossip watchers a process (one thread drives them all)',
    )
    parser.add_argument('--detect-timeout', type=float, default=60.0)
    parser.add_argument(
        '--connect-timeout',
        type=float,
        default=600.0,
        help='seconds to wait for the members to reach the leader',
    )
    parser.add_argument(
        '--quick',
        action='store_true',
        help='a smoke run: 10 and 20 members, 3 s of writes, 10 gossiping',
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.members, args.seconds, args.settle = '10,20', 3.0, 2.0
        args.gossip_members = 10
    try:
        args.sizes = [int(n) for n in args.members.split(',')]
    except ValueError:
        parser.error('--members: %r is not a list of integers' % args.members)
    if args.sizes != sorted(set(args.sizes)):
        parser.error('--members must increase: %s' % args.members)
    if args.victims < 1 or args.sizes[0] < args.victims + 2:
        parser.error(
            '--victims must be at least 1 and each N at least --victims + 2'
        )
    args.raft = {}
    if args.profile == 'wan':
        with open(EDGE_100, encoding='utf-8') as f:
            args.raft = yaml.safe_load(f)['settings']['raft']
    if args.gossip_members < args.victims + 2:
        parser.error('--gossip-members must be at least --victims + 2')
    if (
        min(args.per_host, args.gossip_per_host) < 1
        or min(args.rate, args.seconds) <= 0
    ):
        parser.error(
            '--per-host, --gossip-per-host, --rate and --seconds must be '
            'positive'
        )
    return args


def main(argv: list[str]) -> int:
    args = parse(argv)
    # Stopped by a signal, it still stops its processes (finally below).
    _child.stop_on_sigterm()
    curve = []
    with tempfile.TemporaryDirectory(prefix='sodos-scale-members-') as root:
        bench = Bench(args, root)
        try:
            leader = bench.start_voters()
            bench.start_gossip()
            log('leader: %s (pid %d)' % (leader.name, leader.proc.pid))
            for target in args.sizes:
                curve.append(bench.measure(target, leader))
        finally:
            bench.stop()
    last = curve[-1]
    print(
        json.dumps(
            {
                'members': last['members'],
                'leader_cpu_pct': last['leader_cpu_pct'],
                'lag_p50_s': last['lag_p50_s'],
                'lag_p99_s': last['lag_p99_s'],
                'detect_s': last['detect_s'],
                'false_dead': last['false_dead'],
                'rate': args.rate,
                'profile': args.profile,
                'raft': args.raft,
                'per_host': args.per_host,
                'gossip_per_host': args.gossip_per_host,
                'curve': curve,
            },
            sort_keys=True,
        )
    )
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
