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

"""The writes a member waits on, from submission to commit or failure.

Any thread submits; the runner's tick thread sends (every call into the
SyncObj happens there), retries what pysyncobj reports as retryable,
sends again what went unanswered, and fails what missed its deadline.
A command carries a unique id, so sending it again never applies it
twice.
"""

from __future__ import annotations

import concurrent.futures
import functools
import queue
import threading
from collections.abc import Callable
from typing import Any

from pysyncobj import FAIL_REASON
from pysyncobj.monotonic import monotonic

from sodos import exception

RETRYABLE = frozenset(
    {
        FAIL_REASON.QUEUE_FULL,
        FAIL_REASON.MISSING_LEADER,
        FAIL_REASON.DISCARDED,
        FAIL_REASON.NOT_LEADER,
        FAIL_REASON.LEADER_CHANGED,
        getattr(FAIL_REASON, 'UNKNOWN_OUTCOME', -1),
    }
)
RETRY_DELAY = 0.1
# A forwarded write can go unanswered for good: pysyncobj drops the
# waiting callbacks of a follower that installs a snapshot. Send again
# (same id, so it applies once) when nothing was heard for this long.
RESEND_AFTER = 5.0

Future = concurrent.futures.Future
# Sends one wire to the Raft log; the callback gets (result, error).
Send = Callable[[dict[str, Any], Callable[[Any, int], None]], None]


def abandoned() -> exception.NotReady:
    """What a write gets once the site is stopping (abandon)."""
    return exception.NotReady(
        'the site is stopping: the write was not waited for (its outcome '
        'is unknown; retrying it is safe)'
    )


class Pending:
    __slots__ = ('wire', 'future', 'deadline', 'retry_at', 'sent_at')

    def __init__(self, wire: dict[str, Any], deadline: float) -> None:
        self.wire = wire
        self.future: Future[dict[str, Any]] = Future()
        self.deadline = deadline
        self.retry_at: float | None = None
        self.sent_at = 0.0


class Writes:
    """Submitted writes until they commit, fail or time out."""

    def __init__(
        self, send: Send, wake: Callable[[], None] = lambda: None
    ) -> None:
        self._send_wire = send
        # Called once a write is queued: the tick thread hands it over.
        self._wake = wake
        self._outbox: queue.SimpleQueue[Pending] = queue.SimpleQueue()
        self._pending: dict[str, Pending] = {}
        self._scanned_at = 0.0
        self._abandoned = threading.Event()

    # -- any thread --------------------------------------------------------

    def submit(self, wire: dict[str, Any], timeout: float) -> Future[Any]:
        if self._abandoned.is_set():
            failed: Future[dict[str, Any]] = Future()
            failed.set_exception(abandoned())
            return failed
        pending = Pending(wire, monotonic() + timeout)
        self._outbox.put(pending)
        if self._abandoned.is_set():
            # Abandoned while this was queued: the tick thread may have
            # failed what it held and stopped, and nothing would ever
            # answer it (its caller waits without a timeout of its own).
            self._drop_outbox()
        self._wake()
        return pending.future

    def abandon(self) -> None:
        """Fail every write still waiting, and every new one."""
        self._abandoned.set()

    # -- the tick thread ---------------------------------------------------

    def tick(self, send: bool = True) -> None:
        """Send what was submitted (before pysyncobj's tick).

        ``send=False`` takes it in to be sent at the next scan that sends.
        """
        if self._abandoned.is_set():
            self._drop_outbox()
            self.fail_all(abandoned())
        while True:
            try:
                pending = self._outbox.get_nowait()
            except queue.Empty:
                return
            known = self._pending.get(pending.wire['id'])
            if known is not None:
                # The same command again: answer both from one commit.
                known.future.add_done_callback(
                    functools.partial(_copy_outcome, pending.future)
                )
                continue
            self._pending[pending.wire['id']] = pending
            if send:
                self._send(pending)
            else:
                pending.retry_at = monotonic()

    def _send(self, pending: Pending) -> None:
        pending.sent_at = monotonic()
        self._send_wire(
            pending.wire, functools.partial(self._answered, pending)
        )

    def _answered(self, pending: Pending, result: Any, error: int) -> None:
        if pending.future.done():
            return
        if error == FAIL_REASON.SUCCESS:
            self._pending.pop(pending.wire['id'], None)
            pending.future.set_result(result)
        elif error in RETRYABLE:
            pending.retry_at = monotonic() + RETRY_DELAY
        else:
            self._pending.pop(pending.wire['id'], None)
            pending.future.set_exception(
                exception.SodosError(
                    'the Raft log refused %s (reason %s)'
                    % (pending.wire['type'], error)
                )
            )

    def retry_and_expire(self, send: bool = True) -> None:
        """Send again what is due, fail what is late (after the tick).

        ``send=False`` only fails what is late: no SyncObj runs to send to.
        """
        now = monotonic()
        # Thousands may be pending under load: a scan per tick would cost
        # more than the writes themselves; every RETRY_DELAY is enough.
        if now - self._scanned_at < RETRY_DELAY:
            return
        self._scanned_at = now
        for command_id, pending in list(self._pending.items()):
            if pending.future.done():
                del self._pending[command_id]
            elif now > pending.deadline:
                del self._pending[command_id]
                pending.future.set_exception(
                    exception.CommitTimeout(
                        '%s %s was not committed in time: no leader with a '
                        'quorum answered. It may still apply later; '
                        'retrying it is safe'
                        % (pending.wire['type'], command_id)
                    )
                )
            elif not send:
                continue
            elif pending.retry_at is not None and now >= pending.retry_at:
                pending.retry_at = None
                self._send(pending)
            elif now - pending.sent_at > RESEND_AFTER:
                self._send(pending)

    def retry_all_soon(self) -> None:
        """Whatever was queued in a SyncObj just replaced is lost with it:
        send every waiting write again at the next scan."""
        for pending in self._pending.values():
            pending.retry_at = monotonic()

    def _drop_outbox(self) -> None:
        while True:
            try:
                pending = self._outbox.get_nowait()
            except queue.Empty:
                return
            if not pending.future.done():
                pending.future.set_exception(abandoned())

    def fail_all(self, error: Exception) -> None:
        """Fail every write, those still queued for the tick thread too
        (it fails them all as it stops: no one would answer them)."""
        self._drop_outbox()
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(error)
        self._pending.clear()


def _copy_outcome(target: Future[Any], source: Future[Any]) -> None:
    if source.exception() is not None:
        target.set_exception(source.exception())
    else:
        target.set_result(source.result())
