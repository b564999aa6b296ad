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

"""Carries out the actions the federation assigns to this site.

Each pending action is first claimed: ``action.update running`` is
committed to the Raft log, so the KB says who is working on what, and
the commit proves that this site is in contact with a quorum and has
read the log up to that point (what the handler reads next is fresh).
Then a worker thread runs the handler, retrying transient errors with
exponential backoff, and the outcome is committed as ``done`` or
``failed``. An outcome that cannot be committed (KnowMon unreachable,
quorum lost) is kept and committed again with the same command id at
every step, so it is recorded once and never lost while Exec runs; if
Exec restarts first, the action is still ``running`` in the KB and runs
again, which the handlers' idempotence makes safe.

Actions for one appliance member run one after the other.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import functools
import threading
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import tenacity
from oslo_config import cfg
from oslo_log import log

from sodos import exception
from sodos.exec import actions
from sodos.exec.drivers import base as driver
from sodos.kb import commands
from sodos.knowmon.rpcapi import KnowMonClient

LOG = log.getLogger(__name__)


class Executor:
    def __init__(
        self,
        conf: cfg.ConfigOpts,
        drv: driver.Driver,
        knowmon: KnowMonClient,
        stop: threading.Event,
        on_outcome: Callable[[], None] | None = None,
    ) -> None:
        self.conf = conf
        # Called after each action ends: the site changed, monitor it.
        self._on_outcome = on_outcome or (lambda: None)
        self.site = conf.site_name
        self.driver = drv
        self.knowmon = knowmon
        self._stop = stop
        self.handlers = actions.load_handlers()
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=conf.exec.workers,
            thread_name_prefix='sodos-exec-action',
        )
        self._lock = threading.Lock()
        self._inflight: dict[str, concurrent.futures.Future[None]] = {}
        # Outcomes not committed yet: action id -> the command (same id
        # on every attempt, so the KB applies it once).
        self._unreported: dict[str, dict[str, Any]] = {}
        self._member_locks: dict[str, threading.Lock] = (
            collections.defaultdict(threading.Lock)
        )
        self._busy_members: collections.Counter[str] = collections.Counter()
        # Actions this Exec started (since it started itself): an action
        # still 'running' in the KB and not here is one to resume.
        self._started: set[str] = set()
        self.done = 0
        self.failed = 0

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    @property
    def busy(self) -> int:
        with self._lock:
            return len(self._inflight)

    def step(self, kb_actions: dict[str, dict[str, Any]]) -> str:
        """Start the actions not started yet, then report the outcomes
        not committed yet (new actions do not wait for those commits)."""
        mine = sorted(
            (
                a
                for a in kb_actions.values()
                if a['site'] == self.site
                and a['state'] in ('pending', 'running')
            ),
            key=lambda a: (a['created_at'], a['action_id']),
        )
        with self._lock:
            # Ended actions leave the KB's pending/running set; forget
            # them. The others are in flight, or their outcome is not
            # committed yet: never start them twice.
            self._started &= {a['action_id'] for a in mine}
        started = []
        for action in mine:
            action_id = action['action_id']
            with self._lock:
                if action_id in self._started:
                    continue
                self._started.add(action_id)
            started.append(action['kind'])
            future = self._pool.submit(self._run, action)
            with self._lock:
                self._inflight[action_id] = future
            future.add_done_callback(
                functools.partial(self._forget, action_id)
            )
        unreported = self._flush()
        parts = ['%d running' % self.busy]
        if started:
            parts.append('started %s' % ', '.join(started))
        if unreported:
            parts.append('%d outcome(s) not yet committed' % unreported)
        return ', '.join(parts)

    def busy_members(self) -> set[str]:
        """The members an action or a rebuild is working on now."""
        with self._lock:
            return set(self._busy_members)

    def run_direct(
        self, kind: str, params: dict[str, Any], action_id: str
    ) -> concurrent.futures.Future[dict[str, Any]]:
        """Run a handler with no KB action (a reconcile's rebuild).

        Its outcome is logged, not committed: the site summary shows it.
        """
        action = {
            'action_id': action_id,
            'kind': kind,
            'params': params,
            'site': self.site,
        }
        return self._pool.submit(self._direct, action)

    def _direct(self, action: dict[str, Any]) -> dict[str, Any]:
        key = _member_of(action)
        try:
            with self._working_on(key):
                result = self._retrying(self.handlers[action['kind']], action)
        except exception.SodosError as exc:
            LOG.warning('exec: %s of %s failed: %s', action['kind'], key, exc)
            return {'error': str(exc)}
        LOG.info('exec: %s of %s done: %s', action['kind'], key, result)
        return result

    @contextlib.contextmanager
    def _working_on(self, key: str) -> Iterator[None]:
        with self._member_locks[key]:
            with self._lock:
                self._busy_members[key] += 1
            try:
                yield
            finally:
                with self._lock:
                    self._busy_members[key] -= 1
                    if not self._busy_members[key]:
                        del self._busy_members[key]

    def _forget(self, action_id: str, _future: Any = None) -> None:
        with self._lock:
            self._inflight.pop(action_id, None)

    def _claim(self, action: dict[str, Any]) -> bool:
        if action['state'] == 'running':
            # Claimed by this site's Exec before it restarted: resume.
            return True
        result = self._submit(self._update(action['action_id'], 'running', {}))
        if not result.get('ok'):
            LOG.warning(
                'exec: not starting action %s (%s): claim not committed: %s',
                action['action_id'],
                action['kind'],
                result.get('error'),
            )
            return False
        return True

    def _run(self, action: dict[str, Any]) -> None:
        action_id, kind = action['action_id'], action['kind']
        # Claimed in the worker, so that claims commit side by side.
        if not self._claim(action):
            with self._lock:
                self._started.discard(action_id)  # the next step retries
            return
        handler = self.handlers.get(kind)
        key = _member_of(action)
        try:
            if handler is None:
                raise driver.PermanentError(
                    'no Exec handler for action kind %r on site %s '
                    '(installed: %s)'
                    % (kind, self.site, ', '.join(sorted(self.handlers)))
                )
            with self._working_on(key):
                result = self._retrying(handler, action)
            state = 'done'
        except driver.PermanentError as exc:
            state, result = 'failed', dict(exc.details, error=str(exc))
        except driver.TransientError as exc:
            state, result = (
                'failed',
                {
                    'error': '%s (gave up after %d attempts)'
                    % (exc, self.conf.exec.action_retries + 1),
                    'transient': True,
                },
            )
        except Exception as exc:
            LOG.exception('exec: action %s (%s) hit a bug', action_id, kind)
            state, result = 'failed', {'error': 'internal error: %s' % exc}
        log_at = LOG.info if state == 'done' else LOG.warning
        log_at('exec: action %s (%s) %s: %s', action_id, kind, state, result)
        with self._lock:
            if state == 'done':
                self.done += 1
            else:
                self.failed += 1
        with self._lock:
            self._unreported[action_id] = self._update(
                action_id, state, result
            )
        self._on_outcome()
        self._flush()

    def _retrying(
        self, handler: actions.Handler, action: dict[str, Any]
    ) -> dict[str, Any]:
        ctx = actions.Context(
            conf=self.conf,
            driver=self.driver,
            site=self.site,
            stopping=self._stop.wait,
            placement=self._placement,
            appliance=self._appliance,
            identity=self._idmap,
            read=self._read,
        )
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(driver.TransientError),
            stop=tenacity.stop_after_attempt(self.conf.exec.action_retries + 1)
            | _stopping(self._stop),
            wait=tenacity.wait_exponential(
                multiplier=self.conf.exec.retry_delay, max=60
            ),
            sleep=self._sleep,
            before_sleep=_log_retry(action),
            reraise=True,
        )
        result: dict[str, Any] = retrying(handler, ctx, action)
        return result

    def _placement(self, key: str) -> dict[str, Any] | None:
        """Where the KB places member ``key``, wherever it is: a member
        placed elsewhere meanwhile must be told from one not placed."""
        found: dict[str, Any] = self.knowmon.read('placements', key=key)
        return found.get(key)

    def _appliance(self, appliance_id: str) -> dict[str, Any] | None:
        found = self.knowmon.read('appliances', key=appliance_id)
        record = found.get(appliance_id)
        return (record or {}).get('spec') if record else None

    def _idmap(self) -> dict[str, Any]:
        """Only the ID map of the identity section: the rest (users and
        their passwords) is none of a server build's business."""
        found: dict[str, Any] = self.knowmon.read('identity', key='idmap')
        return {'idmap': found.get('idmap') or {}}

    def _read(self, section: str, key: str | None) -> dict[str, Any]:
        found: dict[str, Any] = self.knowmon.read(section, key=key)
        return found

    def _sleep(self, seconds: float) -> None:
        self._stop.wait(seconds)

    def _update(
        self, action_id: str, state: str, result: dict[str, Any]
    ) -> dict[str, Any]:
        return commands.make(
            'action.update',
            {'action_id': action_id, 'state': state, 'result': result},
            origin=self.site,
        ).to_wire()

    def _submit(self, wire: dict[str, Any]) -> dict[str, Any]:
        try:
            return self.knowmon.submit(wire)
        except exception.SodosError as exc:
            return {'ok': False, 'error': str(exc), 'timeout': True}

    def _flush(self) -> int:
        """Commit the outcomes not committed yet, together; how many are
        left."""
        with self._lock:
            pending = list(self._unreported.items())
        if pending:
            wires = [wire for _action_id, wire in pending]
            try:
                results = self.knowmon.submit_many(wires)
            except exception.SodosError as exc:
                results = [{'ok': False, 'error': str(exc), 'timeout': True}]
                results *= len(pending)
        else:
            results = []
        for (action_id, _wire), result in zip(pending, results, strict=True):
            if result.get('ok') or not result.get('timeout'):
                # Committed, or refused for good (the action was ended
                # or removed meanwhile): nothing more to say.
                if not result.get('ok'):
                    LOG.warning(
                        'exec: outcome of action %s refused: %s',
                        action_id,
                        result.get('error'),
                    )
                with self._lock:
                    self._unreported.pop(action_id, None)
        with self._lock:
            return len(self._unreported)


def _member_of(action: dict[str, Any]) -> str:
    params = action.get('params') or {}
    if 'appliance_id' in params and 'member' in params:
        return driver.member_key(params['appliance_id'], params['member'])
    return action['action_id']


def _stopping(stop: threading.Event) -> Any:
    return tenacity.stop_when_event_set(stop)


def _log_retry(action: dict[str, Any]) -> Callable[[Any], None]:
    def log_it(state: Any) -> None:
        LOG.warning(
            'exec: action %s (%s) attempt %d failed: %s; retrying',
            action['action_id'],
            action['kind'],
            state.attempt_number,
            state.outcome.exception(),
        )

    return log_it
