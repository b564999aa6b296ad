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

"""The daemon base: one process running one or more roles.

Signals, reload, systemd notification and the role loops live here once.
oslo.service runs with its threading backend (no eventlet); its plain
``Launcher`` runs the service in a thread of this process, so the pid an
operator (or a test) signals is the one holding the Raft member.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from oslo_config import cfg
from oslo_log import log
from oslo_service import backend as service_backend

service_backend.init_backend(service_backend.BackendType.THREADING)

from oslo_service import service  # noqa: E402 - needs the backend first
from oslo_service import systemd  # noqa: E402

from sodos import conf as sodos_conf  # noqa: E402
from sodos import exception  # noqa: E402
from sodos import roles as sodos_roles  # noqa: E402
from sodos import rpc  # noqa: E402

LOG = log.getLogger(__name__)


def prepare(
    argv: list[str],
    prog: str,
    extra_cli: list[cfg.Opt] | None = None,
) -> cfg.ConfigOpts:
    """Parse the command line and config files; set up logging."""
    conf = cfg.ConfigOpts()
    sodos_conf.register_opts(conf)
    log.register_options(conf)
    rpc.register_opts(conf)
    for opt in extra_cli or []:
        # An option of the config file that this command also takes on
        # its command line (sodos-site --roles).
        conf.unregister_opt(opt)
        conf.register_cli_opt(opt)
    conf(argv, project='sodos', prog=prog)
    log.setup(conf, 'sodos')
    return conf


class SiteService(service.Service):
    """The roles of one site that run in this process."""

    def __init__(self, conf: cfg.ConfigOpts, role_names: list[str]) -> None:
        super().__init__()
        self.conf = conf
        self.role_names = role_names
        self.roles: list[sodos_roles.Role] = []
        self.started = threading.Event()
        self.error: BaseException | None = None

    def start(self) -> None:
        try:
            self.roles = sodos_roles.start_roles(self.conf, self.role_names)
        except BaseException as exc:
            # serve() reports it; raising here would only have the
            # launcher's thread log a traceback at the operator.
            self.error = exc
            return
        finally:
            self.started.set()
        systemd.notify_once()
        LOG.info(
            'site %s: running %s',
            self.conf.site_name,
            ', '.join(r.name for r in self.roles),
        )

    def stop(self, graceful: bool = False) -> None:
        sodos_roles.stop_roles(self.roles)
        self.roles = []
        super().stop(graceful)

    def reset(self) -> None:
        """SIGHUP: the launcher has re-read the mutable options."""
        for role in self.roles:
            role.reload()
        LOG.info('site %s: configuration reloaded', self.conf.site_name)


def serve(conf: cfg.ConfigOpts, role_names: list[str]) -> int:
    """Run the roles until SIGTERM/SIGINT; SIGHUP reloads."""
    svc = SiteService(conf, role_names)
    launcher = service.Launcher(conf, restart_method='mutate')
    stop, hup = threading.Event(), threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGHUP, lambda *_: hup.set())
    launcher.launch_service(svc)
    svc.started.wait()
    if svc.error is not None:
        launcher.stop()
        return _fail(conf, svc.error)
    while not stop.wait(0.2):
        if hup.is_set():
            hup.clear()
            launcher.restart()
    LOG.info('site %s: stopping', conf.site_name)
    launcher.stop()
    return 0


def _fail(conf: cfg.ConfigOpts, error: BaseException) -> int:
    if isinstance(error, exception.SodosError):
        LOG.error('site %s cannot start: %s', conf.site_name, error)
        print('error: %s' % error, file=sys.stderr)
        return 2
    LOG.error('site %s failed to start', conf.site_name, exc_info=error)
    print(
        'error: unexpected failure, see the log: %s' % error, file=sys.stderr
    )
    return 1


def main(
    prog: str,
    role_names: Callable[[cfg.ConfigOpts], list[str]],
    extra_cli: list[cfg.Opt] | None = None,
    argv: list[str] | None = None,
) -> int:
    """Entry point shared by the sodos daemons."""
    try:
        conf = prepare(sys.argv[1:] if argv is None else argv, prog, extra_cli)
        names = role_names(conf)
    except (cfg.Error, exception.SodosError) as exc:
        print('%s: error: %s' % (prog, exc), file=sys.stderr)
        return 2
    return serve(conf, names)


def cli_roles(conf: Any) -> list[str]:
    return list(conf.roles)
