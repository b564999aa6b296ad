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

"""Client side of the KnowMon RPC API.

The other roles of a site (and its API service) read the Knowledge Base
and submit commands through this API, over the site's own message bus.
The target is topic ``[knowmon]rpc_topic`` on server ``[DEFAULT]site_name``,
so several sites may share one RabbitMQ.

Errors: a refused or malformed command comes back as a result
``{'ok': False, 'error': ...}`` (see manager.py); a KnowMon that does not
answer, or a bus that is down, raises :class:`sodos.exception.NotReady`.
A caller never sees a remote traceback.

API version history:

* 1.0 - Initial version: read, submit, status, in_quorum, liveness.
* 1.1 - Add report (a site summary from Exec).
* 1.2 - read takes site: only what concerns one site.
* 1.3 - Add submit_many: several commands committed together; read
  takes key: one entry of a section.

A method is added in methods.py (an entry of METHODS and a line of the
shared client class) and served by manager.py; a new way to narrow a read
is a field of sodos.kb.query.Query and an entry of read's ``later``.
"""

from __future__ import annotations

import logging
from typing import Any

from oslo_config import cfg

from sodos import exception
from sodos.kb import commands
from sodos.knowmon import methods

LOG = logging.getLogger(__name__)

# Over the bus the commit may take up to its own timeout; the RPC deadline
# outlives it by this much so the caller gets the KB's answer.
SUBMIT_MARGIN = 10.0
# What oslo.messaging says when the server's API is older than the call.
UNSUPPORTED = 'does not support RPC version'
CLOSE_TIMEOUT = 5.0


# What roles may ask of their site's KnowMon, wherever it runs.
KnowMonClient = methods.KnowMonClient


class KnowMonAPI(methods.KnowMonClient):
    VERSION = '1.3'
    via = 'RPC'

    def __init__(
        self,
        conf: cfg.ConfigOpts,
        site: str | None = None,
        transport: Any = None,
    ) -> None:
        # The message bus's library costs a site ~25 MB: only the
        # processes that talk over it load it.
        from sodos import rpc

        self.conf = conf
        self.site = site or conf.site_name
        oslo_messaging = rpc.oslo_messaging
        self._errors = (
            oslo_messaging.MessagingTimeout,
            oslo_messaging.RemoteError,
            oslo_messaging.MessagingException,
        )
        target = oslo_messaging.Target(
            topic=conf.knowmon.rpc_topic,
            server=self.site,
            version=self.VERSION,
        )
        self._own_transport = transport is None
        self._transport = transport or rpc.transport(conf)
        self.client = oslo_messaging.get_rpc_client(self._transport, target)
        self._deadline = rpc.Deadline('KnowMon of site %s' % self.site)
        # Whether the KnowMon takes submit_many (API 1.3).
        self._batches = True

    def _call(self, method: str, **kwargs: Any) -> Any:
        spec = methods.METHODS[method]
        timeout = float(self.conf.rpc_response_timeout)
        if spec.commits:
            commit = kwargs.get('commit_timeout')
            timeout = (commit or self.conf.raft.commit_timeout) + SUBMIT_MARGIN
        return self._send(method, kwargs, timeout, spec.version_for(kwargs))

    def _send(
        self,
        method: str,
        kwargs: dict[str, Any],
        timeout: float,
        version: str = '1.0',
    ) -> Any:
        client = self.client.prepare(timeout=timeout, version=version)
        bus_timeout, remote_error, bus_error = self._errors
        try:
            # The bus's own timeout fires first when the bus is up; the
            # deadline covers a bus that is down (see sodos.rpc).
            return self._deadline.run(
                lambda: client.call({}, method, **kwargs), timeout + 5
            )
        except bus_timeout as exc:
            raise exception.NotReady(
                'KnowMon of site %s did not answer %s in %.0f s (is it '
                'running, on topic %s?)'
                % (self.site, method, timeout, self.conf.knowmon.rpc_topic)
            ) from exc
        except remote_error as exc:
            raise exception.SodosError(
                'KnowMon of site %s failed on %s: %s: %s'
                % (self.site, method, exc.exc_type, exc.value)
            ) from exc
        except bus_error as exc:
            raise exception.NotReady(
                'message bus error calling KnowMon of site %s: %s'
                % (self.site, exc)
            ) from exc
        except Exception as exc:
            # oslo.messaging re-raises a remote built-in exception as its
            # own type, the remote traceback appended to its message.
            first_line = str(exc).split('\n', 1)[0]
            raise exception.SodosError(
                'KnowMon of site %s failed on %s: %s: %s'
                % (self.site, method, _type_name(exc), first_line)
            ) from exc

    def submit_many(
        self, wires: list[dict[str, Any]], timeout: float | None = None
    ) -> list[dict[str, Any]]:
        if not self._batches:
            return [self.submit(wire, timeout) for wire in wires]
        try:
            return super().submit_many(wires, timeout)
        except exception.SodosError as exc:
            if UNSUPPORTED not in str(exc):
                raise
            # A KnowMon of an older release (a rolling upgrade): one by
            # one, from now on.
            LOG.info(
                'KnowMon of site %s takes one command at a time', self.site
            )
            self._batches = False
            return [self.submit(wire, timeout) for wire in wires]

    def close(self) -> None:
        if not self._own_transport:
            return
        from sodos import rpc

        try:
            # Blocks for as long as a call is stuck on a bus that is down.
            rpc.Deadline('closing the RPC transport').run(
                self._transport.cleanup, CLOSE_TIMEOUT
            )
        except exception.NotReady as exc:
            LOG.warning('%s; left open', exc)


def propose(
    client: KnowMonClient, type_: str, args: dict[str, Any], origin: str
) -> dict[str, Any]:
    """Make a command and commit it through ``client``.

    A leader-only command is stamped with the term of the leader the
    client's KnowMon follows, so the KB refuses it if a newer one exists.

    :raises CommandRejected: the KB refused it (the reason given).
    :raises CommitTimeout: it was not committed in time (no quorum?); it
        may still apply later.
    """
    term = None
    if type_ in commands.LEADER_ONLY:
        term = client.status()['term']
    wire = commands.make(type_, args, origin, term=term).to_wire()
    result = client.submit(wire)
    if not result.get('ok') and result.get('timeout'):
        raise exception.CommitTimeout(
            '%s not committed: %s' % (type_, result.get('error'))
        )
    if not result.get('ok'):
        raise exception.CommandRejected(
            '%s refused: %s' % (type_, result.get('error'))
        )
    return result


def _type_name(exc: Exception) -> str:
    return type(exc).__name__.removesuffix('_Remote')
