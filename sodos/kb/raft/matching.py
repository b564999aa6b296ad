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

"""A follower that truncates its log only where it conflicts.

pysyncobj 0.3.17's follower, given append-entries whose ``prevLogIdx``
matches, deletes every entry after ``prevLogIdx`` before appending the
message's entries, whether they conflict or not. A heartbeat (no entries)
or a batch that repeats what the follower has, sent from a ``nextIndex``
the leader moved back (a refusal, a repair probe, a reconnect), so cuts
entries the follower had acknowledged: the leader may already have
counted them towards a commit, and if it then fails, a committed entry
can be lost from a majority. pysyncobj logs "truncating already-applied
log entries" when this hits entries already applied.

Raft deletes only from the first entry that conflicts (same index, other
term) and then sets the commit index no further than the last entry the
message vouched for. This subclass rewrites such a message before
pysyncobj handles it: the entries the follower already has (same index
and term: by Raft's log matching, everything before them agrees too) are
dropped from it and its ``prevLogIdx`` moves past them. When nothing new
is left and the follower holds more entries, the deletion is skipped and
the commit index is bounded by the vouched-for entries. Upstream has no
fix for this as of 0.3.17.
"""

from __future__ import annotations

import logging
from typing import Any

from pysyncobj.monotonic import monotonic

from sodos.kb.raft import election
from sodos.kb.raft.repair import RepairingSyncObj

LOG = logging.getLogger(__name__)


class MatchingSyncObj(RepairingSyncObj):
    """A SyncObj whose followers keep the entries that match."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Set before the base's __init__: out of pysyncobj's snapshots.
        self._keep_log_after: int | None = None
        self.leader_heard_at = monotonic()
        self.leader_gaps = election.LeaderGaps()
        super().__init__(*args, **kwargs)

    def _SyncObj__onMessageReceived(self, node: Any, message: Any) -> None:
        if isinstance(message, dict) and message.get('type') == (
            'append_entries'
        ):
            # When the leader last spoke, and how regularly
            # (sodos.kb.raft.election).
            self.leader_heard_at = monotonic()
            self.leader_gaps.heard(
                getattr(node, 'address', node), self.leader_heard_at
            )
        vouched = None
        if (
            isinstance(message, dict)
            and message.get('type') == 'append_entries'
            and 'prevLogIdx' in message
            and 'transmission' not in message
        ):
            message, vouched = self._without_known_entries(message)
        if vouched is None:
            super()._SyncObj__onMessageReceived(node, message)
            return
        committed: int = self._commit_index()
        self._keep_log_after = vouched
        try:
            super()._SyncObj__onMessageReceived(node, message)
        finally:
            self._keep_log_after = None
        # pysyncobj took the leader's commit index up to its own last
        # entry; only those the message vouched for are known to agree.
        leader_commit = int(message.get('commit_index') or 0)
        bounded = max(committed, min(leader_commit, vouched))
        if self._commit_index() > bounded:
            self._SyncObj__raftCommitIndex = bounded
            self._SyncObj__raftLog.setRaftCommitIndex(bounded)

    def _commit_index(self) -> int:
        return int(self._SyncObj__raftCommitIndex)

    def _without_known_entries(
        self, message: dict[str, Any]
    ) -> tuple[dict[str, Any], int | None]:
        """The message less the entries this log has; and the last index
        it vouches for when nothing new is left but this log holds more
        (None: pysyncobj may handle the message as it is)."""
        prev, prev_term = message['prevLogIdx'], message['prevLogTerm']
        entries = list(message.get('entries') or ())
        if self._term_at(prev) != prev_term:
            return message, None  # refused as before
        known = 0
        for _command, index, term in entries:
            if self._term_at(index) != term:
                break
            known += 1
        if known:
            prev, prev_term = entries[known - 1][1], entries[known - 1][2]
            message = dict(
                message,
                prevLogIdx=prev,
                prevLogTerm=prev_term,
                entries=entries[known:],
            )
        if known == len(entries) and self._last_index() > prev:
            return message, prev
        return message, None

    def _SyncObj__deleteEntriesFrom(self, fromIDx: int) -> None:
        if self._keep_log_after is not None:
            LOG.debug(
                'raft: kept the log after index %d: nothing in the '
                'message conflicts with it',
                self._keep_log_after,
            )
            return
        super()._SyncObj__deleteEntriesFrom(fromIDx)
