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

"""oslo.messaging plumbing for a private ConfigOpts (no global CONF).

With RabbitMQ down, oslo.messaging waits for it forever: an RPC server's
``start()`` and a client's first ``call()`` (its reply queue) retry the
connection without end, whatever the call timeout. A site's KB member must
not hang on its message bus, so servers start in the background and calls
run under a deadline here.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from oslo_service import backend as service_backend

# Importing oslo.messaging imports oslo_service.service, which settles
# oslo.service's backend for the whole process: eventlet unless chosen
# before. So every sodos module takes oslo_messaging from here.
try:
    service_backend.init_backend(service_backend.BackendType.THREADING)
except service_backend.exceptions.BackendAlreadySelected:
    # A tool imported oslo.messaging before sodos (oslo-config-generator
    # loads its namespaces in any order). Listing options needs no
    # backend; the sodos commands import this module first.
    pass

import oslo_messaging  # noqa: E402
from oslo_config import cfg  # noqa: E402
from oslo_messaging import opts as messaging_opts  # noqa: E402

from sodos import exception  # noqa: E402

LOG = logging.getLogger(__name__)

# oslo.messaging 18 registers these two groups on the global CONF only (at
# import), yet reads them from the ConfigOpts it is given. It offers no
# public way to register them elsewhere; its own ConfFixture imports the
# same lists, and so do we (a test fixture has no place in a daemon).
_GLOBAL_ONLY = (
    ('oslo_messaging._metrics.client', 'oslo_messaging_metrics'),
    ('oslo_messaging._tracing.client', 'oslo_messaging_tracing'),
)


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register every oslo.messaging option group on ``conf``."""
    oslo_messaging.set_transport_defaults('sodos')
    for group, opts in messaging_opts.list_opts():
        conf.register_opts(opts, group=group)
    for module_name, name in _GLOBAL_ONLY:
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # a later release that no longer needs this
            continue
        conf.register_opts(getattr(module, name), group=name)


def transport(conf: cfg.ConfigOpts) -> Any:
    """The site's RPC transport, from ``[DEFAULT]transport_url``."""
    register_opts(conf)
    return oslo_messaging.get_rpc_transport(conf)


def server(
    conf: cfg.ConfigOpts,
    topic: str,
    endpoints: list[Any],
    transport_: Any = None,
) -> oslo_messaging.MessageHandlingServer:
    """An RPC server for this site on ``topic``, one thread per call.

    oslo.messaging 18 deprecates its ``executor`` argument: it picks the
    threading executor itself unless eventlet has monkey-patched the
    process. sodos never does; should a library ever do it, fail here
    rather than serve from green threads.
    """
    target = oslo_messaging.Target(topic=topic, server=conf.site_name)
    rpc_server = oslo_messaging.get_rpc_server(
        transport_ or transport(conf),
        target,
        endpoints,
        access_policy=oslo_messaging.DefaultRPCAccessPolicy,
    )
    if rpc_server.executor_type != 'threading':
        raise exception.SodosError(
            'eventlet has patched this process; sodos needs threads'
        )
    return rpc_server


class BackgroundServer:
    """An RPC server started in a thread of its own.

    ``stop()`` never blocks on a bus that never answered: a server whose
    start is still retrying is abandoned (its thread is a daemon).
    """

    def __init__(self, rpc_server: oslo_messaging.MessageHandlingServer):
        self._server = rpc_server
        self._lock = threading.Lock()
        self._started = False
        self._stopping = False
        self.ready = threading.Event()

    def start(self) -> None:
        threading.Thread(
            target=self._start, name='sodos-rpc-server', daemon=True
        ).start()

    def _start(self) -> None:
        try:
            self._server.start()
        except Exception:
            LOG.exception('RPC server failed to start')
            return
        with self._lock:
            self._started = True
            stopping = self._stopping
        if stopping:
            self._halt()
        else:
            self.ready.set()
            LOG.info('RPC server listening')

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            started = self._started
        if started:
            self._halt()
        else:
            LOG.warning('RPC server never reached the message bus')

    def _halt(self) -> None:
        self._server.stop()
        self._server.wait()


class Deadline:
    """Runs blocking bus calls in a daemon thread, each with a deadline.

    Calls run side by side, but while one that outlived its deadline is
    still stuck on the bus, the next fails at once instead of piling up
    threads behind it.
    """

    def __init__(self, what: str) -> None:
        self.what = what
        self._stuck: threading.Thread | None = None

    def run(self, func: Callable[[], Any], timeout: float) -> Any:
        stuck = self._stuck
        if stuck is not None and stuck.is_alive():
            raise exception.NotReady(
                '%s: still waiting for the message bus' % self.what
            )
        box: dict[str, Any] = {}

        def target() -> None:
            try:
                box['result'] = func()
            except BaseException as exc:
                box['error'] = exc

        thread = threading.Thread(
            target=target, name='sodos-rpc-call', daemon=True
        )
        thread.start()
        thread.join(timeout)
        if thread.is_alive():
            self._stuck = thread
            raise exception.NotReady(
                '%s: no answer over the message bus in %.0f s'
                % (self.what, timeout)
            )
        if 'error' in box:
            raise box['error']
        return box['result']
