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

"""Scale: a whole federation of site processes on one machine, measured.

    python benchmarks/scale.py [--sites 100] [--appliances-per-site 10]
        [--outage N] [--recover-after 60] [--keep]
        [--detector heartbeat|gossip] [--gossip-leader-election]

Plays ``examples/edge-100.yaml`` with sodos-sim's runner (its loops and
WAN-like timeouts for every size): 100 ``sodos-site`` processes in 10
regions, 1,000 appliances of two m1.tiny servers with spread 2, and an
outage of the region of the founding site (10 sites). That region holds
a voter whatever order the others join in (the voters are spread over
regions, and a swap never takes a region's last voter), and the leader
unless an election moved it. ``--sites N`` plays the same shape with N
sites, ``--appliances-per-site`` appliances per site and ``--outage``
sites (default N/10) failing together. ``--detector gossip`` has the
sites find failures by gossip ([knowmon]failure_detector) with the
shipped probe settings, and ``--gossip-leader-election`` has a voter
stand as soon as the gossip confirms its leader dead.

Measured: ``formed_s`` (start to every site up), ``converged_s`` (start
to every member ACTIVE), ``regional_outage_detect_s`` (SIGKILL of the
region to every one of its sites marked down), and
``regional_outage_recovery_s`` (to every member that was there ACTIVE
elsewhere), ``false_downs`` (times a site whose process ran was marked
down), through the loss of the failed region's voter; which voters
and whether the leader were in the failed region just before the outage
(``failed_region_voters``, ``failed_region_led``); and, sampled every
second with psutil, the peak RSS of one site process
(``rss_per_site_mb_max``) and of all of them at once
(``rss_total_mb``), their CPU time and the runner's own RSS. Progress
goes to stderr; the last line of stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from typing import Any

import psutil
import yaml

from sodos import exception
from sodos.sim import runner as runner_mod
from sodos.sim import scenario as scenario_mod

EDGE_100 = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    'examples',
    'edge-100.yaml',
)
MB = 1024.0 * 1024.0
# Seconds between two entries of the memory timeline.
TIMELINE_EVERY = 30


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def scaled(
    sites: int,
    per_site: int,
    outage: int,
    recover_after: float,
    detector: str = 'heartbeat',
    leader_election: bool = False,
) -> dict[str, Any]:
    """edge-100's scenario with ``sites`` sites: the other regions share
    ``sites - outage`` sites, the region that fails ``outage``; it joins
    first, with the founding site."""
    with open(EDGE_100, encoding='utf-8') as f:
        data = yaml.safe_load(f)
    data = copy.deepcopy(data)
    regions = data['sites']
    crashed = data['events'][0]['region']
    failing = next(e for e in regions if e['region'] == crashed)
    others = [e for e in regions if e is not failing]
    rest = sites - outage
    used = others[: max(1, min(len(others), rest))]
    entries = []
    for n, entry in enumerate(used):
        share = rest // len(used) + (1 if n < rest % len(used) else 0)
        if share:
            entries.append(dict(entry, count=share))
    # Sites join in this order, the first one founding the federation.
    entries.insert(0, dict(failing, count=outage))
    data['sites'] = entries
    data['name'] = 'edge-%d' % sites
    half = max(1, sites * per_site // 2)
    for app in data['appliances']:
        app['count'] = half
    data['voters'] = 5 if sites >= 5 else (3 if sites >= 3 else 1)
    if detector == 'gossip':
        data['settings']['knowmon'].update(
            failure_detector='gossip',
            gossip_leader_election=leader_election,
        )
    crash_at = data['events'][0]['at']
    data['events'][1]['at'] = crash_at + recover_after
    return data


class Watch(threading.Thread):
    """Peak RSS and CPU time of the site processes, every second."""

    def __init__(
        self, runner: runner_mod.Runner, failing: set[str] | None = None
    ) -> None:
        super().__init__(daemon=True)
        self.runner = runner
        # The sites of the region that fails, and the federation's report
        # last seen while they all ran: who voted and led there.
        self.failing = failing or set()
        self.before_outage: dict[str, Any] = {}
        self.stop_event = threading.Event()
        self.rss_max: dict[int, float] = {}
        self.cpu: dict[int, float] = {}
        self.total_max = 0.0
        self.own_max = 0.0
        self.procs: dict[int, psutil.Process] = {}
        self.journal_max = 0.0
        self.timeline: list[dict[str, Any]] = []
        self.breakdown: dict[str, Any] = {}

    def run(self) -> None:
        me = psutil.Process()
        started = time.monotonic()
        ticks = 0
        while not self.stop_event.wait(1.0):
            self.own_max = max(self.own_max, me.memory_info().rss / MB)
            fed = self.runner.fed
            if fed is None:
                continue
            rss_now = self._sample(list(fed.sites.values()))
            ticks += 1
            if ticks % 5 == 0:
                self._voters(fed)
            if rss_now and ticks % TIMELINE_EVERY == 0:
                self._mark(time.monotonic() - started, rss_now)

    def _sample(self, sites: list[Any]) -> dict[int, float]:
        total = 0.0
        rss_now: dict[int, float] = {}
        for site in sites:
            pid = site.pid
            if pid is None or not site.running:
                continue
            try:
                proc = self.procs.setdefault(pid, psutil.Process(pid))
                rss = proc.memory_info().rss / MB
                times = proc.cpu_times()
            except psutil.Error:
                continue
            total += rss
            rss_now[pid] = rss
            self.rss_max[pid] = max(self.rss_max.get(pid, 0.0), rss)
            self.cpu[pid] = times.user + times.system
            try:
                journal = os.path.getsize(
                    os.path.join(site.data_dir, 'journal')
                )
            except OSError:
                continue
            self.journal_max = max(self.journal_max, journal / MB)
        self.total_max = max(self.total_max, total)
        return rss_now

    def _voters(self, fed: Any) -> None:
        local = [fed.sites.get(name) for name in self.failing]
        if not local or not all(site and site.running for site in local):
            return
        try:
            report = fed.report()
        except exception.SodosError:
            return
        voting = {v.get('site') for v in report['voters']}
        self.before_outage = {
            'voters': sorted(voting & self.failing),
            'led': report.get('leader_site') in self.failing,
        }

    def _mark(self, t: float, rss_now: dict[int, float]) -> None:
        """Where the memory of the biggest site process goes, now."""
        values = sorted(rss_now.values())
        pid = max(rss_now, key=lambda p: rss_now[p])
        mark = {
            't': round(t),
            'rss_max_mb': round(values[-1], 1),
            'rss_median_mb': round(values[len(values) // 2], 1),
            'journal_max_mb': round(self.journal_max, 1),
        }
        try:
            full = self.procs[pid].memory_full_info()
            mark['biggest_uss_mb'] = round(full.uss / MB, 1)
            mark['biggest_shared_mb'] = round(full.shared / MB, 1)
        except (psutil.Error, AttributeError):
            pass
        self.timeline.append(mark)
        if values[-1] >= self.breakdown.get('rss_max_mb', 0.0):
            self.breakdown = mark


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('--sites', type=int, default=100)
    parser.add_argument('--appliances-per-site', type=int, default=10)
    parser.add_argument('--outage', type=int)
    parser.add_argument('--recover-after', type=float, default=60.0)
    parser.add_argument(
        '--keep', action='store_true', help='keep the sites and report'
    )
    parser.add_argument(
        '--detector', choices=('heartbeat', 'gossip'), default='heartbeat'
    )
    parser.add_argument(
        '--gossip-leader-election',
        action='store_true',
        help='with --detector gossip: [knowmon]gossip_leader_election',
    )
    args = parser.parse_args()
    if args.gossip_leader_election and args.detector != 'gossip':
        parser.error('--gossip-leader-election needs --detector gossip')
    outage = args.outage or max(1, args.sites // 10)
    if args.sites < 3 or not 1 <= outage <= args.sites - 2:
        parser.error('need --sites >= 3 and 2 sites left after the outage')
    data = scaled(
        args.sites,
        args.appliances_per_site,
        outage,
        args.recover_after,
        args.detector,
        args.gossip_leader_election,
    )
    sc = scenario_mod.parse(yaml.safe_dump(data), 'edge-%d' % args.sites)
    workdir = tempfile.mkdtemp(prefix='sodos-scale-')
    runner = runner_mod.Runner(sc, workdir, log, keep=args.keep)
    crashed = data['events'][0]['region']
    watch = Watch(runner, {s.name for s in sc.sites if s.region == crashed})

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    log(
        'scale: %d sites, %d appliances, outage of %d sites; work in %s'
        % (len(sc.sites), len(sc.appliances), outage, workdir)
    )
    started = time.monotonic()
    watch.start()
    try:
        report = runner.run()
    except KeyboardInterrupt:
        log('scale: interrupted; every site process was stopped')
        return 130
    except runner_mod.RunFailed as exc:
        log('scale: the federation did not come up: %s' % exc)
        return 2
    except exception.SodosError as exc:
        log('scale: the run failed: %s' % exc)
        return 2
    finally:
        watch.stop_event.set()
        watch.join()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    wall = time.monotonic() - started
    failure = report['failures'][0] if report['failures'] else {}
    back = report['recoveries'][0] if report['recoveries'] else {}
    cpu_total = sum(watch.cpu.values())
    result = {
        'sites': len(sc.sites),
        'appliances': len(sc.appliances),
        'members': report['members'],
        'outage_sites': outage,
        'failed_region': data['events'][0]['region'],
        'failed_region_voters': watch.before_outage.get('voters'),
        'failed_region_led': watch.before_outage.get('led'),
        'formed_s': report['formed_s'],
        'converged_s': round(report['started_s'], 3),
        'members_hit': len(failure.get('affected_members', [])),
        'regional_outage_detect_s': failure.get('detect_s'),
        'regional_outage_recovery_s': failure.get('recovery_s'),
        'not_recovered': len(failure.get('not_recovered', {})),
        'outage_sites_back_up_s': max(
            (v for v in (back.get('up_s_per_site') or {}).values() if v),
            default=None,
        ),
        'end_all_running': report['end']['all_running'],
        'end_doubles': len(report['end']['doubles']),
        'false_downs': len(report['false_downs']),
        # Which sites and when (seconds into the run): a count alone
        # does not say where to look.
        'false_down_sites': report['false_downs'],
        'rss_per_site_mb_max': round(
            max(watch.rss_max.values(), default=0), 1
        ),
        'rss_per_site_mb_median': round(
            sorted(watch.rss_max.values())[len(watch.rss_max) // 2]
            if watch.rss_max
            else 0.0,
            1,
        ),
        'rss_total_mb': round(watch.total_max, 1),
        'rss_at_peak': watch.breakdown,
        'rss_timeline': watch.timeline,
        'journal_max_mb': round(watch.journal_max, 1),
        'runner_rss_mb': round(watch.own_max, 1),
        'site_cpu_s_total': round(cpu_total, 1),
        'site_cpu_util_pct': round(
            100.0 * cpu_total / wall / (os.cpu_count() or 1), 1
        ),
        'cores': os.cpu_count(),
        'wall_s': round(wall, 1),
        'interrupted': report['interrupted'],
        'settings': sc.settings,
    }
    if args.keep:
        with open(os.path.join(workdir, 'report.json'), 'w') as f:
            json.dump(report, f)
        log('kept in %s' % workdir)
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == '__main__':
    sys.exit(main())
