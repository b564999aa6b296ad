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

"""Site liveness without log entries.

Heartbeats are not written to the Raft log (that would replicate a write
per site per second to every member). Each member tells the current leader
it is alive over the control channel; the leader keeps the times in memory
and its KnowMon commits only the transitions (site up -> down). The reply
carries the leader's voter list, which is how a member learns it has been
promoted or removed even when it missed the control-channel call.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING
from typing import Any

from pysyncobj.monotonic import monotonic

from sodos import exception
from sodos import periodic
from sodos.kb.raft import control

if TYPE_CHECKING:
    from sodos.kb.raft.backend import RaftBackend

LOG = logging.getLogger(__name__)

# A read-only member that has not heard of a leader for this long asks the
# members it knows for the current voters again (it may hold a list of
# voters that were all replaced while it was away).
REDISCOVER_AFTER = 5.0


class Table:
    """When the leader last heard of each site, and how far it had got."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[float, int]] = {}
        # Site -> the applied count at which its digest contradicted the
        # leader's history (see KBConsumer.diverges).
        self._diverged: dict[str, int] = {}

    def record(self, site: str, applied: int) -> None:
        with self._lock:
            self._seen[site] = (monotonic(), applied)

    def touch(self, site: str) -> None:
        """Heard of ``site`` another way (its live Raft connection)."""
        with self._lock:
            _, applied = self._seen.get(site, (0.0, 0))
            self._seen[site] = (monotonic(), applied)

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()
            self._diverged.clear()

    def mark_diverged(self, site: str, count: int | None) -> bool:
        """Record that ``site`` diverged; True the first time."""
        with self._lock:
            first = site not in self._diverged
            if count is None:
                self._diverged.pop(site, None)
            else:
                self._diverged.setdefault(site, count)
            return first and count is not None

    def diverged(self) -> dict[str, int]:
        with self._lock:
            return dict(self._diverged)

    def last_seen(self) -> dict[str, float]:
        with self._lock:
            return {site: seen for site, (seen, _) in self._seen.items()}

    def applied(self) -> dict[str, int]:
        with self._lock:
            return {site: applied for site, (_, applied) in self._seen.items()}


class Sender:
    """Sends this member's heartbeat to the leader and follows its answer."""

    def __init__(self, backend: RaftBackend) -> None:
        self.backend = backend
        self._loop = periodic.Periodic(
            'heartbeat',
            self._beat,
            lambda: float(backend.conf.knowmon.heartbeat_interval),
        )
        self._client: control.ControlClient | None = None
        self._leaderless_since: float | None = None

    def start(self) -> None:
        self._loop.start()

    def stop(self) -> None:
        self._loop.stop(5)
        if self._client is not None:
            self._client.close()

    def _beat(self) -> None:
        try:
            self.cycle()
        except exception.SodosError as exc:
            # Expected while a leader fails over; the KB records outages.
            LOG.debug('heartbeat: %s', exc)

    def cycle(self) -> None:
        backend = self.backend
        status = backend.runner.status()
        if not status:
            return
        backend.track_leadership(status)
        if backend.finish_leave():
            self._loop.stop()
            return
        leader = status.get('leader')
        if leader is None:
            self._leaderless(status)
            return
        self._leaderless_since = None
        if leader == backend.address:
            backend.heartbeats.record(backend.site, status['last_applied'])
            voters = status['voters']
        else:
            reply = self._send(leader, status)
            voters = reply.get('voters') if reply.get('is_leader') else None
        if voters is not None:
            backend.follow_leader(voters)

    def _send(self, leader: str, status: dict[str, Any]) -> dict[str, Any]:
        if self._client is None or self._client.address != leader:
            if self._client is not None:
                self._client.close()
            self._client = control.ControlClient(
                leader, self.backend.key, timeout=2.0
            )
        reply: dict[str, Any] = self._client.call(
            'heartbeat',
            site=self.backend.site,
            address=self.backend.address,
            applied=status['last_applied'],
            kb=self.backend.runner.fingerprint(),
        )
        if reply.get('is_leader'):
            diverged = reply.get('diverged')
            self.backend.diverged(
                diverged if isinstance(diverged, int) else None
            )
        return reply

    def _leaderless(self, status: dict[str, Any]) -> None:
        now = monotonic()
        if self._leaderless_since is None:
            self._leaderless_since = now
        if now - self._leaderless_since < REDISCOVER_AFTER:
            return
        self._leaderless_since = now
        self.backend.rediscover()
