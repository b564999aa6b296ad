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
wraps its data the same way (a :data:`sodos.kb.query.Reply`); the clients
unwrap it and raise :class:`sodos.exception.SodosError` on an error.
Both clients call these methods by name (methods.py).
"""

from __future__ import annotations

from typing import Any

from oslo_config import cfg

from sodos import exception
from sodos.kb import backend as kb_backend
from sodos.kb import commands
from sodos.kb import query as kbquery
from sodos.kb import state
from sodos.knowmon import methods
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

    def read(self, context: Any, **fields: Any) -> kbquery.Reply:
        """The KB as a read asks it: ``fields`` are a Query's wire form,
        the arguments by name that clients of every release send."""
        try:
            query = kbquery.Query.from_wire(fields)
        except exception.SodosError as exc:
            return kbquery.refusal(str(exc))
        problem = state.check_query(query)
        if problem:
            return kbquery.refusal(problem)
        try:
            return kbquery.answer(self.backend.read(query))
        except exception.SodosError as exc:
            return kbquery.refusal(str(exc))

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


class LocalKnowMonAPI(methods.KnowMonClient):
    """KnowMonAPI for roles in the KnowMon's own process.

    Same methods and results as the RPC client, without a message bus in
    between (an in-process fake:// call costs ~50 ms).
    """

    via = 'in-process'

    def __init__(self, manager: KnowMonManager) -> None:
        self.manager = manager

    def _call(self, method: str, **kwargs: Any) -> Any:
        return getattr(self.manager, method)({}, **kwargs)
