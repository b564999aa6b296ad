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

"""A member catching up keeps following its leader through old removals.

pysyncobj 0.3.17 applies a membership change as soon as a member
appends it, and a removal drops the connection to the removed node at
once. A member replaying the log from far behind (a site that joins
again with fresh files, a read-only member re-syncing) appends the old
changes too: where the log once removed the node that leads today and
later added it back (a voter replaced while it was down, then promoted
again), the member drops its connection to its own leader at the
removal, hears nothing more from it, and never reaches the entry that
added it back. Such members stayed at the same entry for minutes in the
chaos suite, until another site led.

Here a removal of the node this member follows is put off while that
node leads: the entries that follow, an addition of the same node
included, arrive as before. It is applied once another node leads (or
none), dropped if an addition of the node comes first, and undone with
the entry if the leader truncates it, forgotten when a snapshot brings
the membership whole. Only whom the member talks to is put off: the
entries are in its log as sent. Upstream has no fix as of
0.3.17.
"""

from __future__ import annotations

import logging
from typing import Any

from sodos.kb.raft.eager import EagerSyncObj

LOG = logging.getLogger(__name__)


class FollowingSyncObj(EagerSyncObj):
    """A SyncObj that does not cut itself off the leader it follows."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Before the base's __init__: out of pysyncobj's snapshots.
        # Address -> the removal request put off.
        self._put_off: dict[str, Any] = {}
        super().__init__(*args, **kwargs)

    def _SyncObj__doChangeCluster(
        self, request: Any, reverse: bool = False
    ) -> bool:
        kind, address = request[0], request[1]
        removing = (kind == 'rem') != reverse
        if not removing:
            # Wanted again (or a put-off removal rolled back): nothing
            # left to put off.
            self._put_off.pop(address, None)
        elif self._follows(address):
            if address not in self._put_off:
                LOG.info(
                    'raft: the log removes %s, which this member follows: '
                    'put off until another member leads',
                    address,
                )
            self._put_off[address] = request
            return True
        return bool(super()._SyncObj__doChangeCluster(request, reverse))

    def _follows(self, address: str) -> bool:
        leader = self._SyncObj__raftLeader
        return (
            not self._isLeader()
            and leader is not None
            and getattr(leader, 'address', None) == address
        )

    def _SyncObj__loadDumpFile(self, clearJournal: bool) -> None:
        # A snapshot brings its own membership: what was put off is
        # history it already holds.
        self._put_off.clear()
        super()._SyncObj__loadDumpFile(clearJournal)

    def _onTick(self, timeToWait: float = 0.0) -> None:
        super()._onTick(timeToWait)
        for address in [a for a in self._put_off if not self._follows(a)]:
            request = self._put_off.pop(address)
            super()._SyncObj__doChangeCluster(request)
