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

"""The thread that owns this member's pysyncobj object.

Like Patroni's Raft store, sodos runs pysyncobj with ``autoTick=False`` and
ticks it from one thread of its own. Every call into the SyncObj happens in
that thread (other threads queue work for it), which makes promotion
possible: a read-only SyncObj cannot become a voter in place, so the
runner destroys it and builds a voter on the same journal and dump, with
fresh state objects (doc/source/contributor/design-notes.rst,
"No promotion in place").
"""

from __future__ import annotations

import concurrent.futures
import logging
import queue
import threading
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

from pysyncobj import FAIL_REASON
from pysyncobj import SyncObjConf
from pysyncobj.monotonic import monotonic

from sodos import exception
from sodos.kb import query as kbquery
from sodos.kb.raft import eager
from sodos.kb.raft import objstatus
from sodos.kb.raft import snapshot
from sodos.kb.raft import vigil
from sodos.kb.raft import writes
from sodos.kb.raft.consumer import KBConsumer

LOG = logging.getLogger(__name__)

TICK = eager.LEADER_TICK
STATUS_PERIOD = 0.1
# How long a freshly built voter waits for the leader before it may
# campaign: without this hold, a promoted member whose journal carries the
# current term forces an election (doc/source/contributor/design-notes.rst,
# "The candidacy hold").
CANDIDACY_HOLD = 30.0
# How long a read made while the member replays its journal at start
# waits for the replay before it is refused (NotReady).
REPLAY_WAIT = 30.0
# How often a member whose rebuild failed (its Raft port taken by another
# process, a journal it cannot open) tries to build its SyncObj again.
REBUILD_RETRY = 1.0
Applied = Callable[[dict[str, Any], dict[str, Any]], None]


class RaftRunner:
    """One SyncObj, its tick thread and the work queued for it."""

    def __init__(
        self,
        address: str,
        make_conf: Callable[[bool], SyncObjConf],
        on_applied: Applied,
        on_voters: Callable[[list[str]], None],
    ) -> None:
        self.address = address
        self._make_conf = make_conf
        self._on_applied = on_applied
        self._on_voters = on_voters
        self._obj: Any = None
        self._consumer: KBConsumer | None = None
        self._reader: KBConsumer | None = None
        self.voter = False
        self._calls: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.writes = writes.Writes(self._send, self._wake)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._status: dict[str, Any] = {}
        self._status_at = 0.0
        self._voters: list[str] = []
        self.error: BaseException | None = None
        # Set once the member has applied what its journal says was
        # committed before it stopped: until then its state is older
        # than what it served before (an empty KB right after a restart).
        self._replayed = threading.Event()
        self._replay_to = 0
        # A rebuild whose new SyncObj could not be built yet: (voter,
        # voters) to build, retried every REBUILD_RETRY until it works.
        self._unbuilt: tuple[bool, list[str]] | None = None
        self._build_at = 0.0
        self.problem: str | None = None

    # -- lifecycle -------------------------------------------------------

    def start(self, voter: bool, voters: list[str]) -> None:
        built = threading.Event()

        def run() -> None:
            try:
                self._build(voter, voters, hold=False)
            except BaseException as exc:
                self.error = exc
                return
            finally:
                built.set()
            self._loop()

        self._thread = threading.Thread(target=run, name='sodos-raft')
        self._thread.daemon = True
        self._thread.start()
        built.wait()
        if self.error is not None:
            raise exception.ConfigError(
                'cannot start the Raft member at %s: %s'
                % (self.address, self.error)
            )

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _build(self, voter: bool, voters: list[str], hold: bool) -> None:
        consumer = KBConsumer(self._on_applied)
        others = sorted(v for v in voters if v != self.address)
        obj = vigil.VigilantSyncObj(
            self.address if voter else None,
            others,
            self._make_conf(voter),
            consumers=[consumer],
        )
        snapshot.write_voters_only(obj)
        if voter and hold:
            # Private attribute of pysyncobj 0.3.17 (pinned); the first
            # append-entries from the leader resets it to a normal timeout.
            name = '_SyncObj__raftElectionDeadline'
            if hasattr(obj, name):
                setattr(obj, name, monotonic() + CANDIDACY_HOLD)
        old_reader = self._consumer
        if old_reader is None:
            self._replay_to = objstatus.persisted_commit(obj)
        self._obj, self._consumer, self.voter = obj, consumer, voter
        # Keep serving reads from the old state until the new objects have
        # replayed the journal that far.
        self._reader = old_reader or consumer
        LOG.info(
            'raft: running as %s with voters %s',
            'voter' if voter else 'read-only member',
            ', '.join(
                sorted(set(others) | ({self.address} if voter else set()))
            )
            or '(none)',
        )

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self._tick()
            except Exception:
                # pysyncobj logs and continues after a failed tick too; a
                # dead tick thread would silently freeze the member.
                LOG.exception('raft: tick failed')
                self._stopping.wait(TICK)
        stopping = exception.NotReady('the Raft member is stopping')
        # Writes and calls made from now on fail at once: nothing would
        # ever answer them, and their callers would wait out a timeout.
        self.writes.abandon()
        self.writes.fail_all(stopping)
        self._fail_calls(stopping)
        if self._unbuilt is not None:
            return  # Destroyed by the rebuild that could not build anew.
        try:
            self._obj.destroy()
        except Exception:
            LOG.exception('raft: destroy failed')

    def _tick(self) -> None:
        if self._build_pending():
            self._run_calls()
        if self._unbuilt is not None:
            # The old SyncObj is destroyed and no new one runs (a rebuild,
            # perhaps by a call just run, failed): nothing may touch
            # either. Writes wait (or expire); calls fail.
            self._fail_calls(exception.NotReady(self.problem or 'rebuilding'))
            self.writes.tick(send=False)
            self.writes.retry_and_expire(send=False)
            self._stopping.wait(TICK)
            return
        self.writes.tick()
        self._obj.doTick(self._obj.tick_wait())
        self.writes.retry_and_expire()
        self._refresh_status()

    # -- work for the tick thread ----------------------------------------

    def call(self, func: Callable[[Any], Any], timeout: float = 10.0) -> Any:
        """Run ``func(syncobj)`` in the tick thread and return its result."""
        if threading.current_thread() is self._thread:
            return func(self._obj)
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._calls.put((func, future))
        if self._thread is None or not self._thread.is_alive():
            # Stopped (or never started): no tick thread will run it.
            self._fail_calls(exception.NotReady('the Raft member is stopped'))
        self._wake()
        return future.result(timeout)

    def _queued_calls(self) -> Iterator[tuple[Callable[[Any], Any], Any]]:
        """Take the calls queued for the tick thread, one at a time."""
        while True:
            try:
                yield self._calls.get_nowait()
            except queue.Empty:
                return

    def _fail_calls(self, error: Exception) -> None:
        for _func, future in self._queued_calls():
            if not future.done():
                future.set_exception(error)

    def _wake(self) -> None:
        """End the tick thread's wait: work was queued for it."""
        obj = self._obj
        if obj is not None:
            obj.wake()

    def _run_calls(self) -> None:
        for func, future in self._queued_calls():
            try:
                future.set_result(func(self._obj))
            except BaseException as exc:
                future.set_exception(exc)

    def rebuild(
        self,
        voter: bool,
        voters: list[str],
        between: Callable[[], None] | None = None,
    ) -> None:
        """Become a voter (promotion) or a read-only member (demotion).

        ``between`` runs once the old object is gone and before the new
        one reads the disk (to set the member's files aside).
        """

        def do(obj: Any) -> None:
            if self._unbuilt is None:
                obj.destroy()
                if between is not None:
                    between()
            # else: the last rebuild's object is gone already; build what
            # is asked now instead.
            self._unbuilt = (voter, voters)
            self._build_at = 0.0
            self._build_pending()
            self.writes.retry_all_soon()

        self.call(do)

    def _build_pending(self) -> bool:
        """Build the SyncObj a rebuild asked for; False while it cannot.

        A member whose new object fails to build must not stay on the
        destroyed one (its every tick would fail, for ever, while it
        looks alive): it keeps trying, and says why it cannot.
        """
        if self._unbuilt is None:
            return True
        now = monotonic()
        if now < self._build_at:
            return False
        voter, voters = self._unbuilt
        try:
            self._build(voter, voters, hold=voter)
        except Exception as exc:
            self._build_at = now + REBUILD_RETRY
            problem = 'cannot start the Raft member at %s as a %s: %s; ' % (
                self.address,
                'voter' if voter else 'read-only member',
                exc or type(exc).__name__,
            ) + 'retrying every %g s (is another process using the port?)' % (
                REBUILD_RETRY
            )
            if problem != self.problem:
                LOG.error('raft: %s', problem)
            self.problem = problem
            self._status = dict(self._status, ready=False, has_quorum=False)
            return False
        if self.problem is not None:
            LOG.info('raft: the Raft member runs again')
        self._unbuilt = None
        self.problem = None
        return True

    def membership_change(
        self, kind: str, address: str
    ) -> concurrent.futures.Future[int]:
        """Ask the leader to add or remove a voter; resolves to FAIL_REASON."""
        future: concurrent.futures.Future[int] = concurrent.futures.Future()

        def done(_result: Any, error: int) -> None:
            if not future.done():
                future.set_result(error)

        def do(obj: Any) -> None:
            if kind == 'add':
                obj.addNodeToCluster(address, callback=done)
            else:
                obj.removeNodeFromCluster(address, callback=done)

        self.call(do)
        return future

    def transfer_leadership(self, address: str) -> int:
        result: list[int] = []

        def do(obj: Any) -> None:
            obj.transferLeadership(
                address, callback=lambda _r, err: result.append(err)
            )

        self.call(do)
        return result[0] if result else FAIL_REASON.REQUEST_DENIED

    # -- writes (sodos.kb.raft.writes) ------------------------------------

    def submit(
        self, wire: dict[str, Any], timeout: float
    ) -> concurrent.futures.Future[dict[str, Any]]:
        return self.writes.submit(wire, timeout)

    def abandon_writes(self) -> None:
        """Fail every write still waiting, and every new one."""
        self.writes.abandon()

    def _send(
        self, wire: dict[str, Any], callback: Callable[[Any, int], None]
    ) -> None:
        assert self._consumer is not None
        self._consumer.apply(wire, callback=callback)

    # -- reads -----------------------------------------------------------

    def read(self, query: kbquery.Query) -> Any:
        reader = self._reader
        if reader is None:
            raise exception.NotReady('the Raft member has not started')
        if not self._replayed.is_set() and (
            threading.current_thread() is not self._thread
        ):
            if not self._replayed.wait(REPLAY_WAIT):
                raise exception.NotReady(
                    'the Raft member is still replaying its journal '
                    '(index %d to reach); try again shortly' % self._replay_to
                )
        return reader.read(query)

    def status(self) -> dict[str, Any]:
        return self._status

    def fingerprint(self) -> dict[str, Any] | None:
        """Where this member's state is (see KBConsumer.fingerprint)."""
        consumer = self._consumer
        return None if consumer is None else consumer.fingerprint()

    def diverges(self, theirs: Any) -> bool:
        """Whether another member's fingerprint contradicts this one's."""
        consumer = self._consumer
        return consumer is not None and consumer.diverges(theirs)

    def _refresh_status(self) -> None:
        now = monotonic()
        obj = self._obj
        if not self._replayed.is_set() and (
            obj.raftLastApplied >= self._replay_to or obj.isReady()
        ):
            self._replayed.set()
        consumer = self._consumer
        if consumer is not None and self._reader is not consumer:
            assert self._reader is not None
            if consumer.applied >= self._reader.applied:
                self._reader = consumer
        if now - self._status_at < STATUS_PERIOD:
            return
        self._status_at = now
        self._status = objstatus.status(self._obj, self.address, self.voter)
        self._status['at'] = now
        voters = self._status['voters']
        if voters != self._voters:
            self._voters = voters
            self._on_voters(voters)
