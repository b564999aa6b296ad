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

"""A small threaded HTTP server for the REST API.

For one-process sites (the ``api`` role of sodos-site), the local
simulated federations and development (``sodos-api``). Production serves
:mod:`sodos.wsgi.api` under uwsgi instead.
"""

from __future__ import annotations

import socketserver
import sys
import threading
from typing import Any
from wsgiref import simple_server

from oslo_log import log

from sodos import exception

LOG = log.getLogger(__name__)


class _Server(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    daemon_threads = True
    # A restarted site listens again at once.
    allow_reuse_address = True


class _Handler(simple_server.WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        # The API logs one line per request itself (sodos.api.deploy).
        LOG.debug('%s: ' + format, self.client_address[0], *args)


class Server:
    """Serve a WSGI application from a thread of this process."""

    def __init__(self, app: Any, host: str, port: int) -> None:
        try:
            self._httpd = simple_server.make_server(
                host, port, app, server_class=_Server, handler_class=_Handler
            )
        except OSError as exc:
            raise exception.ConfigError(
                '[api]bind_host/bind_port: cannot listen on %s:%d: %s'
                % (host, port, exc.strerror or exc)
            ) from exc
        self.host = host
        self.port = self._httpd.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = '[%s]' % self.host if ':' in self.host else self.host
        return 'http://%s:%d' % (host, self.port)

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={'poll_interval': 0.2},
            name='sodos-api',
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(10)
            self._thread = None
        self._httpd.server_close()


def main(argv: list[str] | None = None) -> int:
    """sodos-api: the REST API alone, reaching KnowMon over RPC.

    For development and small tests; production runs uwsgi.
    """
    from oslo_config import cfg

    from sodos import service
    from sodos.api import deploy
    from sodos.knowmon import rpcapi

    try:
        conf = service.prepare(
            sys.argv[1:] if argv is None else argv, 'sodos-api'
        )
        knowmon = rpcapi.KnowMonAPI(conf)
        server = Server(
            deploy.deploy(conf, knowmon),
            conf.api.bind_host,
            conf.api.bind_port,
        )
    except (cfg.Error, exception.SodosError) as exc:
        print('sodos-api: error: %s' % exc, file=sys.stderr)
        return 2
    with service.Signals() as signals:
        server.start()
        LOG.info('sodos-api: serving on %s', server.url)
        signals.stop.wait()
    server.stop()
    knowmon.close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
