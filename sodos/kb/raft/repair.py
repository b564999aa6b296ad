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

"""pysyncobj's SyncObj with a log repair that converges.

pysyncobj 0.3.17 repairs a follower whose log diverged (typically a former
leader that appended entries of its own term and never sent them) so that
it can stay behind for ever:

* the follower answers a mismatch at ``prevLogIdx`` with "start at
  prevLogIdx" (one entry back) and a ``prevLogIdx`` beyond its log with
  "start at my last + 1";
* the leader sends several batches per heartbeat, moving ``nextIndex``
  forward as it sends, and every such answer overwrites ``nextIndex``.

The answer to the first batch steps back by one entry; the answers to the
batches pipelined after it (all beyond the follower's log) put
``nextIndex`` back where it was. The last answer wins, so a follower more
than one batch behind its divergence point never gets the entries it
needs while it logs no error and its member counts itself in quorum.

This subclass changes three things, on both sides of the exchange:

* a follower's refusal names the ``prevLogIdx`` it answers and points at
  the first entry of the conflicting term (never below its commit index,
  whose entries match the leader's), so one refusal skips a whole run of
  entries of a deposed term instead of one entry;
* the leader only moves ``nextIndex`` back on a refusal (capped at the
  follower's last index + 1), except when the follower says the leader
  probed below what it has already committed;
* while a follower's match is unconfirmed, the leader sends it one batch
  (the probe) per heartbeat instead of pipelining past it (and, through
  sodos.kb.raft.window, not again until it is answered or lost);
* a success never moves ``nextIndex`` back. pysyncobj sets it to the
  answer's index whenever the match index grows, so the answer to the
  first of the batches pipelined in one heartbeat sends the leader back
  to resend all the others at the next one, which the follower (busy
  with the first copies) answers late again. A member catching up on a
  long log got each entry several times, more the longer the log and the
  busier the machine (10,000 entries: about six copies each, ten seconds
  instead of one; benchmarks/resync.py). As in etcd's raft
  (``Progress.MaybeUpdate``), a success only moves ``nextIndex``
  forward; entries lost with a connection are resent from the refusal
  of the next batch, whose ``prevLogIdx`` the follower lacks.

Messages keep pysyncobj's shape; the one new key (``sodos_prev``) is
ignored by an unpatched member, and an answer without it is handled as
before, bounded by the same rule. The upstream tracker has no fix for this
as of 0.3.17; drop this class once a release carries one.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from pysyncobj import SyncObj

LOG = logging.getLogger(__name__)

# The key a refusal carries: the prevLogIdx it answers.
PREV_KEY = 'sodos_prev'


def conflict_start(
    terms: Callable[[int], int | None], prev: int, floor: int
) -> int:
    """The index to resend from after a term mismatch at ``prev``.

    ``terms(i)`` is the follower's term at index ``i`` (None if it has no
    entry there). Walks back over the run of entries that share the
    mismatched term, never below ``floor`` (the commit index + 1: entries
    up to the commit index match the leader's).
    """
    if floor > prev:
        # A refusal at or below the commit index cannot be a real
        # conflict; step back by one, as pysyncobj does.
        return prev
    term = terms(prev)
    start = prev
    while start - 1 >= floor and terms(start - 1) == term:
        start -= 1
    return start


class RepairingSyncObj(SyncObj):
    """A SyncObj whose log repair converges (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Set before the base starts its transport: callbacks may come in
        # as soon as it listens.
        self._probing: set[Any] = set()
        self._answering: int | None = None
        # Per probing follower, the prevLogIdx of this heartbeat's probe.
        self._probe_prev: dict[Any, int] = {}
        super().__init__(*args, **kwargs)
        transport = self._SyncObj__transport
        transport.send = functools.partial(self._send, transport.send)

    # -- follower side -------------------------------------------------

    def _SyncObj__onMessageReceived(self, node: Any, message: Any) -> None:
        sent_up_to = None
        if isinstance(message, dict):
            kind = message.get('type')
            if kind == 'append_entries':
                self._answering = message.get('prevLogIdx')
            elif kind == 'next_node_idx' and self._isLeader():
                message = self._bounded(node, message)
                if message.get('success'):
                    sent_up_to = self._SyncObj__raftNextIndex.get(node)
        try:
            super()._SyncObj__onMessageReceived(node, message)
        finally:
            self._answering = None
        if sent_up_to is not None:
            self._keep_next_index(node, sent_up_to)

    def _SyncObj__sendNextNodeIdx(
        self,
        node: Any,
        reset: bool = False,
        nextNodeIdx: int | None = None,
        success: bool = False,
    ) -> None:
        reply: dict[str, Any] = {
            'type': 'next_node_idx',
            'reset': reset,
            'success': success,
        }
        if success:
            # The leader counts what this member acknowledges: it must be
            # on disk first ([raft]fsync = batch).
            self._sync_journal()
        prev = self._answering
        if reset and not success and prev is not None:
            nextNodeIdx = self._refusal_hint(prev, nextNodeIdx)
            reply[PREV_KEY] = prev
        if nextNodeIdx is None:
            nextNodeIdx = self._last_index() + 1
        reply['next_node_idx'] = nextNodeIdx
        self._SyncObj__transport.send(node, reply)

    def _refusal_hint(self, prev: int, mismatch_at: int | None) -> int:
        """Where the leader should resend from, after refusing ``prev``."""
        first = self._SyncObj__raftLog[0][1]
        last = self._last_index()
        floor = self._SyncObj__raftCommitIndex + 1
        if mismatch_at is not None:
            return conflict_start(self._term_at, prev, floor)
        if prev < first:
            # Below what this member compacted: all of it is committed.
            return floor
        return last + 1

    def _term_at(self, index: int) -> int | None:
        entries = self._SyncObj__getEntries(index, 1)
        return entries[0][2] if entries else None

    def _last_index(self) -> int:
        return int(self._SyncObj__raftLog[-1][1])

    # -- durability ----------------------------------------------------

    def _sync_journal(self) -> None:
        sync = getattr(self._SyncObj__raftLog, 'sync', None)
        if sync is not None:
            sync()

    def _onTick(self, timeToWait: float = 0.0) -> None:
        # A leader counts its own log towards a commit at the start of a
        # tick: what it appended in the last one must be on disk first.
        self._sync_journal()
        super()._onTick(timeToWait)

    # -- leader side ---------------------------------------------------

    def _bounded(self, node: Any, message: dict[str, Any]) -> dict[str, Any]:
        """The answer with the ``nextIndex`` the leader may take from it."""
        next_index = self._SyncObj__raftNextIndex
        current = next_index.get(node)
        if current is None:
            return message
        if message.get('success'):
            # A success in this term is a confirmed match: the leader's
            # log only grows while it leads.
            self._probing.discard(node)
            return message
        if not message.get('reset'):
            return message
        hint = message['next_node_idx']
        prev = message.get(PREV_KEY)
        if prev is not None and hint > prev + 1:
            # The leader probed below the follower's commit index: every
            # entry up to the hint is already there.
            chosen = max(current, hint)
        else:
            chosen = min(current, hint)
            self._probing.add(node)
        if chosen != hint:
            message = dict(message, next_node_idx=chosen)
        return message

    def _keep_next_index(self, node: Any, sent_up_to: int) -> None:
        """Undo pysyncobj's move of ``nextIndex`` back on a success."""
        next_index = self._SyncObj__raftNextIndex
        if node in next_index and next_index[node] < sent_up_to:
            next_index[node] = sent_up_to

    def _SyncObj__onBecomeLeader(self) -> None:
        self._probing.clear()
        super()._SyncObj__onBecomeLeader()

    def _SyncObj__sendAppendEntries(self) -> None:
        next_index = self._SyncObj__raftNextIndex
        log_start = self._SyncObj__raftLog[0][1]
        probes = {
            node: next_index[node]
            for node in self._probing
            if node in next_index and next_index[node] > log_start
        }
        self._probe_prev.clear()
        try:
            super()._SyncObj__sendAppendEntries()
        finally:
            self._probe_prev.clear()
        # Send the same probe again next time, until it is answered.
        for node, index in probes.items():
            if node in self._probing and node in next_index:
                next_index[node] = index

    def _send(self, send: Callable[..., Any], node: Any, message: Any) -> Any:
        """Send, but no more than the probe to a follower being repaired."""
        if (
            node in self._probing
            and isinstance(message, dict)
            and message.get('type') == 'append_entries'
            and 'prevLogIdx' in message
        ):
            prev = message['prevLogIdx']
            first = self._probe_prev.setdefault(node, prev)
            # The chunks of one large entry share its prevLogIdx.
            if prev != first:
                return None
        return send(node, message)
