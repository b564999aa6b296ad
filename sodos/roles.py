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

"""Roles: the parts of the MAPE-K loop a site runs.

Each role is a stevedore plugin in the ``sodos.roles`` namespace and runs
one decision cycle every ``[<role>]loop_interval`` seconds. Every cycle
logs exactly one line saying what it decided (patroni's habit): at INFO
when the decision changed (and once a minute when it did not; at DEBUG
otherwise), at WARNING when the cycle could not decide (its KnowMon
unreachable, say), at ERROR with the traceback when the cycle hit a bug.
"""

from __future__ import annotations

import abc
import time
import typing
from collections.abc import Callable
from typing import Any
from typing import ClassVar

from oslo_config import cfg
from oslo_log import log

from sodos import exception
from sodos import instruments
from sodos import periodic

if typing.TYPE_CHECKING:
    from sodos.knowmon.rpcapi import KnowMonClient

LOG = log.getLogger(__name__)
NAMESPACE = 'sodos.roles'
ROLES_OPTION = '[DEFAULT]roles (or --roles)'
# Start order of the roles sodos ships; other plugins start after them.
ORDER = ('knowmon', 'exec', 'analyseplan')
# An unchanged decision is repeated at INFO this often (seconds).
REPEAT_AT_INFO_EVERY = 60.0


class Loop:
    """A role's decision cycle, run periodically, one log line per cycle."""

    def __init__(
        self,
        name: str,
        cycle: Callable[[], str],
        interval: Callable[[], float],
    ) -> None:
        self.name = name
        self._cycle = cycle
        self._periodic = periodic.Periodic(name, self.run_once, interval)
        self._log = log.getLogger('sodos.' + name)
        self._duration = instruments.ROLE_CYCLE_SECONDS.labels(role=name)
        self.cycles = 0
        self.last_line = ''
        self._last_info = 0.0

    def start(self) -> None:
        self._periodic.start()

    def stop(self) -> None:
        self._periodic.stop()

    def wake(self) -> None:
        """Run the next cycle now (e.g. after a reload)."""
        self._periodic.wake()

    def run_once(self) -> str:
        started = time.monotonic()
        try:
            line = self._cycle()
        except exception.SodosError as exc:
            line = '%s: cycle skipped: %s' % (self.name, exc)
            self._log.warning(line)
        except Exception as exc:
            line = '%s: cycle failed: %s' % (self.name, exc)
            self._log.exception(line)
        else:
            now = time.monotonic()
            if line != self.last_line or (
                now - self._last_info > REPEAT_AT_INFO_EVERY
            ):
                self._log.info(line)
                self._last_info = now
            else:
                # Same decision as last cycle: still one line, at DEBUG,
                # so a 1 s loop does not write 86,000 INFO lines a day.
                self._log.debug(line)
        self._duration.observe(time.monotonic() - started)
        self.cycles += 1
        self.last_line = line
        return line


class Role(abc.ABC):
    name: ClassVar[str]
    # The role that holds the KB member serves the others in its process.
    provides_knowmon: ClassVar[bool] = False

    def __init__(
        self, conf: cfg.ConfigOpts, knowmon: KnowMonClient | None
    ) -> None:
        self.conf = conf
        self.knowmon = knowmon
        self._interval = periodic.ReloadedInterval(
            lambda: getattr(self.conf, self.name).loop_interval,
            '[%s]loop_interval' % self.name,
        )
        self.interval()
        self.loop = Loop(self.name, self.cycle, self.interval)

    def interval(self) -> float:
        """``[<role>]loop_interval``, read at every cycle (reload applies)."""
        return self._interval()

    @property
    def knowmon_api(self) -> KnowMonClient:
        """The site's KnowMon, for the roles that were given one."""
        if self.knowmon is None:
            raise exception.NotReady('%s: no KnowMon API given' % self.name)
        return self.knowmon

    def local_api(self) -> KnowMonClient | None:
        """The KnowMon API this role serves to the roles beside it."""
        return None

    def local_backend(self) -> Any:
        """The KB member this role holds, for the roles beside it."""
        return None

    def wakes_for(self, wire: dict[str, Any]) -> bool:
        """Whether the KB command ``wire``, just applied here, calls for
        a cycle now rather than at the end of the interval. Runs in the
        thread that applies the log: it must be quick."""
        return False

    def applied(self, wire: dict[str, Any], result: dict[str, Any]) -> None:
        """The KB command ``wire`` was just applied here with ``result``:
        wake what it concerns. Runs in the thread that applies the log:
        it must be quick and never wait."""
        if self.wakes_for(wire):
            self.loop.wake()

    def start(self) -> None:
        self.loop.start()

    def stop(self) -> None:
        self.loop.stop()

    def reload(self) -> None:
        """Mutable options were re-read; roles read them at each cycle."""
        self.loop.wake()

    @abc.abstractmethod
    def cycle(self) -> str:
        """Decide and act once; return the line that says what and why."""
