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
ends in one line saying what it decided (patroni's habit): at INFO when it
differs from the previous cycle's or once a minute, at DEBUG otherwise, so
a quiet site does not flood its log.
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
from stevedore import driver

from sodos import exception
from sodos import periodic

LOG = log.getLogger(__name__)
NAMESPACE = 'sodos.roles'
# KnowMon holds the KB the others read: it starts first, stops last.
ORDER = ('knowmon', 'exec', 'analyseplan')
REPEAT_AT_INFO_EVERY = 60.0


class Loop:
    """A role's decision cycle, run periodically, one line per cycle."""

    def __init__(
        self,
        name: str,
        cycle: Callable[[], str],
        interval: Callable[[], float],
    ) -> None:
        self.name = name
        self._cycle = cycle
        self._periodic = periodic.Periodic(name, self.run_once, interval)
        self._last = ''
        self._last_info = 0.0
        self._log = log.getLogger('sodos.' + name)
        self.cycles = 0

    def start(self) -> None:
        self._periodic.start()

    def stop(self) -> None:
        self._periodic.stop()

    def wake(self) -> None:
        """Run the next cycle now (e.g. after a reload)."""
        self._periodic.wake()

    def run_once(self) -> str:
        try:
            line = self._cycle()
        except exception.SodosError as exc:
            line = '%s: cycle skipped: %s' % (self.name, exc)
        except Exception as exc:
            LOG.exception('%s: cycle failed', self.name)
            line = '%s: cycle failed: %s' % (self.name, exc)
        self.cycles += 1
        now = time.monotonic()
        if line != self._last or now - self._last_info > REPEAT_AT_INFO_EVERY:
            self._log.info(line)
            self._last_info = now
        else:
            self._log.debug(line)
        self._last = line
        return line


class Role(abc.ABC):
    name: ClassVar[str]

    def __init__(self, conf: cfg.ConfigOpts, knowmon: Any) -> None:
        self.conf = conf
        self.knowmon = knowmon
        self.loop = Loop(self.name, self.cycle, self.interval)

    def interval(self) -> float:
        # Read at every cycle, so a SIGHUP reload applies at once.
        value: float = getattr(self.conf, self.name).loop_interval
        return value

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


def role_class(name: str) -> type[Role]:
    try:
        manager: driver.DriverManager = driver.DriverManager(
            NAMESPACE, name, invoke_on_load=False
        )
    except Exception as exc:
        raise exception.ConfigError(
            'unknown role %r (known: %s)' % (name, ', '.join(ORDER))
        ) from exc
    return typing.cast(type[Role], manager.driver)


def start_roles(conf: cfg.ConfigOpts, names: list[str]) -> list[Role]:
    """Start ``names`` in dependency order; all or none."""
    if not names:
        raise exception.ConfigError('[DEFAULT]roles names no role to run')
    classes = {name: role_class(name) for name in names}
    ordered = sorted(
        classes,
        key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n),
    )
    started: list[Role] = []
    knowmon: Any = None
    try:
        for name in ordered:
            if name == 'knowmon':
                role = classes[name](conf, None)
                role.start()
                knowmon = getattr(role, 'api')  # noqa: B009
            else:
                if knowmon is None:
                    from sodos.knowmon import rpcapi

                    knowmon = rpcapi.KnowMonAPI(conf)
                role = classes[name](conf, knowmon)
                role.start()
            started.append(role)
    except BaseException:
        stop_roles(started)
        raise
    return started


def stop_roles(roles: list[Role]) -> None:
    for role in reversed(roles):
        try:
            role.stop()
        except Exception:
            LOG.exception('%s: stop failed', role.name)
