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

"""Run the chaos suite once: a federation of real sites on loopback, a
recorded workload, faults from a seed, then every fault healed and the
history checked.

    python -m tests.chaos.run --seed 1 --faults 10 --sites 5 --html run.html

Progress goes to stderr; the last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from typing import Any

from sodos.kb.raft import control
from sodos.sim import federation
from tests.chaos import appliances
from tests.chaos import checker
from tests.chaos import clock
from tests.chaos import fault_kinds
from tests.chaos import html
from tests.chaos import nemesis
from tests.chaos import network
from tests.chaos import raft_status
from tests.chaos import workload


def log(message: str) -> None:
    print(
        '[chaos %s] %s' % (time.strftime('%H:%M:%S'), message), file=sys.stderr
    )


def form(fed: federation.LocalFederation, count: int) -> None:
    fed.add_site()
    fed.wait(lambda r: r['leader'], 60, 'a leader')
    for _ in range(count - 1):
        fed.add_site()
    fed.wait(
        lambda r: (
            len(r['members']) == count
            and sum(v['connected'] for v in r['voters']) == fed.voter_count
            and all(m['status'] == 'up' for m in r['members'])
        ),
        # Five sites with Exec start in minutes on a loaded machine.
        240,
        '%d sites up' % count,
    )


def final_values(fed: Any, keys: list[str]) -> dict[str, dict[str, Any]]:
    """Each running site's register values, from its local KB."""
    values = {}
    for name, site in fed.sites.items():
        try:
            sites = control.call(site.address, fed.key, 'status')['sites']
        except Exception as exc:  # reported, not raised: a figure
            log('final read of %s failed: %s' % (name, exc))
            continue
        values[name] = {k: workload.value_of(sites, k) for k in keys}
    return values


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.monotonic()
    if args.network == 'auto':
        args.network = 'loopback' if network.available() else 'netns'
    if args.network == 'netns' and network.available():
        raise SystemExit('--network netns: %s' % network.available())
    asked = tuple(args.kinds.split(',')) if args.kinds is not None else None
    faketime = skew_library(asked)
    try:
        kinds = fault_kinds.check_kinds(
            asked, args.network == 'netns', skew=faketime is not None
        )
    except ValueError as exc:
        raise SystemExit('--kinds: %s' % exc) from None
    root = args.root or tempfile.mkdtemp(prefix='sodos-chaos-')
    log('federation of %d sites in %s' % (args.sites, root))
    roles = tuple(args.roles.split(','))
    options: dict[str, Any] = dict(voter_count=args.sites, roles=roles)
    # Appliances need Exec (on the simulator driver) and AnalysePlan.
    creating = args.appliances > 0 and {'exec', 'analyseplan'} <= set(roles)
    if creating:
        options['settings'] = appliances.SETTINGS
    if args.network == 'netns':
        fed: Any = network.NetnsFederation(root, **options)
        log('sites in network namespaces, on %s0/24' % fed.network.prefix)
    else:
        fed = federation.LocalFederation(root, **options)
    member = None
    summary: dict[str, Any] | None = None
    try:
        form(fed, args.sites)
        member = fed.client_member()
        keys = sorted(fed.sites)
        deadline = time.monotonic() + 60
        while not set(keys) <= set(member.read('sites')):
            if time.monotonic() > deadline:
                raise AssertionError('sites not registered: %s' % keys)
            time.sleep(0.2)
        # One run per process: the module default is this run's.
        workload.TIMEOUT = args.op_timeout
        history = workload.History()
        workers = workload.Workers(
            member,
            history,
            keys,
            args.seed,
            count=args.clients,
            local_reads=fed if args.reads == 'local' else None,
        )
        faults = nemesis.Nemesis(
            fed,
            history,
            args.seed,
            args.faults,
            args.interval,
            log=log,
            hold=args.hold,
            kinds=kinds,
            faketime=faketime,
        )
        creator = appliances.Creator(
            member,
            args.appliances if creating else 0,
            args.appliance_every,
            args.op_timeout,
        )
        log('workload and %d faults, seed %d' % (args.faults, args.seed))
        workers.start()
        creator.start()
        faults.start()
        faults.done.wait(args.duration)
        faults.stop()
        creator.stop()
        faults.heal_all()
        log('healed; waiting for the voters to catch up')
        behind = raft_status.voters_behind(fed, 90)
        # Then the read-only members (a site re-syncing after a bit flip
        # or a churn), before their values are compared.
        members_behind = raft_status.voters_behind(
            fed, 90, roles=('voter', 'readonly', 'starting')
        )
        # Sites that held copies placed elsewhere delete them once back.
        twice = (
            appliances.settle(member, checker.members_running_twice, 90)
            if creating
            else []
        )
        not_running = (
            appliances.settle(
                member,
                lambda s: checker.members_not_running(
                    s, creator.acked, appliances.MEMBERS
                ),
                30,
            )
            if creating
            else []
        )
        # A few more ops on the healed federation, then the final reads.
        workers.stopping.wait(2.0)
        workers.stop()
        for key in keys:
            workload.read(member, history, -1, key)
        ops = history.finished()
        last = {}
        for op in ops:
            if op['process'] == -1 and op['type'] == 'ok':
                last[op['key']] = op['value']
        per_site = final_values(fed, keys)
        diverged = sorted(
            name for name, values in per_site.items() if values != last
        )
        restarted = [f for f in faults.record if 'recovered' in f]
        waits = [
            f['recovered'] - f['end']
            for f in restarted
            if f['recovered'] is not None
        ]
        log('checking %d operations' % len(ops))
        linear = checker.check_linearizable(ops, args.bound)
        lost = checker.acked_lost(ops, last)
        dups = checker.duplicates(ops)
        summary = {
            'seed': args.seed,
            'reads': args.reads,
            'clients': args.clients,
            'sites': args.sites,
            'network': args.network,
            'faults': len(faults.record),
            'fault_kinds': {
                k: sum(f['kind'] == k for f in faults.record)
                for k in sorted({f['kind'] for f in faults.record})
            },
            'operations': sum(1 for o in ops if o['process'] != -1),
            'ok': sum(1 for o in ops if o['type'] == 'ok'),
            'info': sum(1 for o in ops if o['type'] == 'info'),
            'fail': sum(1 for o in ops if o['type'] == 'fail'),
            'linearizability_violations': len(linear['violations']),
            'violating_keys': linear['violations'],
            'linearizability_unknown': len(linear['unknown']),
            'acked_lost': len(lost),
            'duplicates': len(dups),
            'voters_behind_after_heal': len(behind),
            'members_behind_after_heal': len(members_behind),
            'sites_diverged_after_heal': len(diverged),
            'appliances': len(creator.acked),
            'members_running_twice': len(twice),
            # Appliances not all of whose members run (not a failure:
            # the sites may lack room, or a placement be still due).
            'appliances_not_running': len(not_running),
            'final_reads': len(last),
            # Seconds from a restart until the site was a voter in
            # quorum again (nemesis.RECOVERY at most).
            'recovery_s_max': round(max(waits, default=0.0), 1),
            'restarts_not_recovered': len(restarted) - len(waits),
            'duration_s': round(time.monotonic() - started, 1),
        }
        if lost or dups or behind or diverged or twice:
            log(
                'lost %s dups %s behind %s diverged %s running twice %s'
                % (lost, dups, behind, per_site if diverged else [], twice)
            )
        if args.html:
            with open(args.html, 'w', encoding='utf-8') as f:
                f.write(
                    html.render(
                        ops, faults.record, summary, linear['violations']
                    )
                )
            log('history page: %s' % args.html)
        if args.history:
            with open(args.history, 'w', encoding='utf-8') as f:
                json.dump({'ops': ops, 'faults': faults.record}, f)
        return summary
    finally:
        if member is not None:
            member.stop()
        # All told to stop at once: one by one, each takes seconds.
        for site in fed.sites.values():
            site.thaw()
            site.signal(signal.SIGTERM)
        fed.__exit__(None, None, None)
        # A temporary federation is kept only to read its logs after a
        # finding; one chosen with --root is always kept.
        if not args.root and summary is not None and not failed(summary):
            shutil.rmtree(root, ignore_errors=True)
        elif not args.root:
            log('sites and their logs kept in %s' % root)


def skew_library(asked: tuple[str, ...] | None) -> str | None:
    """libfaketime's path if skew may be drawn (installed if need be),
    or None. Skew asked for by name, or any run under CI, fails when it
    cannot be had; otherwise the run goes on without it."""
    if asked is not None and fault_kinds.SKEW not in asked:
        return None
    try:
        return clock.ensure()
    except clock.Unavailable as exc:
        if asked is not None or os.environ.get('CI') == 'true':
            raise SystemExit('skew: %s' % exc) from None
        log('%s; no skew in this run' % exc)
        return None


FIGURES = (
    'linearizability_violations',
    'acked_lost',
    'duplicates',
    'voters_behind_after_heal',
    'sites_diverged_after_heal',
    'members_running_twice',
)


def failed(summary: dict[str, Any]) -> bool:
    return any(summary[k] for k in FIGURES)


def _hold(text: str) -> tuple[float, float]:
    try:
        low, high = (float(part) for part in text.split(','))
    except ValueError:
        raise argparse.ArgumentTypeError(
            'expected MIN,MAX in seconds, such as 2,6: %r' % text
        ) from None
    if not 0 < low <= high or high == float('inf'):
        raise argparse.ArgumentTypeError(
            'expected 0 < MIN <= MAX, finite: %r' % text
        )
    return low, high


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--faults', type=int, default=10)
    p.add_argument('--sites', type=int, default=5)
    p.add_argument(
        '--duration',
        type=float,
        default=None,
        help='at most this many seconds of faults',
    )
    p.add_argument(
        '--interval',
        type=float,
        default=3.0,
        help='mean seconds between faults',
    )
    p.add_argument(
        '--hold',
        type=_hold,
        default=(2.0, 6.0),
        help='the shortest and longest seconds a fault lasts, as MIN,MAX '
        '(default 2,6; a skewed clock lasts four times as long)',
    )
    p.add_argument(
        '--roles',
        default='knowmon,exec,analyseplan',
        help='roles of every site (comma separated); appliances need '
        'exec and analyseplan',
    )
    p.add_argument(
        '--appliances',
        type=int,
        default=6,
        help='appliances (of %d members) to create during the run, whose '
        'members must run once each after the heal' % appliances.MEMBERS,
    )
    p.add_argument(
        '--appliance-every',
        type=float,
        default=3.0,
        help='seconds between two appliance creates',
    )
    p.add_argument(
        '--bound',
        type=int,
        default=200_000,
        help='states the search explores per key at most',
    )
    p.add_argument(
        '--clients', type=int, default=3, help='concurrent client threads'
    )
    p.add_argument(
        '--op-timeout',
        type=float,
        default=workload.TIMEOUT,
        help='seconds an op waits for its commit (then: unknown)',
    )
    p.add_argument(
        '--reads',
        choices=('barrier', 'local'),
        default='barrier',
        help="barrier: linearizable reads; local: any site's local KB, "
        'which the checker must find stale (a check of the checker)',
    )
    p.add_argument(
        '--network',
        choices=('auto', 'netns', 'loopback'),
        default='auto',
        help='netns: each site in a network namespace of its own, '
        'partitions possible (needs root and iproute2); loopback: all on '
        '127.0.0.1, no partitions; auto: netns where possible',
    )
    p.add_argument(
        '--kinds',
        help='the fault kinds to draw from, comma separated (default: '
        'all that the network allows: %s)' % ', '.join(fault_kinds.KINDS),
    )
    p.add_argument('--root', help='where the sites live (default: a temp dir)')
    p.add_argument('--html', help='write the history page here')
    p.add_argument('--history', help='write the history as JSON here')
    return p


def main(argv: list[str] | None = None) -> int:
    # Stopped from outside (a test's timeout), the sites, namespaces and
    # bridge are still taken down: SIGTERM unwinds like an exception.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit('terminated'))
    summary = run(parser().parse_args(argv))
    print(json.dumps(summary, sort_keys=True))
    return 1 if failed(summary) else 0


if __name__ == '__main__':
    sys.exit(main())
