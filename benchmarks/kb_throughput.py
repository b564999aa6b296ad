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

"""KB write throughput and commit latency: sodos against raw pysyncobj.

    python benchmarks/kb_throughput.py [--quick] [--rounds 2]
        [--sync 200] [--pipelined 20000] [--window 1000] [--leader]

Both cases run the same cluster shape: 3 voters, each its own process on
127.0.0.1, with the SyncObjConf sodos builds from its default settings
(password, journal and dump files, entries sent as they arrive).

* ``raw``: a bare pysyncobj ``SyncObj`` per process whose consumer stores
  a dict (like ``ReplDict.set``) as big as a sodos command; pysyncobj
  ticks itself (``autoTick=True``, every 0.05 s, as often as sodos's tick
  thread does).
* ``sodos``: a ``RaftBackend`` per process (a bootstrapped site and two
  that join and are promoted to voters); the client makes
  ``monitoring.report`` commands for its own site and submits them. Its
  journal is not synced (``[raft]fsync = off``), like pysyncobj's: the
  ``ratio`` compares like with like.
* ``sodos_batch``, ``sodos_always`` (``--fsync``, both by default): the
  same with ``[raft]fsync = batch`` (sodos's default) and ``always``;
  their ratios to ``raw`` are ``ratio_fsync_batch`` and
  ``ratio_fsync_always``: what durability through a power loss costs.

The client runs inside a follower's process (``--leader``: also inside
the leader's). Each case measures sequential synchronous writes (commit
latency, ops/s) and pipelined asynchronous writes with a bounded window
of outstanding ones (ops/s, latency). A fresh cluster is started for every
case, and the cases alternate (raw, sodos, raw, sodos, ...) so that the
medians over ``--rounds`` see the same machine noise.

Progress goes to stderr; the last line of stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from typing import Any

import _child

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from sodos.sim import certs  # noqa: E402
from sodos.sim import ports  # noqa: E402

NODE = os.path.join(HERE, '_kbnode.py')
VOTERS = 3
PASSWORD = 'benchmark-password'
FSYNC_POLICIES = ('batch', 'always')
FORM_TIMEOUT = 90.0
WARMUP = {'sync': 5, 'pipelined': 500, 'window': 100}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


NodeError = _child.ChildError
Node = _child.Child


def spawn(
    mode: str, name: str, address: str, root: str, extra: list[str]
) -> Node:
    """One member process (benchmarks/_kbnode.py)."""
    return _child.Child(
        name,
        root,
        NODE,
        [
            '--mode',
            mode,
            '--name',
            name,
            '--address',
            address,
            '--password',
            PASSWORD,
            '--ca-dir',
            os.path.join(root, 'ca'),
            '--voter-count',
            str(VOTERS),
            '--data-dir',
            os.path.join(root, name),
        ]
        + extra,
    )


class Cluster:
    """Three voters of one kind, each in its own process."""

    def __init__(self, mode: str, root: str) -> None:
        self.mode = mode
        self.root = root
        self.nodes: list[Node] = []
        # Made once, before the members start: each then issues its own
        # certificate from it.
        certs.LocalCA(os.path.join(root, 'ca'))

    def _addresses(self) -> list[str]:
        found: list[str] = []
        while len(found) < VOTERS:
            address = ports.free_address()
            if address not in found:
                found.append(address)
        return found

    def start(self) -> None:
        addresses = self._addresses()
        names = ['site-%d' % i for i in range(VOTERS)]
        # sodos, sodos_batch, sodos_always: [raft]fsync off, batch, always
        fsync = ['--fsync', self.mode.partition('_')[2] or 'off']
        if self.mode == 'raw':
            for name, address in zip(names, addresses, strict=True):
                peers = ','.join(a for a in addresses if a != address)
                self.nodes.append(
                    spawn('raw', name, address, self.root, ['--peers', peers])
                )
        else:
            # The first site bootstraps; the others join through it and
            # its leader promotes them to voters.
            first = spawn('sodos', names[0], addresses[0], self.root, fsync)
            self.nodes.append(first)
            first.expect(FORM_TIMEOUT)
            for name, address in zip(names[1:], addresses[1:], strict=True):
                self.nodes.append(
                    spawn(
                        'sodos',
                        name,
                        address,
                        self.root,
                        ['--join', addresses[0]] + fsync,
                    )
                )
        for node in self.nodes if self.mode == 'raw' else self.nodes[1:]:
            node.expect(FORM_TIMEOUT)

    def wait_formed(self, timeout: float = FORM_TIMEOUT) -> dict[str, Any]:
        """Wait until every member is a voter that follows one leader."""
        deadline = time.monotonic() + timeout
        while True:
            status = {n.name: n.request('status', 30) for n in self.nodes}
            leaders = {s['leader'] for s in status.values()}
            if (
                all(s['voter'] and s['ready'] for s in status.values())
                and all(s['voters'] == VOTERS for s in status.values())
                and len(leaders) == 1
                and None not in leaders
                and sum(s['is_leader'] for s in status.values()) == 1
            ):
                return status
            if time.monotonic() > deadline:
                raise NodeError('the cluster did not form: %s' % status)
            time.sleep(0.2)

    def close(self) -> None:
        for node in self.nodes:
            node.ask_stop()
        for node in self.nodes:
            node.reap(20)

    def dump_logs(self) -> None:
        for node in self.nodes:
            log(
                '---- log of %s (%s) ----\n%s'
                % (node.name, self.mode, node.log_tail())
            )


def measure(node: Node, args: argparse.Namespace) -> dict[str, Any]:
    sync = node.request('sync', 60 + 5 * args.sync, n=args.sync)
    pipelined = node.request(
        'pipelined',
        # The member itself reports a stall after 75 s without progress.
        300 + args.pipelined / 10,
        n=args.pipelined,
        window=args.window,
    )
    return {'sync': sync, 'pipelined': pipelined}


def describe(what: str, result: dict[str, Any]) -> str:
    return (
        '%s: %d writes in %.1f s, %.1f ops/s, p50 %.1f ms, p99 %.1f ms%s%s'
        % (
            what,
            result['n'],
            result['elapsed_s'],
            result['ops_s'],
            result['p50_ms'],
            result['p99_ms'],
            ', %d failed' % result['errors'] if result['errors'] else '',
            ', %d lost (never answered)' % result['lost']
            if result['lost']
            else '',
        )
    )


def run_case(
    mode: str, root: str, args: argparse.Namespace, label: str
) -> dict[str, Any]:
    cluster = Cluster(mode, tempfile.mkdtemp(prefix=mode + '-', dir=root))
    started = time.monotonic()
    try:
        cluster.start()
        status = cluster.wait_formed()
        log(
            '%s %s: 3 voters up in %.1f s'
            % (label, mode, time.monotonic() - started)
        )
        by_name = {n.name: n for n in cluster.nodes}
        leader = next(by_name[k] for k, s in status.items() if s['is_leader'])
        follower = next(n for n in cluster.nodes if n is not leader)
        for node in cluster.nodes:
            node.request('sync', 60, n=WARMUP['sync'])
        follower.request(
            'pipelined', 120, n=WARMUP['pipelined'], window=WARMUP['window']
        )
        result: dict[str, Any] = {
            'mode': mode,
            'payload_bytes': follower.request('payload', 10)['bytes'],
        }
        result['follower'] = measure(follower, args)
        for kind in ('sync', 'pipelined'):
            log(
                '%s %s follower %s'
                % (label, mode, describe(kind, result['follower'][kind]))
            )
        if args.leader:
            result['leader'] = measure(leader, args)
            for kind in ('sync', 'pipelined'):
                log(
                    '%s %s leader %s'
                    % (label, mode, describe(kind, result['leader'][kind]))
                )
        return result
    except Exception:
        cluster.dump_logs()
        raise
    finally:
        cluster.close()


def median(runs: list[dict[str, Any]], *path: str) -> float:
    values = []
    for run in runs:
        value: Any = run
        for key in path:
            value = value[key]
        values.append(value)
    return round(statistics.median(values), 3)


def report(
    runs: list[dict[str, Any]], args: argparse.Namespace
) -> dict[str, Any]:
    out: dict[str, Any] = {
        'benchmark': 'kb_throughput',
        'shape': {
            'voters': VOTERS,
            'processes': VOTERS,
            'host': '127.0.0.1',
            'client': 'in a follower process'
            + (' and in the leader process' if args.leader else ''),
            'cpus': os.cpu_count(),
            'raw_tick': 'autoTick=True, autoTickPeriod 0.05 s',
            'sodos_tick': 'autoTick=False, doTick(0.05) in its tick thread',
            'append_entries': 'sent as they arrive (sodos default)',
            'persistence': 'journal + dump files, password set',
            'fsync': 'raw: none (pysyncobj); sodos: off, then per --fsync',
        },
        'rounds': args.rounds,
        'sync_writes': args.sync,
        'pipelined_writes': args.pipelined,
        'window': args.window,
    }
    where = ['follower'] + (['leader'] if args.leader else [])
    for mode in modes(args):
        mine = [r for r in runs if r['mode'] == mode]
        out['%s_payload_bytes' % mode] = median(mine, 'payload_bytes')
        for place in where:
            prefix = mode if place == 'follower' else '%s_leader' % mode
            out[prefix + '_ops_s'] = median(mine, place, 'pipelined', 'ops_s')
            out[prefix + '_pipelined_p50_ms'] = median(
                mine, place, 'pipelined', 'p50_ms'
            )
            out[prefix + '_pipelined_p99_ms'] = median(
                mine, place, 'pipelined', 'p99_ms'
            )
            out[prefix + '_sync_ops_s'] = median(mine, place, 'sync', 'ops_s')
            out[prefix + '_commit_p50_ms'] = median(
                mine, place, 'sync', 'p50_ms'
            )
            out[prefix + '_commit_p99_ms'] = median(
                mine, place, 'sync', 'p99_ms'
            )
            for what in ('errors', 'lost'):
                out[prefix + '_' + what] = sum(
                    r[place][k][what]
                    for r in mine
                    for k in ('sync', 'pipelined')
                )
    for place in where:
        suffix = '' if place == 'follower' else '_leader'
        out['ratio' + suffix] = round(
            out['sodos%s_ops_s' % suffix] / out['raw%s_ops_s' % suffix], 3
        )
        out['ratio_sync' + suffix] = round(
            out['sodos%s_sync_ops_s' % suffix]
            / out['raw%s_sync_ops_s' % suffix],
            3,
        )
        for policy in args.fsync:
            mode = 'sodos_' + policy
            out['ratio_fsync_%s%s' % (policy, suffix)] = round(
                out['%s%s_ops_s' % (mode, suffix)]
                / out['raw%s_ops_s' % suffix],
                3,
            )
            out['ratio_sync_fsync_%s%s' % (policy, suffix)] = round(
                out['%s%s_sync_ops_s' % (mode, suffix)]
                / out['raw%s_sync_ops_s' % suffix],
                3,
            )
    out['runs'] = [
        {
            'mode': r['mode'],
            **{
                '%s_%s_%s' % (place, kind, key): round(r[place][kind][key], 3)
                for place in where
                for kind in ('sync', 'pipelined')
                for key in ('ops_s', 'p50_ms', 'p99_ms')
            },
        }
        for r in runs
    ]
    return out


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='KB writes/s and commit latency, sodos vs raw pysyncobj'
    )
    parser.add_argument(
        '--rounds',
        type=int,
        default=2,
        help='raw+sodos pairs to run (default 2)',
    )
    parser.add_argument(
        '--sync',
        type=int,
        default=200,
        help='sequential synchronous writes (default 200)',
    )
    parser.add_argument(
        '--pipelined',
        type=int,
        default=20000,
        help='pipelined asynchronous writes (default 20000)',
    )
    parser.add_argument(
        '--window',
        type=int,
        default=1000,
        help='outstanding pipelined writes (default 1000)',
    )
    parser.add_argument(
        '--leader',
        action='store_true',
        help='also measure with the client on the leader',
    )
    parser.add_argument(
        '--fsync',
        type=lambda s: [p for p in s.split(',') if p],
        default=list(FSYNC_POLICIES),
        help='[raft]fsync policies to measure sodos with as well, besides '
        'off (default batch,always; an empty value for none)',
    )
    parser.add_argument(
        '--quick',
        action='store_true',
        help='a small run: 1 round, 20 sync, 2000 pipelined '
        'writes, window 200',
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.sync = 1, 20
        args.pipelined, args.window = 2000, 200
    for name in ('rounds', 'sync', 'pipelined', 'window'):
        if getattr(args, name) < 1:
            parser.error('--%s must be at least 1' % name)
    unknown = sorted(set(args.fsync) - set(FSYNC_POLICIES))
    if unknown:
        parser.error(
            '--fsync: %s not among %s'
            % (', '.join(unknown), ', '.join(FSYNC_POLICIES))
        )
    return args


def modes(args: argparse.Namespace) -> list[str]:
    """The cases of one round, in the order they run."""
    return ['raw', 'sodos'] + ['sodos_' + p for p in args.fsync]


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    _child.stop_on_sigterm()
    root = tempfile.mkdtemp(prefix='sodos-kb-bench-')
    runs = []
    try:
        for round_ in range(1, args.rounds + 1):
            for mode in modes(args):
                label = '[%d/%d]' % (round_, args.rounds)
                runs.append(run_case(mode, root, args, label))
    except KeyboardInterrupt:
        log('interrupted')
        return 130
    finally:
        shutil.rmtree(root, ignore_errors=True)
    result = report(runs, args)
    log(
        'pipelined: sodos %.0f ops/s, raw %.0f ops/s, ratio %.2f; '
        'sync: sodos %.1f ops/s, raw %.1f ops/s, ratio %.2f'
        % (
            result['sodos_ops_s'],
            result['raw_ops_s'],
            result['ratio'],
            result['sodos_sync_ops_s'],
            result['raw_sync_ops_s'],
            result['ratio_sync'],
        )
    )
    print(json.dumps(result, sort_keys=True), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
