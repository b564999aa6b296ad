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

"""The HTTP server of the REST API in a sodos process.

For one-process sites (the ``api`` role of sodos-site), the local
simulated federations and development (``sodos-api``). Production may
serve :mod:`sodos.wsgi.api` under uwsgi instead.

The server is cheroot's. Of the two pure-Python servers with a bounded
thread pool and read timeouts (cheroot and waitress), cheroot has a
public graceful stop: it closes the listening socket, serves the
connections already accepted and the requests in progress, and gives
up on them after a bound. Waitress has none: stopping it without
cutting requests off would mean driving its event loop's internals.
What waitress does better, reading whole requests before a thread
takes them, matters less here: a half-sent request holds a cheroot
thread only until ``[api]client_socket_timeout``.
"""

from __future__ import annotations

import io
import logging
import sys
import threading
from typing import Any

from cheroot import wsgi as cheroot_wsgi
from oslo_config import cfg
from oslo_log import log

from sodos import exception

LOG = log.getLogger(__name__)

# The API's requests carry a token and a few headers: far below this.
# Without a bound, a client could stream headers into memory for as long
# as it keeps sending.
MAX_HEADER_BYTES = 64 * 1024


class _Cheroot(cheroot_wsgi.Server):
    def error_log(
        self, msg: str = '', level: int = logging.INFO, traceback: bool = False
    ) -> None:
        # cheroot writes to stderr; ours goes where the process logs.
        # What it reports at INFO (a client gone, a timeout) is the
        # client's doing, not the site's.
        LOG.log(
            logging.DEBUG if level <= logging.INFO else level,
            'api server: %s',
            msg,
            exc_info=traceback,
        )


class _SizedBodies:
    """Hand the application a chunked request body read to a bound.

    The API checks a body's size on the length a request declares, and
    answers 413 itself. A chunked body declares none: it is read here up
    to one byte past the limit and passed on with the length read, so
    the API's own check refuses a longer one, and no client streams an
    unbounded body into the process's memory.
    """

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        coding = environ.get('HTTP_TRANSFER_ENCODING', '')
        if not environ.get('CONTENT_LENGTH') and 'chunked' in coding.lower():
            body = environ['wsgi.input'].read(self.limit + 1)
            environ['wsgi.input'] = io.BytesIO(body)
            environ['CONTENT_LENGTH'] = str(len(body))
            del environ['HTTP_TRANSFER_ENCODING']
        return self.app(environ, start_response)


class Server:
    """Serve a WSGI application from threads of this process.

    The socket listens from construction (so a port in use is a start
    error, and connections made before :meth:`start` wait in the listen
    backlog); :meth:`start` begins accepting them.
    """

    def __init__(
        self,
        app: Any,
        host: str,
        port: int,
        *,
        backlog: int = 128,
        threads: int = 16,
        client_socket_timeout: float = 30.0,
        shutdown_timeout: float = 10.0,
        max_request_body_size: int = 1024 * 1024,
    ) -> None:
        self._httpd = _Cheroot(
            (host, port),
            # Bodies are limited by the API, with a 413 and its error body;
            # cheroot's max_request_body_size would answer before it.
            _SizedBodies(app, max_request_body_size),
            numthreads=threads,
            max=threads,
            request_queue_size=backlog,
        )
        # Set apart: cheroot's signature says int, but it takes seconds as
        # socket timeouts and deadlines, fractions included.
        self._httpd.timeout = client_socket_timeout
        self._httpd.shutdown_timeout = shutdown_timeout
        self._httpd.max_request_header_size = MAX_HEADER_BYTES
        self.shutdown_timeout = shutdown_timeout
        error: list[Exception] = []
        # A thread's daemon flag is its creator's: the worker threads
        # that prepare() starts are made daemons by starting them from a
        # daemon thread, so a request stuck past the stop bound never
        # keeps the process from exiting.
        binder = threading.Thread(
            target=self._prepare, args=(error,), daemon=True
        )
        binder.start()
        binder.join()
        if error and not isinstance(error[0], OSError):
            raise error[0]
        if error:
            raise exception.ConfigError(
                '[api]bind_host/bind_port: cannot listen on %s:%d: %s'
                % (host, port, getattr(error[0], 'strerror', None) or error[0])
            ) from error[0]
        self.host = host
        self.port = self._httpd.bind_addr[1]
        self._thread: threading.Thread | None = None

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts, app: Any) -> Server:
        """The server the [api] options describe."""
        api = conf.api
        return cls(
            app,
            api.bind_host,
            api.bind_port,
            backlog=api.backlog,
            threads=api.threads,
            client_socket_timeout=api.client_socket_timeout,
            shutdown_timeout=api.shutdown_timeout,
            max_request_body_size=api.max_request_body_size,
        )

    def _prepare(self, error: list[Exception]) -> None:
        try:
            self._httpd.prepare()
        except Exception as exc:
            # Raised again by the constructor, in its caller's thread.
            error.append(exc)

    @property
    def url(self) -> str:
        host = '[%s]' % self.host if ':' in self.host else self.host
        return 'http://%s:%d' % (host, self.port)

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._httpd.serve, name='sodos-api', daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting, finish the requests under way, then close.

        Returns once the socket no longer listens and the requests have
        been answered, or after ``shutdown_timeout`` (and a margin for
        the accept loop to notice) with a warning for those still
        running: their connections are shut and their threads, daemons,
        are left to finish.
        """
        stopper = threading.Thread(
            target=self._httpd.stop, name='sodos-api-stop', daemon=True
        )
        stopper.start()
        stopper.join(self.shutdown_timeout + 2.0)
        if stopper.is_alive():
            LOG.warning(
                'api server: requests still running %.0f s after the stop '
                '([api]shutdown_timeout); leaving them',
                self.shutdown_timeout,
            )
        if self._thread is not None:
            self._thread.join(2.0)
            self._thread = None


def main(argv: list[str] | None = None) -> int:
    """sodos-api: the REST API alone, reaching KnowMon over RPC.

    For development and small tests; production runs uwsgi.
    """
    from sodos import service
    from sodos.api import deploy
    from sodos.knowmon import rpcapi
    from sodos.observe import listener

    try:
        conf = service.prepare(
            sys.argv[1:] if argv is None else argv, 'sodos-api'
        )
        knowmon = rpcapi.KnowMonAPI(conf)
        server = Server.from_conf(conf, deploy.deploy(conf, knowmon))
        metrics = listener.start(conf, knowmon, database=True)
    except (cfg.Error, exception.SodosError) as exc:
        print('sodos-api: error: %s' % exc, file=sys.stderr)
        return 2
    with service.Signals() as signals:
        server.start()
        LOG.info('sodos-api: serving on %s', server.url)
        signals.stop.wait()
    if metrics is not None:
        metrics.stop()
    server.stop()
    knowmon.close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
