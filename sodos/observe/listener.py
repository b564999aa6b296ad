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

"""The ``[metrics]`` listener: ``/metrics`` and ``/healthcheck`` of a
site process, REST API or not.

A few requests a minute (Prometheus, a load balancer, systemd), each
answered from memory or one KnowMon call: the standard library's server
with a thread per request is enough, and it keeps the processes that
serve no API free of the API's server and its options.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from typing import TYPE_CHECKING
from typing import Any
from wsgiref import simple_server

import prometheus_client
from oslo_config import cfg
from oslo_log import log
from prometheus_client import registry as prom_registry

from sodos import exception

# Registered on import: a process whose roles never observed a duration
# still exports the families, empty, so that dashboards find them.
from sodos import instruments  # noqa: F401
from sodos.kb.raft import admin
from sodos.observe import collector
from sodos.observe import health

if TYPE_CHECKING:
    from sodos.knowmon.rpcapi import KnowMonClient

LOG = log.getLogger(__name__)
METRICS_PATH = '/metrics'
HEALTH_PATH = '/healthcheck'


class _Instruments(prom_registry.Collector):
    """The process's default registry: the durations and counters of
    :mod:`sodos.instruments`, and prometheus_client's process and
    Python collectors (CPU, memory, open files, garbage collection)."""

    def collect(self) -> Any:
        return prometheus_client.REGISTRY.collect()


def site_registry(
    conf: cfg.ConfigOpts, knowmon: KnowMonClient
) -> prom_registry.CollectorRegistry:
    """Everything one process exports, the site read at each scrape."""
    # No describing: the collectors read the KB, not at registration.
    found = prom_registry.CollectorRegistry(auto_describe=False)
    found.register(_Instruments())
    found.register(
        collector.SiteCollector(knowmon, lambda: admin.files_on_disk(conf))
    )
    return found


class ObserveApp:
    """The listener's two paths; 404 elsewhere."""

    def __init__(self, metrics: Any, healthcheck: Any) -> None:
        self.metrics = metrics
        self.healthcheck = healthcheck

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = (environ.get('PATH_INFO') or '/').rstrip('/')
        if path == METRICS_PATH:
            return self.metrics(environ, start_response)
        if path == HEALTH_PATH:
            return self.healthcheck(environ, start_response)
        return health.not_found(environ, start_response)


def make_app(
    conf: cfg.ConfigOpts, knowmon: KnowMonClient, database: bool
) -> Any:
    return ObserveApp(
        prometheus_client.make_wsgi_app(site_registry(conf, knowmon)),
        health.SiteHealthcheck(conf, knowmon, database),
    )


class _Handler(simple_server.WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        # A scrape every few seconds: not worth a line each at INFO.
        LOG.debug('metrics listener: ' + format, *args)


class _Server(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    daemon_threads = True


class _Server6(_Server):
    address_family = socket.AF_INET6


class Listener:
    """Serves ``app`` from a thread of this process; listens from
    construction, so that a port in use is a start error."""

    def __init__(self, app: Any, host: str, port: int) -> None:
        server_class = _Server6 if ':' in host else _Server
        try:
            self._httpd = server_class((host, port), _Handler)
        except OSError as exc:
            raise exception.ConfigError(
                '[metrics]bind_host/bind_port: cannot listen on %s:%d: %s'
                % (host, port, exc.strerror or exc)
            ) from exc
        self._httpd.set_app(app)
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
            name='sodos-metrics',
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(5.0)
            self._thread = None


def start(
    conf: cfg.ConfigOpts, knowmon: KnowMonClient | None, database: bool
) -> Listener | None:
    """The listener ``[metrics]`` describes, serving; None when off.

    :raises ConfigError: naming the options when it cannot listen.
    """
    options = conf.metrics
    if not options.enabled:
        return None
    if knowmon is None:
        raise exception.ConfigError(
            '[metrics]enabled: this process runs no role that reaches '
            'the KB, there is nothing to report'
        )
    listener = Listener(
        make_app(conf, knowmon, database),
        options.bind_host,
        options.bind_port,
    )
    listener.start()
    LOG.info(
        'site %s: metrics at %s%s, health at %s%s',
        conf.site_name,
        listener.url,
        METRICS_PATH,
        listener.url,
        HEALTH_PATH,
    )
    return listener
