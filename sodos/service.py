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
oslo.service runs with its threading backend (no eventlet). Its
``ServiceLauncher`` would run the service in a forked child (cotyledon);
the plain ``Launcher`` runs it in a thread of this process instead, so the
pid an operator (or a test) signals is the one holding the Raft member,
and the signals are handled here: SIGTERM/SIGINT stop every role and the
process exits 0, SIGHUP re-reads the mutable options.
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

from sodos import conf as sodos_conf  # noqa: E402
from sodos import exception  # noqa: E402
from sodos import roleset  # noqa: E402
from sodos import systemd  # noqa: E402
from sodos.observe import listener as observe  # noqa: E402

LOG = log.getLogger(__name__)
# How often the main thread looks at the signal flags.
TICK = 0.2


def register_opts(conf: cfg.ConfigOpts, bus: bool = True) -> None:
    """Every option a sodos daemon reads: sodos, oslo.log, oslo.messaging.

    With ``bus`` False the message bus's options are left out: importing
    oslo.messaging costs a process ~25 MB, and a site whose roles all
    run in one process without serving RPC never uses it.
    """
    sodos_conf.register_opts(conf)
    log.register_options(conf)
    if bus:
        from sodos import rpc

        rpc.register_opts(conf)


def _uses_bus(conf: cfg.ConfigOpts) -> bool:
    # A role that needs the bus later (a KnowMon client in another
    # process) registers its options itself; these are read at start.
    return bool(conf.knowmon.serve_rpc or conf.exec.notifications_url)


def prepare(
    argv: list[str],
    prog: str | None = None,
    project: str = 'sodos',
    extra_cli: list[cfg.Opt] | None = None,
) -> cfg.ConfigOpts:
    """Parse the command line and config files; set up logging.

    :raises cfg.Error, ConfigError: on a user mistake, naming the option.
    """
    conf = cfg.ConfigOpts()
    register_opts(conf, bus=False)
    for opt in extra_cli or []:
        # An option of the config file that this command also takes on
        # its command line (sodos-site --roles).
        conf.unregister_opt(opt)
        conf.register_cli_opt(opt)
    conf(argv, project=project, prog=prog)
    if _uses_bus(conf):
        from sodos import rpc

        # Registered after parsing: their values come from the files.
        rpc.register_opts(conf)
    check_values(conf)
    try:
        log.setup(conf, project)
    except OSError as exc:
        raise exception.ConfigError(
            'cannot open the log ([DEFAULT]log_file, log_dir): %s' % exc
        ) from exc
    return conf


def check_values(conf: cfg.ConfigOpts) -> None:
    """Convert every option now, not in a loop thread hours later.

    oslo.config checks a value only when it is read.
    """
    for key in list(conf):
        try:
            value = conf[key]
        except cfg.Error as exc:
            raise _bad_value(None, key, exc) from exc
        if not isinstance(value, cfg.ConfigOpts.GroupAttr):
            continue
        for name in list(value):
            try:
                value[name]
            except cfg.Error as exc:
                raise _bad_value(key, name, exc) from exc


def _bad_value(
    group: str | None, name: str, exc: cfg.Error
) -> exception.ConfigError:
    # oslo.config's own message embeds a LocationInfo repr; the cause
    # alone reads better after the option's name.
    cause = exc.__cause__ or exc.__context__ or exc
    return exception.ConfigError(
        '[%s]%s: invalid value: %s' % (group or 'DEFAULT', name, cause)
    )


class SiteService(service.Service):
    """The roles of one site that run in this process."""

    def __init__(self, conf: cfg.ConfigOpts, role_names: list[str]) -> None:
        super().__init__()
        self.conf = conf
        # Resolving the names here makes an unknown role a start-up error.
        self.roles = roleset.RoleSet(conf, role_names)
        self.started = threading.Event()
        self.error: BaseException | None = None
        self.notifier = systemd.Notifier()
        self.listener: observe.Listener | None = None

    def start(self) -> None:
        try:
            self.roles.start()
            self.listener = observe.start(
                self.conf, self.roles.knowmon, _uses_database(self.roles)
            )
        except BaseException as exc:
            # serve() reports it; raising here would only have the
            # launcher's thread log a traceback at the operator.
            self.error = exc
            return
        finally:
            self.started.set()
        if not self.roles.names:  # stopped while starting
            return
        self.notifier.ready()  # a no-op outside systemd (no NOTIFY_SOCKET)
        LOG.info(
            'site %s: running %s',
            self.conf.site_name,
            ', '.join(self.roles.names),
        )

    def stop(self, graceful: bool = False) -> None:
        if self.listener is not None:
            self.listener.stop()
            self.listener = None
        self.roles.stop()
        super().stop(graceful)

    def reset(self) -> None:
        """SIGHUP: the launcher has re-read the mutable options."""
        try:
            check_values(self.conf)
        except exception.ConfigError as exc:
            LOG.error('site %s: reloaded configuration: %s', self.site, exc)
        self.roles.reload()
        LOG.info('site %s: configuration reloaded', self.site)

    @property
    def site(self) -> str:
        return str(self.conf.site_name)


def _uses_database(roles: roleset.RoleSet) -> bool:
    # KnowMon writes the history, the API reads it: their processes
    # check it. Exec and AnalysePlan never open it.
    return bool({'knowmon', 'api'} & set(roles.names))


class Signals:
    """SIGTERM/SIGINT/SIGHUP as flags the main thread polls."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.hup = threading.Event()
        self._saved: dict[int, Any] = {}

    def __enter__(self) -> Signals:
        handlers = {
            signal.SIGTERM: lambda *_: self.stop.set(),
            signal.SIGINT: lambda *_: self.stop.set(),
            signal.SIGHUP: lambda *_: self.hup.set(),
        }
        for signum, handler in handlers.items():
            self._saved[signum] = signal.signal(signum, handler)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        for signum, handler in self._saved.items():
            signal.signal(signum, handler)


def serve(conf: cfg.ConfigOpts, svc: SiteService) -> int:
    """Run the roles until SIGTERM/SIGINT; SIGHUP reloads. Exit status."""
    launcher = service.Launcher(conf, restart_method='mutate')
    with Signals() as signals:
        launcher.launch_service(svc)
        while not svc.started.wait(TICK):
            if signals.stop.is_set():
                break
        if svc.error is not None:
            launcher.stop()
            return _fail(conf, svc.error)
        while not signals.stop.wait(TICK):
            if signals.hup.is_set():
                signals.hup.clear()
                svc.notifier.reloading()
                _reload(conf, launcher)
                svc.notifier.ready()
        LOG.info('site %s: stopping', conf.site_name)
        svc.notifier.stopping()
        launcher.stop()
    LOG.info('site %s: stopped', conf.site_name)
    return 0


def _reload(conf: cfg.ConfigOpts, launcher: Any) -> None:
    try:
        launcher.restart()  # mutate_config_files(), then svc.reset()
    except (cfg.Error, SystemExit) as exc:
        LOG.error(
            'site %s: reload failed, running configuration kept: %s',
            conf.site_name,
            exc,
        )


def _fail(conf: cfg.ConfigOpts, error: BaseException) -> int:
    if isinstance(error, exception.SodosError):
        if not _logs_to_stderr(conf):
            LOG.error('site %s cannot start: %s', conf.site_name, error)
        print('%s: error: %s' % (conf.prog, error), file=sys.stderr)
        return 2
    LOG.error('site %s failed to start', conf.site_name, exc_info=error)
    print(
        '%s: error: unexpected failure, see the log: %s' % (conf.prog, error),
        file=sys.stderr,
    )
    return 1


def _logs_to_stderr(conf: cfg.ConfigOpts) -> bool:
    return not (
        conf.log_file or conf.log_dir or conf.use_syslog or conf.use_journal
    )


def main(
    prog: str,
    role_names: Callable[[cfg.ConfigOpts], list[str]],
    extra_cli: list[cfg.Opt] | None = None,
    argv: list[str] | None = None,
) -> int:
    """Entry point shared by the sodos daemons; returns the exit status.

    A user mistake (bad value, missing option, unknown role) is one line
    on stderr naming the option, and exit status 2.
    """
    try:
        conf = prepare(
            sys.argv[1:] if argv is None else argv, prog, extra_cli=extra_cli
        )
        svc = SiteService(conf, role_names(conf))
    except (cfg.Error, exception.SodosError) as exc:
        print('%s: error: %s' % (prog, exc), file=sys.stderr)
        return 2
    return serve(conf, svc)


def configured_roles(conf: cfg.ConfigOpts) -> list[str]:
    """``[DEFAULT]roles`` (sodos-site --roles)."""
    return list(conf.roles)
