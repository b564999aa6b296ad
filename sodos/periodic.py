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

"""A function run every few seconds in a thread of its own.

The role loops, the membership controller and the heartbeat sender all
need the same thing: run, wait (interval read each time, so a reload
applies), run again, be woken early, stop promptly, and never let one
failed run end the loop.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from oslo_config import cfg

from sodos import exception

LOG = logging.getLogger(__name__)


class ReloadedInterval:
    """An interval read from an option at every run (a reload applies).

    A value a reload made invalid keeps the last good one, said once per
    run as an error, rather than ending the loop.
    """

    def __init__(
        self, read: Callable[[], float], what: str, first: float = 1.0
    ) -> None:
        self._read = read
        self.what = what
        self.value = first

    def __call__(self) -> float:
        try:
            self.value = float(self._read())
        except (cfg.Error, ValueError) as exc:
            LOG.error('keeping %s %.1f s: %s', self.what, self.value, exc)
        return self.value


class Periodic:
    def __init__(
        self,
        name: str,
        func: Callable[[], object],
        interval: Callable[[], float],
        first_wait: bool = False,
    ) -> None:
        self.name = name
        self._func = func
        self._interval = interval
        self._first_wait = first_wait
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name='sodos-' + self.name, daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def wake(self) -> None:
        """Run again now instead of at the end of the interval."""
        self._wake.set()

    def sleep(self, seconds: float) -> bool:
        """Wait inside a run; True if the loop is stopping."""
        return self._stop.wait(seconds)

    def _run(self) -> None:
        if self._first_wait:
            self._pause()
        while not self._stop.is_set():
            try:
                self._func()
            except exception.SodosError as exc:
                LOG.warning('%s: %s', self.name, exc)
            except Exception:
                LOG.exception('%s: run failed', self.name)
            self._pause()

    def _pause(self) -> None:
        self._wake.wait(self._interval())
        self._wake.clear()
