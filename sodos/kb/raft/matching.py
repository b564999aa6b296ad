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
is left and the follower holds more entries, pysyncobj gets the message
without its entries (so it deletes nothing, logs no truncation and undoes
no membership change), the follower acknowledges the vouched-for entries
itself and the commit index is bounded by them. Upstream has no fix for
this as of 0.3.17.

An entry larger than ``appendEntriesBatchSizeBytes`` travels alone, in
chunks (``'transmission'``: ``'start'``, ``'process'``..., ``'finish'``)
that pysyncobj joins at ``'finish'`` and then handles as a one-entry
batch, with the same deletion. This subclass joins the chunks itself at
``'finish'`` and hands on a plain one-entry message, rewritten as above.
It also copes with pysyncobj's leader marking as ``'finish'`` a chunk
that is not the last (it compares the offset with the command's length,
not the pickled entry's): the chunks are kept until they make a whole
entry, where pysyncobj fails on the partial pickle.
"""

from __future__ import annotations

from typing import Any

from pysyncobj import pickle
from pysyncobj.monotonic import monotonic

from sodos.kb.raft import election
from sodos.kb.raft.window import WindowedSyncObj


class MatchingSyncObj(WindowedSyncObj):
    """A SyncObj whose followers keep the entries that match."""

    # pysyncobj's: the chunks of an entry received so far ('' when none).
    _SyncObj__recvTransmission: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Set before the base's __init__: out of pysyncobj's snapshots.
        self.leader_heard_at = monotonic()
        self.leader_gaps = election.LeaderGaps()
        super().__init__(*args, **kwargs)

    def _SyncObj__onMessageReceived(self, node: Any, message: Any) -> None:
        if not (
            isinstance(message, dict)
            and message.get('type') == 'append_entries'
        ):
            super()._SyncObj__onMessageReceived(node, message)
            return
        if message.get('term', -1) < self._SyncObj__raftCurrentTerm:
            # pysyncobj ignores it, as any stale message.
            super()._SyncObj__onMessageReceived(node, message)
            return
        # When the leader last spoke, and how regularly
        # (sodos.kb.raft.election).
        self.leader_heard_at = monotonic()
        self.leader_gaps.heard(
            getattr(node, 'address', node), self.leader_heard_at
        )
        if message.get('transmission') == 'finish':
            message = self._joined(node, message)
            if message is None:
                return
        vouched = None
        if 'prevLogIdx' in message and 'transmission' not in message:
            message, vouched = self._without_known_entries(message)
        if vouched is None:
            super()._SyncObj__onMessageReceived(node, message)
            return
        committed: int = self._commit_index()
        # Without its log part, pysyncobj only takes the term, the leader
        # and the commit index from the message. With it, it would log
        # "truncating already-applied log entries" and undo the membership
        # changes in the entries after prevLogIdx (its rollback before a
        # deletion) while keeping those entries.
        super()._SyncObj__onMessageReceived(
            node,
            {
                k: v
                for k, v in message.items()
                if k not in ('prevLogIdx', 'prevLogTerm', 'entries')
            },
        )
        # pysyncobj took the leader's commit index up to its own last
        # entry; only those the message vouched for are known to agree.
        leader_commit = int(message.get('commit_index') or 0)
        bounded = max(committed, min(leader_commit, vouched))
        if self._commit_index() > bounded:
            self._SyncObj__raftCommitIndex = bounded
            self._SyncObj__raftLog.setRaftCommitIndex(bounded)
        self._SyncObj__sendNextNodeIdx(
            node, nextNodeIdx=vouched + 1, success=True
        )

    def _joined(
        self, node: Any, message: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The last chunk of an entry as a one-entry message (None: the
        entry is not whole yet, and the chunk was answered)."""
        received = self._SyncObj__recvTransmission
        if not isinstance(received, bytes):
            # No 'start' was received: pysyncobj would fail adding bytes
            # to its empty str. The leader resends the entry once the next
            # batch is refused.
            received = b''
        received += message['data']
        try:
            entry = pickle.loads(received)
        except Exception:
            # Not whole yet (see the module docstring): answer as
            # pysyncobj answers a chunk, and keep what arrived.
            self._SyncObj__recvTransmission = received
            super()._SyncObj__onMessageReceived(
                node, dict(message, transmission='process', data=b'')
            )
            return None
        self._SyncObj__recvTransmission = ''
        joined = {
            k: v
            for k, v in message.items()
            if k not in ('transmission', 'data')
        }
        joined['entries'] = [entry]
        return joined

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
