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

"""A bounded window of entries in flight to each member.

pysyncobj 0.3.17's leader, once a member's match is confirmed, sends it
batch after batch in one heartbeat until its log ends (or the heartbeat
period runs out, and again at the next one): a fresh member catching up
on 10,000 entries had all of them in flight at once, queued in the
leader's write buffer and in the sockets. If the connection then drops
(either side not reading for ``[raft]connection_timeout`` on a starved
machine), everything in flight is lost and sent again, from the probe
that follows.

As etcd's raft does (``Progress`` in the replicate state, with its
``Inflights``), this leader keeps at most ``[raft]max_inflight_bytes`` of
entries per member beyond what the member has acknowledged. Where the
window held entries back, and where an answer confirms the match a probe
looked for, the acknowledgement sends more at once rather than at the
next heartbeat (pysyncobj's leader sends only from its tick). A member
in step has next to nothing in flight: a write goes out at once, as
before. At least one batch may always be in flight (and the chunks of an
entry larger than a batch are never split), so the bound is the option
or one batch, whichever is larger. The probe for a member whose match
is not confirmed yet (sodos.kb.raft.repair) goes alone: it is not sent
again while it is in flight (a starved member got it once per heartbeat
it had not answered).

A member whose window is full still gets an empty append-entries once a
heartbeat period has passed since the last message to it: it keeps its
election timer and the connection's liveness checks going. What is in
flight is forgotten when the member refuses a batch (the leader probes
again from there, see sodos.kb.raft.repair), when its connection drops
(nothing sent on it can be acknowledged any more), and when this member
becomes leader.
"""

from __future__ import annotations

import collections
import functools
from collections.abc import Callable
from typing import Any

from pysyncobj.monotonic import monotonic

from sodos.kb.raft.repair import RepairingSyncObj

DEFAULT_MAX_INFLIGHT = 1024 * 1024
# The attribute of the SyncObjConf that carries [raft]max_inflight_bytes
# (pysyncobj's own options have no such field, and ignore it).
CONF_KEY = 'sodos_max_inflight_bytes'


class Inflight:
    """What one member was sent and has not acknowledged yet."""

    def __init__(self) -> None:
        # (last index of a message, its bytes), oldest first.
        self.sent: collections.deque[tuple[int, int]] = collections.deque()
        self.size = 0

    def add(self, last: int, size: int) -> None:
        self.sent.append((last, size))
        self.size += size

    def acknowledged(self, upto: int) -> bool:
        """Free what ``upto`` covers; whether anything was freed."""
        freed = False
        while self.sent and self.sent[0][0] <= upto:
            self.size -= self.sent.popleft()[1]
            freed = True
        return freed

    def has_room(self, size: int, bound: int) -> bool:
        return not self.sent or self.size + size <= bound


def entries_size(message: dict[str, Any]) -> tuple[int, int] | None:
    """The last index a message sends and its bytes (None: no entries)."""
    if 'transmission' in message:
        # A chunk of one large entry: the entry after prevLogIdx.
        return message['prevLogIdx'] + 1, len(message['data'])
    entries = message.get('entries')
    if not entries:
        return None
    return entries[-1][1], sum(len(entry[0]) for entry in entries)


class WindowedSyncObj(RepairingSyncObj):
    """A SyncObj that bounds what is in flight to each member."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Set before the base starts its transport (see RepairingSyncObj).
        self._inflight: dict[Any, Inflight] = {}
        self._sent_at: dict[Any, float] = {}
        # Per member held back in this call of __sendAppendEntries: the
        # index to send from next time.
        self._held: dict[Any, int] = {}
        self._sent_now: set[Any] = set()
        # Members with entries held back for want of room: the next
        # acknowledgement sends more.
        self._waiting: set[Any] = set()
        # Read here, not from the base's conf after its __init__: pysyncobj
        # pickles into its snapshots (and restores from them) whatever an
        # instance gains after that.
        conf = kwargs.get('conf', args[2] if len(args) > 2 else None)
        self._max_inflight = int(
            getattr(conf, CONF_KEY, None) or DEFAULT_MAX_INFLIGHT
        )
        super().__init__(*args, **kwargs)

    def inflight_bytes(self, node: Any) -> int:
        """Bytes of entries sent to ``node`` and not acknowledged yet."""
        window = self._inflight.get(node)
        return window.size if window is not None else 0

    # -- acknowledgements ------------------------------------------------

    def _SyncObj__onMessageReceived(self, node: Any, message: Any) -> None:
        answer = (
            isinstance(message, dict)
            and message.get('type') == 'next_node_idx'
            and self._isLeader()
        )
        probing = node in self._probing
        super()._SyncObj__onMessageReceived(node, message)
        if answer and self._isLeader():
            self._answered(node, message, probing)

    def _answered(
        self, node: Any, message: dict[str, Any], probing: bool
    ) -> None:
        window = self._inflight.get(node)
        if window is None:
            return
        if message.get('success'):
            freed = window.acknowledged(message['next_node_idx'] - 1)
            # More goes out now where the window held entries back, or
            # where this answer confirmed the match a probe looked for;
            # a member in step is sent its entries as before.
            matched = probing and node not in self._probing
            if freed and (node in self._waiting or matched):
                self._waiting.discard(node)
                self._send_more(node)
        elif message.get('reset'):
            # Refused: what follows in the pipe is refused too, and the
            # leader probes again (sodos.kb.raft.repair).
            self._forget(node)

    def _send_more(self, node: Any) -> None:
        """Send ``node`` what its window has room for now (entries that
        fit in plain batches only; the rest waits for the heartbeat)."""
        if node not in self._SyncObj__connectedNodes or node in self._probing:
            return
        next_index = self._SyncObj__raftNextIndex
        batch = self._SyncObj__conf.appendEntriesBatchSizeBytes
        window = self._inflight.setdefault(node, Inflight())
        while node in next_index:
            start = next_index[node]
            if start <= self._SyncObj__raftLog[0][1]:
                return  # It needs the snapshot.
            entries = self._SyncObj__getEntries(start, None, batch)
            if not entries or len(entries[0][0]) >= batch:
                return  # Nothing to send, or an entry sent in chunks.
            if not window.has_room(
                sum(len(e[0]) for e in entries), self._max_inflight
            ):
                self._waiting.add(node)
                return
            prev, prev_term = self._SyncObj__getPrevLogIndexTerm(start)
            next_index[node] = entries[-1][1] + 1
            self._SyncObj__transport.send(
                node,
                {
                    'type': 'append_entries',
                    'term': self._SyncObj__raftCurrentTerm,
                    'commit_index': self._SyncObj__raftCommitIndex,
                    'entries': entries,
                    'prevLogIdx': prev,
                    'prevLogTerm': prev_term,
                },
            )
            if node not in self._SyncObj__connectedNodes:
                return

    # -- sending ---------------------------------------------------------

    def _SyncObj__sendAppendEntries(self) -> None:
        self._held.clear()
        self._sent_now.clear()
        try:
            super()._SyncObj__sendAppendEntries()
        finally:
            next_index = self._SyncObj__raftNextIndex
            for node, index in self._held.items():
                if node in next_index:
                    next_index[node] = index
            self._held.clear()
            self._sent_now.clear()

    def _send(self, send: Callable[..., Any], node: Any, message: Any) -> Any:
        # Past the repair probe's filter, through the window.
        return super()._send(
            functools.partial(self._send_windowed, send), node, message
        )

    def _send_windowed(
        self, send: Callable[..., Any], node: Any, message: Any
    ) -> Any:
        if not (
            isinstance(message, dict)
            and message.get('type') == 'append_entries'
            and 'prevLogIdx' in message
        ):
            return send(node, message)
        if node in self._held:
            return None  # The rest of a held call (chunks of an entry).
        window = self._inflight.setdefault(node, Inflight())
        sending = entries_size(message)
        chunk = message.get('transmission') in ('process', 'finish')
        # A probe goes alone: sent again at every heartbeat while a
        # starved member had not answered, it arrived several times.
        bound = 0 if node in self._probing else self._max_inflight
        if (
            sending is not None
            and not chunk
            and not window.has_room(sending[1], bound)
        ):
            message = self._hold(node, message)
            if message is None:
                return None
            sending = None
        if sending is not None:
            window.add(*sending)
        self._sent_at[node] = monotonic()
        self._sent_now.add(node)
        return send(node, message)

    def _hold(
        self, node: Any, message: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Hold back the batch ``message`` (and the rest of this call) for
        ``node``; the empty append-entries to send instead, if due."""
        next_index = self._SyncObj__raftNextIndex
        self._held[node] = message['prevLogIdx'] + 1
        self._waiting.add(node)
        # Ends pysyncobj's loop for this member; restored after the call.
        next_index[node] = self._SyncObj__raftLog[-1][1] + 1
        period = self._SyncObj__conf.appendEntriesPeriod
        if (
            node in self._sent_now
            or monotonic() - self._sent_at.get(node, 0.0) < period
        ):
            return None
        return {
            k: v
            for k, v in message.items()
            if k not in ('transmission', 'data', 'entries')
        } | {'entries': []}

    # -- forgetting ------------------------------------------------------

    def _forget(self, node: Any) -> None:
        self._inflight.pop(node, None)
        self._sent_at.pop(node, None)
        self._waiting.discard(node)

    def _SyncObj__onNodeDisconnected(self, node: Any) -> None:
        self._forget(node)
        super()._SyncObj__onNodeDisconnected(node)

    def _SyncObj__onReadonlyNodeDisconnected(self, node: Any) -> None:
        self._forget(node)
        super()._SyncObj__onReadonlyNodeDisconnected(node)

    def _SyncObj__onBecomeLeader(self) -> None:
        self._inflight.clear()
        self._waiting.clear()
        super()._SyncObj__onBecomeLeader()
