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

"""Faults on the sites of a LocalFederation, chosen by a seed.

A fault is a SIGKILL (of the leader or of any site; healed by a restart
from the site's data directory) or a SIGSTOP (healed by SIGCONT). Faults
overlap, but no more than ``max_down`` sites are ever down at once, so
that five voters keep a quorum.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any

from sodos import exception
from sodos.kb.raft import control

KINDS = ('kill-leader', 'kill', 'freeze')


class Nemesis:
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
    ) -> None:
        self.fed = fed
        self.history = history
        self.rng = random.Random(seed)
        self.faults = faults
        self.interval = interval
        self.max_down = max_down
        # How long a fault lasts: seconds, drawn from the seed.
        self.hold = hold
        self.log = log or (lambda message: None)
        self.done = threading.Event()
        self.stopping = threading.Event()
        # {'kind', 'site', 'start', 'end', 'heal_at'}; end None until healed
        self.record: list[dict[str, Any]] = []
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name='nemesis')
        self._thread.daemon = True
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self._thread is not None:
            self._thread.join(60)

    def active(self) -> list[dict[str, Any]]:
        return [f for f in self.record if f['end'] is None]

    def _run(self) -> None:
        # Heals fall due on their own clock, between two faults too: a
        # fault lasts what the seed said, not until the next tick.
        now = self.history.now
        next_fault = now() + self._gap()
        try:
            while len(self.record) < self.faults or self.active():
                due = [f['heal_at'] for f in self.active()]
                if len(self.record) < self.faults:
                    due.append(next_fault)
                if self.stopping.wait(max(0.0, min(due) - now())):
                    break
                self._heal_due()
                if len(self.record) >= self.faults or now() < next_fault:
                    continue
                if len(self.active()) < self.max_down:
                    self._inject()
                    next_fault = now() + self._gap()
                else:
                    # Too many down: the next fault waits for a heal.
                    next_fault = min(f['heal_at'] for f in self.active())
        finally:
            self.done.set()

    def _gap(self) -> float:
        return self.rng.uniform(0.5, 1.5) * self.interval

    def _inject(self) -> None:
        kind = self.rng.choice(KINDS)
        down = {f['site'] for f in self.active()}
        up = sorted(n for n in self.fed.sites if n not in down)
        target = None
        if kind == 'kill-leader':
            leader = self.fed.leader()
            target = leader.name if leader and leader.name in up else None
        if target is None:
            kind = 'kill' if kind == 'kill-leader' else kind
            target = self.rng.choice(up)
        site = self.fed.sites[target]
        if kind == 'freeze':
            site.freeze()
        else:
            site.kill()
        now = self.history.now()
        self.record.append(
            {
                'kind': kind,
                'site': target,
                'start': now,
                'end': None,
                'heal_at': now + self.rng.uniform(*self.hold),
            }
        )
        self.log('fault %d: %s %s' % (len(self.record), kind, target))

    def _heal(self, fault: dict[str, Any]) -> None:
        site = self.fed.sites[fault['site']]
        if fault['kind'] == 'freeze':
            site.thaw()
        else:
            site.start()
        fault['end'] = self.history.now()
        self.log('healed: %s %s' % (fault['kind'], fault['site']))

    def _heal_due(self) -> None:
        for fault in self.active():
            if fault['heal_at'] <= self.history.now():
                self._heal(fault)

    def heal_all(self) -> None:
        for fault in self.active():
            self._heal(fault)


def member_status(fed: Any, site: Any) -> dict[str, Any] | None:
    try:
        status: dict[str, Any] = control.call(site.address, fed.key, 'status')
        return status['member']
    except exception.SodosError:
        return None


def voters_behind(fed: Any, timeout: float) -> list[str]:
    """Voters whose applied index has not reached the leader's commit
    index (as it was once a leader was found) within ``timeout``."""
    deadline = time.monotonic() + timeout
    target = None
    while target is None and time.monotonic() < deadline:
        for site in fed.sites.values():
            status = member_status(fed, site)
            if status and status.get('is_leader') and status['has_quorum']:
                target = status['commit_index']
                break
        else:
            time.sleep(0.2)
    if target is None:
        return sorted(fed.sites)
    behind = sorted(fed.sites)
    while behind and time.monotonic() < deadline:
        still = []
        for name in behind:
            status = member_status(fed, fed.sites[name])
            if status is None or (
                status['role'] == 'voter' and (status['last_applied'] < target)
            ):
                still.append(name)
        behind = still
        if behind:
            time.sleep(0.2)
    return behind
