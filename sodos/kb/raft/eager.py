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

"""Commits without a heartbeat's wait, batched as they arrive.

pysyncobj 0.3.17 offers two ways for a leader to send new entries:

* batched (``appendEntriesUseBatch``, its default): entries wait for the
  next heartbeat, so every commit waits up to a heartbeat period, twice
  for a write made on a follower (forwarded, then its commit learnt);
* unbatched: the leader's tick wakes when a command is submitted and
  sends append-entries after *each* command it takes from the queue, and
  again whenever its commit index moves, so followers learn commits at
  once. Under load that is one message per command per member.

This subclass keeps the unbatched mode's wake-ups and commit notices but
sends once per tick what that tick took from the queue: commands that
arrive together travel together, and a lone write goes out at once. In
batched mode it changes nothing (pysyncobj sends nothing while it drains
the queue there). Upstream has no such mode as of 0.3.17.

:meth:`EagerSyncObj.wake` ends the tick thread's wait in its poller at
once: sodos hands its writes to pysyncobj in the tick thread, so without
it a write made from another thread waits out the poll (up to a tick).
"""

from __future__ import annotations

import os
import threading
from typing import Any

from pysyncobj.poller import POLL_EVENT_TYPE

from sodos.kb.raft.matching import MatchingSyncObj

# How long the tick thread waits in its poller when nothing arrives: the
# leader's heartbeats need the finer pace. A member that does not lead
# gets its work with the leader's messages, which end the wait at once,
# as a write or call made on it does (wake); what is left for a quiet
# tick (election and connection deadlines, seconds away) needs no finer
# pace. Every member waking twenty times a second was, on a machine
# running a hundred sites, a good part of their idle cost.
LEADER_TICK = 0.05
FOLLOWER_TICK = 0.2


class EagerSyncObj(MatchingSyncObj):
    """A SyncObj that sends each tick's new entries in one go."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Every attribute is set before the base's __init__: pysyncobj
        # pickles, in each snapshot, the attributes an instance gained
        # after it (a lock cannot be pickled, and the snapshot fails).
        self._draining = False
        self._send_owed = False
        self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        # Held while writing to or closing the pipe: a write after the
        # close could land in whatever file reused the descriptor.
        self._wake_lock = threading.Lock()
        self._wake_open = True
        super().__init__(*args, **kwargs)
        self._poller.subscribe(self._wake_r, self._woken, POLL_EVENT_TYPE.READ)

    def tick_wait(self) -> float:
        """How long the next tick may wait for something to arrive."""
        return LEADER_TICK if self._isLeader() else FOLLOWER_TICK

    def wake(self) -> None:
        """End the tick thread's current wait (from any thread)."""
        with self._wake_lock:
            if not self._wake_open:
                return
            try:
                os.write(self._wake_w, b'w')
            except BlockingIOError:
                pass  # The pipe is full: a wake-up is pending anyway.

    def _woken(self, descr: int, event: int) -> None:
        try:
            while os.read(self._wake_r, 4096):
                pass
        except OSError:
            pass

    def _doDestroy(self) -> None:
        super()._doDestroy()
        with self._wake_lock:
            if not self._wake_open:
                return
            self._wake_open = False
            self._poller.unsubscribe(self._wake_r)
            os.close(self._wake_r)
            os.close(self._wake_w)

    def _checkCommandsToApply(self) -> None:
        self._draining = True
        try:
            super()._checkCommandsToApply()
        finally:
            self._draining = False
        if self._send_owed:
            self._send_owed = False
            self._SyncObj__sendAppendEntries()

    def _SyncObj__sendAppendEntries(self) -> None:
        if self._draining:
            # Unbatched pysyncobj sends after every command it appends:
            # owe one send for the whole drain instead.
            self._send_owed = True
            return
        super()._SyncObj__sendAppendEntries()
