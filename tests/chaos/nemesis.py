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

"""Faults on the sites of a LocalFederation, chosen by a seed: when each
is made and healed, and how many run at once. The kinds of fault are in
tests/chaos/fault_kinds.py, how each is made and undone in
tests/chaos/injector.py.

Each fault is healed after a time the seed draws, and all of them at the
end of a run.

No more than ``max_down`` sites are ever down at once, counting the
sites of a partition's minority, so that five voters keep a quorum; a
bridge or a ring partition, where no majority agrees, runs alone. A site
killed or given a bit flip counts as down after its restart too, until
it is a voter in quorum again (or RECOVERY seconds have passed): a site
takes seconds to start on a busy machine, and one whose files were set
aside votes again only once the leader has replaced it as a voter, so
that faults on two more sites meanwhile would take the quorum away (or
leave a majority of voters with no log, which no Raft survives).
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any

from tests.chaos import background
from tests.chaos import churn as site_churn
from tests.chaos import fault_kinds
from tests.chaos import injector
from tests.chaos import raft_status

# Seconds a restarted site counts as down at most, waiting to be a voter
# in quorum again.
RECOVERY = 120.0
# Seconds between two looks at the restarted sites.
POLL = 0.5
# Seconds a refused leave is still watched for: the refusal may be a
# lost answer (a timeout, a connection cut by another fault) to a leave
# that goes through all the same.
REFUSED_PATIENCE = 60.0


class Nemesis(background.Background):
    """A thread that makes ``faults`` faults, one every ``interval``
    seconds or so, heals each when due, and sets ``done`` once all are
    healed and their sites recovered; ``record`` holds them all."""

    def __init__(
        self,
        fed: Any,
        history: Any,
        seed: int,
        faults: int,
        interval: float = 3.0,
        max_down: int = 2,
        log: Any = None,
        hold: tuple[float, float] = (2.0, 6.0),
        kinds: tuple[str, ...] | None = None,
        recovered: Any = None,
        churn: Any = None,
        faketime: str | None = None,
    ) -> None:
        super().__init__('nemesis')
        self.fed = fed
        self.history = history
        self.rng = random.Random(seed)
        # The kinds in their order are the seed's alone: the other draws
        # (which site, for how long) depend on what is up at the time.
        self.kind_rng = random.Random('%s-kinds' % seed)
        self.faults = faults
        self.interval = interval
        self.max_down = max_down
        self.kinds = fault_kinds.check_kinds(
            kinds, hasattr(fed, 'cut'), skew=faketime is not None
        )
        # Whether a restarted site is back: a voter in quorum.
        self.recovered = recovered or (
            lambda site: raft_status.voter_in_quorum(fed, site)
        )
        self.churn = churn or site_churn.Churn(fed)
        self.injector = injector.Injector(
            fed, self.rng, self.churn, faketime=faketime
        )
        # Healed by a restart, not yet recovered.
        self.recovering: list[dict[str, Any]] = []
        # How long a fault lasts: seconds, drawn from the seed.
        self.hold = hold
        self.log = log or (lambda message: None)
        self.done = threading.Event()
        # {'kind', 'site', 'sites', 'start', 'end', 'heal_at', ...}: site
        # names the lane on the history page, sites those down; end None
        # until healed
        self.record: list[dict[str, Any]] = []
        # The kind drawn for the next fault, kept until it fits.
        self._next_kind: str | None = None

    def active(self) -> list[dict[str, Any]]:
        return [f for f in self.record if f['end'] is None]

    def _run(self, index: int = 0) -> None:
        # Heals fall due on their own clock, between two faults too: a
        # fault lasts what the seed said, not until the next tick.
        now = self.history.now
        next_fault = now() + self._gap()
        try:
            while (
                len(self.record) < self.faults
                or self.active()
                or self.recovering
            ):
                due = [f['heal_at'] for f in self.active()]
                if self.recovering:
                    due.append(now() + POLL)
                if len(self.record) < self.faults:
                    due.append(next_fault)
                if self.stopping.wait(max(0.0, min(due) - now())):
                    break
                self._heal_due()
                self._check_recovered()
                if len(self.record) >= self.faults or now() < next_fault:
                    continue
                if self._next_kind is None:
                    self._next_kind = self.kind_rng.choice(self.kinds)
                if self._fits(self._next_kind):
                    self._inject(self._next_kind)
                    self._next_kind = None
                    next_fault = now() + self._gap()
                else:
                    # Too many down: the next fault waits for a heal or
                    # a recovery.
                    heals = [f['heal_at'] for f in self.active()]
                    next_fault = min(heals or [now() + POLL])
        finally:
            self.done.set()

    def _gap(self) -> float:
        return self.rng.uniform(0.5, 1.5) * self.interval

    def _down(self) -> set[str]:
        return {s for f in self.active() + self.recovering for s in f['sites']}

    def _fits(self, kind: str) -> bool:
        active = self.active()
        if any(f['kind'] in fault_kinds.ALONE for f in active):
            return False
        if kind in fault_kinds.ALONE:
            return not active and not self.recovering
        room = self.max_down - len(self._down())
        if kind == 'partition-halves':
            return room >= self._minority() and not self._partitioned()
        if kind == 'partition-leader':
            return room >= 1 and not self._partitioned()
        return room >= 1

    def _partitioned(self) -> bool:
        return any(
            f['kind'] in fault_kinds.PARTITION_KINDS for f in self.active()
        )

    def _minority(self) -> int:
        return min(self.max_down, (len(self.fed.sites) - 1) // 2)

    def _up(self) -> list[str]:
        down = self._down()
        return sorted(n for n in self.fed.sites if n not in down)

    def _inject(self, kind: str) -> None:
        fault = self.injector.inject(kind, self._up(), self._minority())
        now = self.history.now()
        hold = self.rng.uniform(*self.hold)
        if kind == fault_kinds.SKEW:
            hold *= fault_kinds.SKEW_HOLD
        fault.update(start=now, end=None, heal_at=now + hold)
        self.record.append(fault)
        self.log(
            'fault %d: %s %s%s'
            % (
                len(self.record),
                fault['kind'],
                fault['site'],
                ' ' + fault['detail'] if fault.get('detail') else '',
            )
        )

    def _heal(self, fault: dict[str, Any], final: bool = False) -> None:
        if fault['kind'] == 'churn' and not self._has_left(fault, final):
            return
        self.injector.heal(fault, self._up())
        if fault['kind'] in fault_kinds.RESTARTED:
            fault['recovered'] = None
            self.recovering.append(fault)
        fault['end'] = self.history.now()
        self.log('healed: %s %s' % (fault['kind'], fault['site']))

    def _has_left(self, fault: dict[str, Any], final: bool) -> bool:
        """Whether the churned site of ``fault`` may join again now: once
        it has left (waited for at the end of the run)."""
        site = self.fed.sites[fault['site']]
        patience = REFUSED_PATIENCE if fault.get('refused') else RECOVERY
        while not self.churn.has_left(site):
            waited = self.history.now() - fault['start']
            if waited > patience:
                # It never left: nothing to heal.
                fault.setdefault('detail', 'did not leave in time')
                fault['end'] = self.history.now()
                self.log('%s did not leave: %s' % (site.name, fault['detail']))
                return False
            if not final:
                fault['heal_at'] = self.history.now() + POLL
                return False
            time.sleep(POLL)
        return True

    def _check_recovered(self) -> None:
        for fault in list(self.recovering):
            now = self.history.now()
            if self.recovered(self.fed.sites[fault['site']]):
                fault['recovered'] = now
            elif now - fault['end'] < RECOVERY:
                continue
            else:
                self.log(
                    'not recovered after %.0f s: %s %s'
                    % (RECOVERY, fault['kind'], fault['site'])
                )
            self.recovering.remove(fault)

    def _heal_due(self) -> None:
        for fault in self.active():
            if fault['heal_at'] <= self.history.now():
                self._heal(fault)

    def heal_all(self) -> None:
        for fault in self.active():
            self._heal(fault, final=True)
        # A site that left after its leave was taken for refused, and
        # had no restart since, joins again: every site ends a member.
        for site in self.fed.sites.values():
            if self.churn.has_left(site):
                self.log('%s left unseen: joining again' % site.name)
                self.injector.restart(site, self._up())
