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

"""The server side of the KnowMon RPC API (see rpcapi.py for versions).

Errors are answered as ``{'ok': False, 'error': ...}`` results rather than
raised (as oslo.messaging expected exceptions would be), so that a caller
in another process gets the same plain message a caller in this process
does, with no remote traceback, and one written for any release of the
other side: a result dict needs no shared exception classes. ``read``
wraps its data the same way (``{'ok': True, 'data': ...}``); the clients
unwrap it and raise :class:`sodos.exception.SodosError` on an error.
"""

from __future__ import annotations

from typing import Any

from oslo_config import cfg

from sodos import exception
from sodos.kb import backend as kb_backend
from sodos.kb import commands
from sodos.kb import state
from sodos.knowmon import summary as summary_rules

# Version history: rpcapi.KnowMonAPI's docstring.
API_VERSION = '1.3'


class KnowMonManager:
    @property
    def target(self) -> Any:
        """The RPC API version served (oslo.messaging reads it)."""
        from sodos import rpc

        return rpc.oslo_messaging.Target(version=API_VERSION)

    def __init__(
        self, backend: kb_backend.StateBackend, conf: cfg.ConfigOpts
    ) -> None:
        self.backend = backend
        self.conf = conf

    def read(
        self,
        context: Any,
        section: str | None = None,
        site: str | None = None,
        key: str | None = None,
    ) -> Any:
        if section is not None and section not in state.SECTIONS:
            return {
                'ok': False,
                'error': 'unknown KB section %r (known: %s)'
                % (section, ', '.join(state.SECTIONS)),
            }
        if site is not None and section not in state.BY_SITE:
            return {
                'ok': False,
                'error': 'KB section %r cannot be read by site (only %s)'
                % (section, ', '.join(state.BY_SITE)),
            }
        if key is not None and (section is None or not isinstance(key, str)):
            return {
                'ok': False,
                'error': 'a read by key names a section and a string key',
            }
        try:
            data = self.backend.read(section, site, key)
            return {'ok': True, 'data': data}
        except exception.SodosError as exc:
            return {'ok': False, 'error': str(exc)}

    def submit(
        self, context: Any, command: Any, commit_timeout: float | None = None
    ) -> dict[str, Any]:
        return self.submit_many(context, [command], commit_timeout)[0]

    def submit_many(
        self,
        context: Any,
        wires: Any,
        commit_timeout: float | None = None,
    ) -> list[dict[str, Any]]:
        """:meth:`submit` for several commands, committed together.

        A malformed command is answered alone (not submitted); the others
        still go. The results come in the order of the commands.
        """
        if not isinstance(wires, list):
            return [{'ok': False, 'error': 'wires must be a list of commands'}]
        results: list[dict[str, Any] | None] = []
        batch = []
        for wire in wires:
            try:
                batch.append(commands.Command.from_wire(wire))
                results.append(None)
            except exception.SodosError as exc:
                results.append({'ok': False, 'error': str(exc)})
        submitted = iter(self.backend.submit_many(batch, commit_timeout))
        return [
            result if result is not None else next(submitted)
            for result in results
        ]

    def status(self, context: Any) -> dict[str, Any]:
        return self.backend.status().to_dict()

    def report(
        self, context: Any, summary: Any, force: bool = False
    ) -> dict[str, Any]:
        """Commit this site's summary if it changed enough (or ``force``).

        A forced report is also a barrier: once it is committed, this
        member has applied the log up to it, so what the caller reads
        next is as fresh as the quorum's.
        """
        site = self.backend.site
        try:
            last = self.backend.read('monitoring').get(site)
            knowmon = self.conf.knowmon
            reason = summary_rules.change(
                last['summary'] if last else None,
                summary,
                knowmon.summary_change_threshold,
                knowmon.summary_max_age,
            )
            if reason is None and not force:
                return {'ok': True, 'committed': False}
            result = self.backend.propose(
                'monitoring.report',
                {'site': site, 'summary': summary},
                check=False,
            )
        except exception.CommitTimeout as exc:
            return {'ok': False, 'error': str(exc), 'timeout': True}
        except exception.SodosError as exc:
            return {'ok': False, 'error': str(exc)}
        if not result.get('ok'):
            return result
        return {'ok': True, 'committed': True, 'reason': reason or 'forced'}

    def in_quorum(self, context: Any) -> bool:
        return self.backend.in_quorum()

    def liveness(self, context: Any) -> dict[str, float]:
        return self.backend.liveness()


class LocalKnowMonAPI:
    """KnowMonAPI for roles in the KnowMon's own process.

    Same methods and results as the RPC client, without a message bus in
    between (an in-process fake:// call costs ~50 ms).
    """

    via = 'in-process'

    def __init__(self, manager: KnowMonManager) -> None:
        self.manager = manager

    def read(
        self,
        section: str | None = None,
        site: str | None = None,
        key: str | None = None,
    ) -> Any:
        return unwrap(self.manager.read({}, section, site, key))

    def submit(
        self, command: dict[str, Any], timeout: float | None = None
    ) -> dict[str, Any]:
        return self.manager.submit({}, command, timeout)

    def submit_many(
        self, wires: list[dict[str, Any]], timeout: float | None = None
    ) -> list[dict[str, Any]]:
        return self.manager.submit_many({}, wires, timeout)

    def status(self) -> dict[str, Any]:
        return self.manager.status({})

    def in_quorum(self) -> bool:
        return self.manager.in_quorum({})

    def liveness(self) -> dict[str, float]:
        return self.manager.liveness({})

    def report(
        self, summary: dict[str, Any], force: bool = False
    ) -> dict[str, Any]:
        return self.manager.report({}, summary, force)

    def close(self) -> None:
        """Nothing to release: the KnowMon role owns the backend."""


def unwrap(reply: dict[str, Any]) -> Any:
    """The data of a ``read`` reply, or its error raised."""
    if not reply.get('ok'):
        raise exception.SodosError(reply.get('error'))
    return reply['data']
