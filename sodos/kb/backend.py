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

"""The state-backend interface: what the roles may ask of the KB.

The roles never touch the consensus engine. They make commands, submit
them and read the applied state through this interface, so the engine
(pysyncobj today, driver ``raft``) can change without touching them.
Drivers are stevedore plugins in the ``sodos.state_backends`` namespace.
"""

from __future__ import annotations

import abc
import concurrent.futures
import dataclasses
import logging
import threading
import time
import typing
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

from oslo_config import cfg

from sodos import exception
from sodos import jsonsafe
from sodos import plugins
from sodos.kb import commands
from sodos.kb import query as kbquery
from sodos.kb import versions

LOG = logging.getLogger(__name__)
NAMESPACE = 'sodos.state_backends'

Result = dict[str, Any]
Listener = Callable[[dict[str, Any], Result], None]


@dataclasses.dataclass
class MemberStatus:
    """How this member sees the federation right now (local, not agreed)."""

    site: str
    address: str
    # 'voter', 'readonly', 'starting' or 'stopped'
    role: str
    ready: bool
    leader: str | None
    leader_site: str | None
    is_leader: bool
    term: int
    has_quorum: bool
    commit_index: int
    last_applied: int
    # [{'address': ..., 'site': ..., 'connected': bool}], as this member
    # sees them; only the leader's view of 'connected' is complete.
    voters: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    # The leader's commit index as this member last heard it (None: no
    # leader heard, or a backend without one).
    leader_commit_index: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class StateBackend(abc.ABC):
    """One member of the replicated Knowledge Base."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf
        self.site = conf.site_name
        # This process's incarnation: the wall clock in milliseconds when
        # it started, so that a restart comes back above any it had
        # (unless the clock went back). The site says it when it
        # registers, and its gossip starts there: a verdict on the site
        # at a lower incarnation is about a process that is gone.
        self.incarnation = int(time.time() * 1000)
        self._listeners: list[Listener] = []
        self._listeners_lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------

    @abc.abstractmethod
    def start(self) -> None:
        """Join or restore the federation; return once the member runs."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Stop cleanly, leaving state on disk that restarts."""

    def wait_ready(self, timeout: float) -> bool:
        """Wait until the member has caught up with a leader."""
        return True

    # -- writes ----------------------------------------------------------

    @abc.abstractmethod
    def submit_async(
        self, command: commands.Command, timeout: float | None = None
    ) -> concurrent.futures.Future[Result]:
        """Submit; the future ends with the applier's result once committed.

        The future fails with :class:`CommitTimeout` after ``timeout``
        (default ``[raft]commit_timeout``); the command may still apply
        later, and a resubmission with the same id is applied once only.
        """

    def submit(
        self,
        command: commands.Command,
        timeout: float | None = None,
        check: bool = True,
    ) -> Result:
        """Submit and wait until committed and applied here.

        :raises CommandRejected: if ``check`` and the applier refused it.
        :raises CommitTimeout: if it could not commit in time.
        :raises InvalidCommand: it carries a value JSON cannot; not
            submitted.
        """
        result = self._submit_safe(command, timeout).result()
        if check and not result.get('ok'):
            raise exception.CommandRejected(
                '%s refused: %s' % (command.type, result.get('error'))
            )
        return result

    def submit_many(
        self,
        batch: Sequence[commands.Command],
        timeout: float | None = None,
    ) -> list[Result]:
        """Submit every command at once, then wait for them all.

        They enter the log in this order and commit in one replication
        round instead of a round each (a round is about a heartbeat
        period: at 100 sites, ten site transitions one after the other
        took ten seconds). The results come in the same order; a command
        that could not commit in time answers ``{'ok': False, 'error':
        ..., 'timeout': True}`` (its outcome is unknown, as for
        :meth:`submit`).
        """
        futures = [self._submit_safe(command, timeout) for command in batch]
        return [outcome(future) for future in futures]

    def _submit_safe(
        self, command: commands.Command, timeout: float | None
    ) -> concurrent.futures.Future[Result]:
        """:meth:`submit_async`, but a command carrying what JSON cannot
        (NaN, a lone surrogate, deep nesting) fails with InvalidCommand
        and never enters the log: replicated, it would make every read
        of it invalid JSON at every site. Checked here, by the proposer
        only: an applier refusing it would diverge from members running
        older code."""
        try:
            jsonsafe.check(command.args, command.type)
        except exception.InvalidJson as exc:
            failed: concurrent.futures.Future[Result] = (
                concurrent.futures.Future()
            )
            failed.set_exception(exception.InvalidCommand(str(exc)))
            return failed
        refused = self._newer_than_federation(command)
        if refused:
            # Answered as the state machine would refuse it, so callers
            # and the RPC API report it the same way; never in the log.
            answer: concurrent.futures.Future[Result] = (
                concurrent.futures.Future()
            )
            answer.set_result({'ok': False, 'error': refused})
            return answer
        return self.submit_async(command, timeout)

    def _newer_than_federation(self, command: commands.Command) -> str | None:
        """Why ``command`` may not be proposed while a site runs older
        code (:mod:`sodos.kb.versions`), or None."""
        if command.v <= versions.UNPUBLISHED:
            # Every site knows it: no read on the common path.
            return None
        return versions.refusal(
            command.type, command.v, self.read('sites') or {}
        )

    def abandon_writes(self) -> None:
        """Fail the writes waiting for their commit, and any new one:
        the site is stopping (their outcome is unknown, as on a commit
        timeout)."""
        # A backend that commits at once (in memory) has nothing waiting.
        return None

    def command(self, type: str, args: dict[str, Any]) -> commands.Command:
        """A command from this site; leader-only ones carry the current
        term, so that the applier refuses them if this member no longer
        leads."""
        term = self.term if type in commands.LEADER_ONLY else None
        return commands.make(type, args, self.site, term=term)

    def propose(
        self,
        type: str,
        args: dict[str, Any],
        timeout: float | None = None,
        check: bool = True,
    ) -> Result:
        """Make a command from this site (:meth:`command`) and submit it."""
        command = self.command(type, args)
        return self.submit(command, timeout=timeout, check=check)

    def propose_many(
        self, batch: Sequence[tuple[str, dict[str, Any]]]
    ) -> list[Result]:
        """Make ``(type, args)`` commands and :meth:`submit_many` them."""
        return self.submit_many([self.command(t, a) for t, a in batch])

    # -- reads -----------------------------------------------------------

    def read(
        self, query: kbquery.Query | str | None = None, **fields: Any
    ) -> Any:
        """A copy of the locally applied state (may lag the leader), as
        much of it as ``query`` asks (:func:`sodos.kb.query.of`'s
        shorthand taken: ``read('sites')``)."""
        return self.read_query(kbquery.of(query, **fields))

    @abc.abstractmethod
    def read_query(self, query: kbquery.Query) -> Any:
        """:meth:`read` for a query already made: what a backend
        implements (the shorthand stays in one place)."""

    @abc.abstractmethod
    def status(self) -> MemberStatus:
        """This member's view of the federation."""

    @property
    @abc.abstractmethod
    def term(self) -> int:
        """The current Raft term as this member knows it."""

    def is_leader(self) -> bool:
        return self.status().is_leader

    def in_quorum(self) -> bool:
        """True while this member is in contact with a quorum.

        Exec acts only while this holds (fencing).
        """
        return self.status().has_quorum

    def liveness(self) -> dict[str, float]:
        """Seconds since each site was last heard of (leader only)."""
        return {}

    def leader_confirmed_dead(self, site: str) -> bool:
        """The failure detector confirmed ``site`` dead: if it leads, a
        voter stands for election now rather than at its timeout.
        Returns whether this member will stand; backends with no
        election say no."""
        return False

    # -- watching --------------------------------------------------------

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(command, result)`` after each applied command.

        Listeners run in the thread that applies the log: they must be
        quick and must never submit and wait (that would deadlock).
        """
        with self._listeners_lock:
            self._listeners.append(listener)

    def _notify(self, wire: dict[str, Any], result: Result) -> None:
        for listener in list(self._listeners):
            try:
                listener(wire, result)
            except Exception:  # a listener must not stop the log
                LOG.exception('KB listener %r failed', listener)


def outcome(future: concurrent.futures.Future[Result]) -> Result:
    """A submitted command's result, its failure said as a result."""
    try:
        return future.result()
    except exception.CommitTimeout as exc:
        return {'ok': False, 'error': str(exc), 'timeout': True}
    except exception.SodosError as exc:
        return {'ok': False, 'error': str(exc)}


def load(
    conf: cfg.ConfigOpts,
    name: str = 'raft',
    option: str = '[knowmon]state_backend',
) -> StateBackend:
    """Load the state backend ``name`` from ``sodos.state_backends``.

    :raises ConfigError: naming ``option`` for an unknown backend, or
        saying why the backend cannot start with this configuration.
    """
    backend = plugins.load(
        NAMESPACE, name, option, 'state backend', invoke_args=(conf,)
    )
    return typing.cast(StateBackend, backend)
