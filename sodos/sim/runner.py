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

"""Plays a scenario on real site processes on loopback.

One ``sodos-site`` process per site (all roles, the simulator Exec
driver), started through :class:`sodos.sim.federation.LocalFederation`
with the site's ``[site_profile]`` and ``[simulator]`` capacity from the
scenario. The runner joins the federation as a read-only KB member (no
message bus), puts the appliances, waits until every member runs, then
plays the events on the scenario's clock while it samples the KB every
``period`` seconds. It stops every process it started when the run ends,
fails or is interrupted.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Callable
from typing import Any

from sodos import exception
from sodos.domain import appliance as appliance_mod
from sodos.sim import events
from sodos.sim import federation
from sodos.sim import owners as owners_mod
from sodos.sim import ports
from sodos.sim import putting
from sodos.sim import report as report_mod
from sodos.sim import sample as sample_mod
from sodos.sim import scenario as scenario_mod
from sodos.sim import siteconf
from sodos.sim import statuspage
from sodos.sim import text

# Loops short enough that a run moves at a human pace (seconds), as
# tools/local_federation.py and benchmarks/failover.py use them.
FAST_LOOPS: dict[str, dict[str, Any]] = {
    'exec': {
        'loop_interval': 0.3,
        'monitor_interval': 0.5,
        'poll_interval': 0.1,
        'retry_delay': 0.2,
    },
    'simulator': {'boot_seconds': 1.0, 'delete_seconds': 0.3},
    'analyseplan': {'loop_interval': 0.5},
    # A rehearsal keeps its record in report.json; no history database.
    'knowmon': {'history_interval': 0},
}
# After the last event the run ends once everything has settled and at
# least this long has passed, so that a late change is still seen.
MIN_HOLD = 3.0
PROGRESS_EVERY = 2.0
STOP_TIMEOUT = 30.0
START_BATCH = 10


class RunFailed(exception.SodosError):
    """The federation could not be brought up as the scenario asks."""


class Runner:
    def __init__(
        self,
        scenario: scenario_mod.Scenario,
        workdir: str,
        log: Callable[[str], None],
        period: float = 0.5,
        keep: bool = False,
        status_page: bool = False,
    ) -> None:
        self.scenario = scenario
        self.workdir = workdir
        self.log = log
        self.period = period
        self.keep = keep
        # The first site serves the live status page (noauth).
        self.status_page = status_page
        self.procs = {s.name: 'running' for s in scenario.sites}
        self.extras: dict[str, dict[str, dict[str, Any]]] = {}
        self.samples: list[dict[str, Any]] = []
        self.played: list[dict[str, Any]] = []
        self.appliances: dict[str, list[str]] = {}  # name -> member keys
        self.appliance_ids: dict[str, str] = {}  # name -> id
        self.vcpus: dict[str, float] = {}
        self.load_ids: dict[str, list[str]] = {}  # site -> appliance ids
        # Member key -> (owner, vCPUs), and owner -> its demands' ids.
        self.owned: dict[str, tuple[str, float]] = {}
        self.demand_ids: dict[str, list[str]] = {}
        # When every member first ran (the scenario's zero), None before.
        self.started: float | None = None
        self.formed = 0.0
        self.fed: federation.LocalFederation | None = None
        self.interrupted = False
        self._mono = time.monotonic()
        self._wall = time.time()
        self._last_event = ''
        self._last_progress = -PROGRESS_EVERY

    # -- the clock and sampling ----------------------------------------

    def clock(self) -> float:
        return time.monotonic() - self._mono

    def _sample(self, client: Any) -> dict[str, Any]:
        kb = sample_mod.read_kb(client)
        taken = sample_mod.take(
            kb,
            self.clock(),
            self._wall,
            dict(self.procs),
            self.expected,
            self.owned,
        )
        self.samples.append(taken)
        if taken['t'] - self._last_progress >= PROGRESS_EVERY:
            self._last_progress = taken['t']
            self.log(text.progress_line(taken, self._last_event, self.started))
        return taken

    def show_event(self, what: str) -> None:
        """The progress line names ``what`` as the last event, at once."""
        self._last_event = what
        self._last_progress = -PROGRESS_EVERY

    @property
    def expected(self) -> list[str]:
        return [k for keys in self.appliances.values() for k in keys]

    @staticmethod
    def settled(taken: dict[str, Any]) -> bool:
        end = report_mod.end_state(taken)
        # A site brought back counts once the KB has it up again.
        back = all(
            site['kb'] == 'up'
            for site in taken['sites'].values()
            if site['proc'] == 'running'
        )
        return (
            back
            and end['all_running']
            and not end['doubles']
            and not end['on_dead_sites']
        )

    # -- the run ---------------------------------------------------------

    def run(self) -> dict[str, Any]:
        sc = self.scenario
        root = os.path.join(self.workdir, 'sites')
        settings = siteconf.merged(
            FAST_LOOPS,
            {'analyseplan': {'carbon_price': sc.carbon_price}},
            sc.settings,
        )
        fed = federation.LocalFederation(
            root, voter_count=sc.voters, settings=settings
        )
        self.fed = fed  # for a benchmark that watches the processes
        try:
            with fed:
                try:
                    self._start(fed)
                    client = fed.client_member('sim-client')
                    try:
                        self._put_appliances(client)
                        self._play(fed, client)
                    finally:
                        client.stop()
                finally:
                    self._stop_sites(fed)
        finally:
            if not self.keep:
                shutil.rmtree(root, ignore_errors=True)
        return report_mod.build(
            sc,
            self.samples,
            self.played,
            self.appliances,
            self.vcpus,
            self.started if self.started is not None else 0.0,
            extra={
                'interrupted': self.interrupted,
                'formed_s': round(self.formed, 3),
                'period_s': self.period,
                'appliance_ids': self.appliance_ids,
            },
        )

    def _stop_sites(self, fed: federation.LocalFederation) -> None:
        """SIGTERM to every site at once, then wait: one after the other
        (as LocalFederation does) takes minutes for a hundred sites."""
        self.log('stopping %d sites' % len(fed.sites))
        running = [s for s in fed.sites.values() if s.running]
        for site in running:
            site.thaw()
            site.signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for site in running:
            assert site.process is not None
            try:
                site.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                site.kill()

    def _site_config(self, site: scenario_mod.Site) -> dict[str, Any]:
        profile = dict(site.profile, region=site.region)
        labels = profile.pop('labels')
        if labels:
            profile['labels'] = ','.join(
                '%s:%s' % item for item in sorted(labels.items())
            )
        if site.owner:
            owner = next(
                o for o in self.scenario.owners if o.name == site.owner
            )
            profile['owner'] = owner.domain_id
        return {'site_profile': profile, 'simulator': site.simulator_options()}

    def _start(self, fed: federation.LocalFederation) -> None:
        sc = self.scenario
        timeout = sc.start_timeout
        self.log(
            'starting %d sites (%d voters) under %s'
            % (len(sc.sites), sc.voters, fed.root)
        )
        taken: set[str] = set()
        for site in sc.sites:
            self.extras[site.name] = self._site_config(site)
            local = fed.add_site(site.name, start=False)
            # Each address is free when picked, not reserved: among many
            # sites picked before any listens, two can get the same one.
            local.address = ports.free_address()
            while local.address in taken:
                local.address = ports.free_address()
            taken.add(local.address)
            if self.status_page and len(fed.sites) == 1:
                self.extras[site.name], url = statuspage.options(
                    local, self.extras[site.name]
                )
                self.log('status page: %s' % url)
            local.write_config(**self.extras[site.name])
        sites = list(fed.sites.values())
        sites[0].start()
        self._wait(fed, lambda r: r['leader'], timeout, 'a leader')
        # In batches: a hundred Python processes starting at once starve
        # the leader's heartbeats for minutes on a small machine.
        for first in range(1, len(sites), START_BATCH):
            for local in sites[first : first + START_BATCH]:
                local.start()
            count = min(len(sites), first + START_BATCH)
            self._wait(
                fed, _up_at_least(count), timeout, '%d sites up' % count
            )
        count = len(sc.sites)
        self._wait(
            fed,
            lambda r: (
                len(r['members']) == count
                and all(m['status'] == 'up' for m in r['members'])
            ),
            timeout,
            'all %d sites up' % count,
        )
        self.formed = self.clock()
        self.log(
            '%s federation formed'
            % text.clock_label(self.formed, self.started)
        )

    def _wait(
        self,
        fed: federation.LocalFederation,
        predicate: Callable[[dict[str, Any]], Any],
        timeout: float,
        what: str,
    ) -> None:
        """fed.wait, in short steps, giving up as soon as a site exits
        (a bad option, a port taken) rather than at the timeout."""
        deadline = time.monotonic() + timeout
        while True:
            for site in fed.sites.values():
                if site.process is not None and not site.running:
                    raise RunFailed(
                        'site %s exited while starting: %s'
                        % (site.name, _last_error(site.log()))
                    )
            step = min(2.0, deadline - time.monotonic())
            try:
                fed.wait(predicate, max(step, 0.1), what)
                return
            except AssertionError as exc:
                if time.monotonic() >= deadline:
                    message = str(exc).split('; last report')[0]
                    raise RunFailed(
                        message.replace(
                            'after %.0f s' % max(step, 0.1),
                            'after %.0f s' % timeout,
                        )
                    ) from None

    def _put_appliances(self, client: Any) -> None:
        sc = self.scenario
        deadline = time.monotonic() + sc.start_timeout
        if not putting.wait_for_monitoring(
            client, {s.name for s in sc.sites}, deadline
        ):
            raise RunFailed('not every site reported its monitoring')
        owners_mod.setup(sc.owners, client.propose)
        specs = []
        for app in sc.appliances:
            appliance_id = uuid.uuid4().hex
            instances = appliance_mod.instances(appliance_id, app.spec)
            self.appliances[app.name] = [i.key for i in instances]
            self.appliance_ids[app.name] = appliance_id
            for inst in instances:
                flavor = scenario_mod.FLAVORS.get(inst.flavor) or {}
                self.vcpus[inst.key] = float(flavor.get('vcpus', 1))
                if app.owner:
                    self.owned[inst.key] = (app.owner, self.vcpus[inst.key])
            specs.append({'appliance_id': appliance_id, 'spec': app.spec})
        self.log(
            'putting %d appliances (%d members)'
            % (len(specs), len(self.expected))
        )
        putting.put_all(client, specs, deadline)
        self._last_event = 'appliances put'
        while time.monotonic() < deadline:
            if self.settled(self._sample(client)):
                break
            time.sleep(self.period)
        else:
            raise RunFailed(
                'the appliances were not all running after %.0f s'
                % sc.start_timeout
            )
        self.started = self.clock()
        self._last_event = 'all running'
        self.log(
            '%s every member running (set-up took %.1f s); events count '
            'from here' % (text.clock_label(0.0, 0.0), self.started)
        )

    def _play(self, fed: federation.LocalFederation, client: Any) -> None:
        sc = self.scenario
        pending = list(sc.events)
        assert self.started is not None, 'events count from the start'
        started = last_fired = self.started
        try:
            while True:
                now = self.clock()
                while pending and started + pending[0].at <= now:
                    events.fire(self, fed, client, pending.pop(0))
                    last_fired = self.clock()
                taken = self._sample(client)
                if not pending:
                    waited = taken['t'] - last_fired
                    if waited >= sc.settle or (
                        waited >= MIN_HOLD and self.settled(taken)
                    ):
                        break
                time.sleep(max(0.0, self.period - (self.clock() - now)))
        except KeyboardInterrupt:
            # Ctrl-C or SIGTERM: report what was seen, then stop it all.
            self.interrupted = True
            self.log('interrupted: stopping')


def _last_error(log: str) -> str:
    errors = [line for line in log.splitlines() if ' ERROR ' in line]
    if not errors:
        return 'no error logged'
    return errors[-1].split(' [-] ', 1)[-1]


def _up_at_least(count: int) -> Callable[[dict[str, Any]], bool]:
    """Whether a federation report shows at least ``count`` sites up."""

    def enough(report: dict[str, Any]) -> bool:
        return sum(m['status'] == 'up' for m in report['members']) >= count

    return enough
