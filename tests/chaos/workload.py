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

"""A register-per-key workload on the KB, recorded as a history.

The register of key SITE is the ``chaos`` label of SITE's operator
profile: ``site.profile`` overwrites it (alerts do not do: re-raising an
alert id is refused with ``created: False``), its overrides survive the
site's own ``site.register`` at every restart, and no role writes it.

Reads are made linearizable by a barrier: a command with no effect
(closing an alert that does not exist) is submitted first, and
``submit`` returns once it is applied on the reading member; the local
state read then is at least as new as the barrier's commit, and no newer
than the commit index now, so the read takes effect within its call.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any

from sodos import exception
from sodos.kb import commands
from sodos.kb.raft import control
from tests.chaos import background

LABEL = 'chaos'
BARRIER_ALERT = '0' * 32
ORIGIN = 'chaos-client'
# Seconds an op waits for its commit; then its outcome is unknown.
TIMEOUT = 5.0


class History:
    """Operations as they are invoked and complete, thread safe; times
    are monotonic seconds since the history began."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.ops: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def now(self) -> float:
        return time.monotonic() - self.t0

    def invoke(self, process: int, f: str, key: str, value: Any) -> dict:
        op = {
            'process': process,
            'f': f,
            'key': key,
            'value': value,
            'type': 'invoke',
            'invoke': self.now(),
            'complete': None,
        }
        with self._lock:
            self.ops.append(op)
        return op

    def complete(self, op: dict[str, Any], type: str, value: Any = None):
        with self._lock:
            op['complete'] = self.now()
            op['type'] = type
            if op['f'] == 'read':
                op['value'] = value

    def finished(self) -> list[dict[str, Any]]:
        """Every op; one still running when asked counts as unknown."""
        with self._lock:
            return [
                dict(o, type='info') if o['type'] == 'invoke' else dict(o)
                for o in self.ops
            ]


def write_command(key: str, value: str) -> commands.Command:
    return commands.make(
        'site.profile',
        {'site': key, 'profile': {'labels': {LABEL: value}}},
        ORIGIN,
    )


def barrier_command() -> commands.Command:
    return commands.make(
        'alert.close',
        {'alert_id': BARRIER_ALERT, 'reason': 'chaos read barrier'},
        ORIGIN,
    )


def value_of(sites: dict[str, Any], key: str) -> Any:
    site = sites.get(key) or {}
    labels = (site.get('profile_overrides') or {}).get('labels') or {}
    return labels.get(LABEL)


def write(member: Any, history: History, process: int, key: str, value: str):
    op = history.invoke(process, 'write', key, value)
    try:
        result = member.submit(
            write_command(key, value), timeout=TIMEOUT, check=False
        )
    except exception.SodosError:
        # Timed out or the member lost its leader: it may still commit.
        history.complete(op, 'info')
        return op
    history.complete(op, 'ok' if result.get('ok') else 'fail')
    return op


def read(member: Any, history: History, process: int, key: str):
    op = history.invoke(process, 'read', key, None)
    try:
        member.submit(barrier_command(), timeout=TIMEOUT, check=False)
        value = value_of(member.read('sites'), key)
    except exception.SodosError:
        history.complete(op, 'fail')
        return op
    history.complete(op, 'ok', value)
    return op


def read_local(fed: Any, site: Any, history: History, process: int, key: str):
    """A read of one site's locally applied KB, no barrier: what
    ``member.read()`` gives a role. Not linearizable (a follower lags,
    a restarted site replays): the checker is expected to say so."""
    op = history.invoke(process, 'read', key, None)
    # Which site answered, for whoever reads the history.
    op['node'] = site.name
    try:
        status = control.call(site.address, fed.key, 'status')
    except exception.SodosError:
        history.complete(op, 'fail')
        return op
    history.complete(op, 'ok', value_of(status['sites'], key))
    return op


class Workers(background.Background):
    """Client threads, each one process at a time: after an op of unknown
    outcome the thread takes a new process id, as that op may still be
    in flight (a process is sequential)."""

    def __init__(
        self,
        member: Any,
        history: History,
        keys: list[str],
        seed: int,
        count: int = 3,
        local_reads: Any = None,
    ) -> None:
        super().__init__('chaos-worker', threads=count, join_timeout=30.0)
        self.member = member
        self.history = history
        self.keys = keys
        self.seed = seed
        # A LocalFederation: read any site's local KB instead.
        self.local_reads = local_reads

    def _run(self, n: int) -> None:
        rng = random.Random('%s-%d' % (self.seed, n))
        process, serial = n, 0
        while not self.stopping.is_set():
            key = rng.choice(self.keys)
            if rng.random() < 0.5:
                serial += 1
                # Unique values: a read names the one write it saw.
                value = 'p%d-%d' % (process, serial)
                op = write(self.member, self.history, process, key, value)
            elif self.local_reads is not None:
                fed = self.local_reads
                site = fed.sites[rng.choice(sorted(fed.sites))]
                op = read_local(fed, site, self.history, process, key)
            else:
                op = read(self.member, self.history, process, key)
            if op['type'] == 'info':
                # Ids n, n + threads, ...: no two threads share one.
                process += self.thread_count
            # A short pause keeps the histories small enough to search.
            self.stopping.wait(rng.uniform(0.02, 0.1))
