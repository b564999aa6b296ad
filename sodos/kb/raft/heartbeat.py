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

# A member whose applied index has not moved for this long while the
# leader's commit index is ahead of it is stuck, not slow: its log cannot
# take what the leader sends (a repair that never converges, a broken
# journal). A slow member's index still moves, however little.
STALLED_AFTER = 30.0

# A read-only member that has not heard of a leader for this long asks the
# members it knows for the current voters again (it may hold a list of
# voters that were all replaced while it was away).
REDISCOVER_AFTER = 5.0


def interval(conf: Any) -> float:
    """Seconds between two reports of a member to the leader.

    With the gossip detector the gossip carries liveness: the reports
    are then only for the stalled and diverged checks, and are sent
    more rarely, so that the leader does not hear every member twice a
    second (at 1,000 members, 2,000 calls a second)."""
    beat = float(conf.knowmon.heartbeat_interval)
    if conf.knowmon.failure_detector == 'gossip':
        return max(beat, float(conf.knowmon.gossip_report_interval))
    return beat


class Table:
    """When the leader last heard of each site, and how far it had got."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[float, int]] = {}
        # Site -> when its reported applied index last moved.
        self._moved_at: dict[str, float] = {}
        # The leader's verdicts, by kind, site -> where it was found:
        # 'diverged', the applied count at which its digest contradicted
        # the leader's history (see KBConsumer.diverges); 'behind', the
        # applied index it is stuck at (STALLED_AFTER).
        self._marks: dict[str, dict[str, int]] = {
            'diverged': {},
            'behind': {},
        }

    def record(self, site: str, applied: int) -> None:
        now = monotonic()
        with self._lock:
            before = self._seen.get(site)
            if before is None or before[1] != applied:
                self._moved_at[site] = now
            self._seen[site] = (now, applied)

    def stalled_for(self, site: str, commit: int) -> float:
        """How long ``site`` has applied nothing while behind ``commit``
        (0 when it is caught up, or its index moved at its last report)."""
        with self._lock:
            seen = self._seen.get(site)
            if seen is None or seen[1] >= commit:
                return 0.0
            return monotonic() - self._moved_at.get(site, seen[0])

    def stalled(self, commit: int) -> dict[str, int]:
        """Sites stuck behind ``commit`` (STALLED_AFTER), at their index."""
        with self._lock:
            sites = [(s, a) for s, (_, a) in self._seen.items() if a < commit]
        return {
            site: applied
            for site, applied in sites
            if self.stalled_for(site, commit) >= STALLED_AFTER
        }

    def touch(self, site: str) -> None:
        """Heard of ``site`` another way (its live Raft connection)."""
        with self._lock:
            _, applied = self._seen.get(site, (0.0, 0))
            self._seen[site] = (monotonic(), applied)

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()
            self._moved_at.clear()
            for marked in self._marks.values():
                marked.clear()

    def mark(self, kind: str, site: str, at: int | None) -> bool:
        """Record the verdict ``kind`` on ``site`` (None: lifted); True
        the first time it is found."""
        with self._lock:
            marked = self._marks[kind]
            first = site not in marked
            if at is None:
                marked.pop(site, None)
            else:
                marked.setdefault(site, at)
            return first and at is not None

    def marked(self, kind: str) -> dict[str, int]:
        with self._lock:
            return dict(self._marks[kind])

    def mark_diverged(self, site: str, count: int | None) -> bool:
        return self.mark('diverged', site, count)

    def diverged(self) -> dict[str, int]:
        return self.marked('diverged')

    def ages(
        self,
        sites: dict[str, Any],
        linked: set[str],
        me: str,
        since: float,
    ) -> dict[str, float]:
        """Seconds since each site not left was last heard of, as the
        leader since ``since`` sees it; a site whose address is in
        ``linked`` (a voter with a live Raft connection to the leader)
        or ``me`` counts as heard of now."""
        for name, site in sites.items():
            # A voter's live Raft connection to the leader is as good as
            # a heartbeat, and it drops at once when the site dies.
            if site['address'] in linked or name == me:
                self.touch(name)
        now = monotonic()
        seen = self.last_seen()
        return {
            # A new leader gives every site a full timeout to reach it.
            name: round(now - max(seen.get(name, since), since), 3)
            for name, site in sites.items()
            if site['status'] != 'left'
        }

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
            lambda: interval(backend.conf),
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
                leader, self.backend.credentials, timeout=2.0
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
            behind = reply.get('behind')
            self.backend.behind(behind if isinstance(behind, int) else None)
        return reply

    def _leaderless(self, status: dict[str, Any]) -> None:
        now = monotonic()
        if self._leaderless_since is None:
            self._leaderless_since = now
        if now - self._leaderless_since < REDISCOVER_AFTER:
            return
        self._leaderless_since = now
        self.backend.rediscover()
