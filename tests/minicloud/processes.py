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

"""Run a site's commands and daemons, and stop them by their pidfiles.

Commands (db syncs, bootstrap) run to completion with their output in
SITE/log. Daemons run in a session of their own, detached from the
caller, with a pidfile in SITE/run written by the starter. Only pids from
those pidfiles (and their children) are ever signalled.
"""

from __future__ import annotations

import glob
import os
import signal
import subprocess
import sys
import threading
import time

import psutil

from tests.minicloud import errors
from tests.minicloud import layout as layout_mod

# uwsgi masters stop at once on SIGINT; on SIGTERM (die-on-term) they wait
# out the workers' mercy period.
UWSGI_SERVICES = ('keystone', 'glance', 'placement', 'nova-api', 'neutron')

DEFAULT_STOP_GRACE = 15.0


def bin_dir() -> str:
    # The OpenStack services are installed in the caller's venv.
    return os.path.dirname(sys.executable)


def executable(name: str) -> str:
    return os.path.join(bin_dir(), name)


def missing(names: tuple[str, ...]) -> list[str]:
    return [n for n in names if not os.access(executable(n), os.X_OK)]


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env['PATH'] = bin_dir() + os.pathsep + env.get('PATH', '')
    env['PYTHONUNBUFFERED'] = '1'
    return env


class Runner:
    """Starts the commands and daemons of one site."""

    def __init__(self, lay: layout_mod.Layout, abort: threading.Event):
        self.layout = lay
        # Set when another part of a parallel start failed: a running
        # command is then killed instead of waited for.
        self.abort = abort

    def run(
        self, phase: str, log_name: str, argv: list[str], timeout: float = 600
    ) -> None:
        log_path = self.layout.log(log_name)
        if self.abort.is_set():
            raise errors.MinicloudError(phase, 'aborted')
        with open(log_path, 'ab') as log:
            log.write(('$ %s\n' % ' '.join(argv)).encode())
            log.flush()
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=environment(),
                cwd=self.layout.dir,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while True:
            try:
                code = proc.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                if self.abort.is_set() or time.monotonic() > deadline:
                    proc.kill()
                    proc.wait()
                    why = 'aborted' if self.abort.is_set() else 'timed out'
                    raise errors.MinicloudError(
                        phase,
                        '%s %s after %.0f s'
                        % (os.path.basename(argv[0]), why, timeout),
                        log_path,
                    ) from None
        if code != 0:
            raise errors.MinicloudError(
                phase,
                '%s exited with status %d' % (' '.join(argv[:3]), code),
                log_path,
            )

    def spawn(self, name: str, argv: list[str]) -> int:
        if self.abort.is_set():
            raise errors.MinicloudError(name, 'aborted')
        with open(self.layout.log(name), 'ab') as log:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=environment(),
                cwd=self.layout.dir,
                # Its own session: a Ctrl-C in the caller's terminal does
                # not reach the site, and the site outlives the CLI.
                start_new_session=True,
            )
        with open(self.layout.pidfile(name), 'w') as f:
            f.write('%d\n' % proc.pid)
        return proc.pid


def _process(pidfile: str) -> psutil.Process | None:
    """The live process a pidfile names, or None (gone or pid reused)."""
    try:
        with open(pidfile) as f:
            pid = int(f.read().strip())
        proc = psutil.Process(pid)
        # The pidfile is written right after the process starts; a
        # process younger than the file only reuses the pid.
        if proc.create_time() > os.path.getmtime(pidfile) + 2:
            return None
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        return proc
    except (OSError, ValueError, psutil.Error):
        return None


def _pidfiles(lay: layout_mod.Layout) -> dict[str, str]:
    return {
        os.path.basename(path)[: -len('.pid')]: path
        for path in sorted(glob.glob(lay.pidfile('*')))
    }


def alive(lay: layout_mod.Layout, name: str) -> bool:
    return _process(lay.pidfile(name)) is not None


def running(lay: layout_mod.Layout) -> dict[str, int | None]:
    """Every daemon with a pidfile, and its pid if it runs."""
    result: dict[str, int | None] = {}
    for name, path in _pidfiles(lay).items():
        proc = _process(path)
        result[name] = proc.pid if proc else None
    return result


def _family(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return [proc] + proc.children(recursive=True)
    except psutil.Error:
        return [proc]


def stop(lay: layout_mod.Layout, grace: float = DEFAULT_STOP_GRACE) -> int:
    """Stop every daemon of the site; return how many were running.

    SIGINT to uwsgi masters, SIGTERM to the others, then SIGKILL to
    whatever of them and their children is left after `grace` seconds
    (at once when grace is 0).
    """
    pidfiles = _pidfiles(lay)
    family: list[psutil.Process] = []
    count = 0
    for name, path in pidfiles.items():
        proc = _process(path)
        if proc is None:
            continue
        count += 1
        # Children first: once a master is gone they are reparented and
        # could no longer be found from its pid.
        members = _family(proc)
        family.extend(members)
        if grace > 0:
            sig = signal.SIGINT if name in UWSGI_SERVICES else signal.SIGTERM
            try:
                proc.send_signal(sig)
            except psutil.Error:
                pass
    _, left = (
        psutil.wait_procs(family, timeout=grace) if grace else ([], family)
    )
    if left:
        # A master may have forked a replacement worker meanwhile.
        for proc in list(left):
            left.extend(p for p in _family(proc)[1:] if p not in left)
        for proc in left:
            try:
                proc.kill()
            except psutil.Error:
                pass
        psutil.wait_procs(left, timeout=5)
    for path in pidfiles.values():
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
    return count
