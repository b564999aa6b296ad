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

"""The Knowledge Base as pysyncobj sees it: one replicated method."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from pysyncobj import SyncObjConsumer
from pysyncobj import replicated

from sodos.kb import query as kbquery
from sodos.kb import state

Applied = Callable[[dict[str, Any], dict[str, Any]], None]

# How many recent digests a member remembers (local, not replicated): a
# heartbeat is compared only while the leader still has the digest at the
# count the member reports, and members trail by far less than this.
DIGESTS_KEPT = 4096


class KBConsumer(SyncObjConsumer):
    """The replicated Knowledge Base as pysyncobj sees it."""

    def __init__(self, on_applied: Applied) -> None:
        # Attributes set before SyncObjConsumer.__init__ are not part of
        # the snapshot: the lock and the callback are local.
        self._lock = threading.RLock()
        self._on_applied = on_applied
        # applied count -> (digest_since, digest), oldest first.
        self._digests: dict[int, tuple[int | None, int]] = {}
        super().__init__()
        self.kb = state.KnowledgeState()

    @replicated
    def apply(self, wire: Any) -> dict[str, Any]:
        with self._lock:
            result = self.kb.apply(wire)
            kb = self.kb
            self._digests[kb.applied] = (kb.digest_since, kb.digest)
            if len(self._digests) > DIGESTS_KEPT:
                del self._digests[next(iter(self._digests))]
        if isinstance(wire, dict):
            self._on_applied(wire, result)
        return result

    def read(self, query: kbquery.Query) -> Any:
        with self._lock:
            thaw = self.kb.freeze(query)
        return thaw()

    @property
    def applied(self) -> int:
        return self.kb.applied

    def fingerprint(self) -> dict[str, Any]:
        """Where this member's state is: what a heartbeat carries."""
        with self._lock:
            kb = self.kb
            return {
                'count': kb.applied,
                'since': kb.digest_since,
                'digest': kb.digest,
            }

    def diverges(self, theirs: Any) -> bool:
        """Whether another member's fingerprint contradicts this one's
        history: same count, same starting point, another digest.
        Unknown (too old, too new, other start) is not divergence."""
        if not isinstance(theirs, dict):
            return False
        count = theirs.get('count')
        with self._lock:
            if self.kb.applied == count:
                mine = (self.kb.digest_since, self.kb.digest)
            else:
                found = self._digests.get(count)  # type: ignore[arg-type]
                if found is None:
                    return False
                mine = found
        if mine[0] is None or mine[0] != theirs.get('since'):
            return False
        return bool(mine[1] != theirs.get('digest'))
