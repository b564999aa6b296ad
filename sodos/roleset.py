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

"""The roles one process runs, and the KnowMon API they share.

Above the roles (sodos.roles is the base they build on): it loads them by
name, starts KnowMon first, and gives the others KnowMon's in-process API
or, without a KnowMon in this process, the RPC client to the site's.
"""

from __future__ import annotations

import threading
import typing
from typing import Any

from oslo_config import cfg
from oslo_log import log

from sodos import exception
from sodos import plugins
from sodos.knowmon import rpcapi
from sodos.roles import NAMESPACE
from sodos.roles import ORDER
from sodos.roles import Role

if typing.TYPE_CHECKING:
    from sodos.knowmon.rpcapi import KnowMonClient

LOG = log.getLogger(__name__)


def role_classes(names: list[str]) -> list[type[Role]]:
    """The classes of ``names``, in start order.

    :raises ConfigError: naming ``[DEFAULT]roles`` for an unknown name.
    """
    wanted = list(dict.fromkeys(names))
    if not wanted:
        raise exception.ConfigError('[DEFAULT]roles names no role to run')
    classes = [
        typing.cast(
            type[Role],
            plugins.load(
                NAMESPACE, name, '[DEFAULT]roles (or --roles)', 'role'
            ),
        )
        for name in wanted
    ]
    return sorted(classes, key=_start_order)


def _start_order(cls: type[Role]) -> tuple[bool, int, str]:
    rank = ORDER.index(cls.name) if cls.name in ORDER else len(ORDER)
    return (not cls.provides_knowmon, rank, cls.name)


class RoleSet:
    """The roles running in this process and the KnowMon API they share.

    KnowMon starts first and stops last: the others read the KB through
    it. Without a KnowMon in this process they reach the site's KnowMon
    over RPC.
    """

    def __init__(self, conf: cfg.ConfigOpts, names: list[str]) -> None:
        self.conf = conf
        self.classes = role_classes(names)
        self.roles: list[Role] = []
        self.knowmon: KnowMonClient | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def start(self) -> None:
        """Start every role; all or none. A stop() meanwhile wins."""
        with self._lock:
            try:
                for cls in self.classes:
                    if self._stopping.is_set():
                        break
                    role = cls(self.conf, self._api_for(cls))
                    role.start()
                    self.roles.append(role)
                    self.knowmon = self.knowmon or role.local_api()
                self._wake_on_commands()
            except BaseException:
                self._stop_all()
                raise

    def _wake_on_commands(self) -> None:
        """With the KB member in this process, a role reacts to what it
        cares about as soon as it is applied (a site marked down, its own
        new actions) instead of at its next loop."""
        backend = next(
            (b for b in (r.local_backend() for r in self.roles) if b), None
        )
        if backend is None:
            return
        roles = list(self.roles)

        def wake(wire: dict[str, Any], result: dict[str, Any]) -> None:
            if not result.get('ok'):
                return
            for role in roles:
                role.applied(wire, result)

        backend.add_listener(wake)

    def _api_for(self, cls: type[Role]) -> KnowMonClient | None:
        if cls.provides_knowmon:
            return None
        if self.knowmon is None:
            self.knowmon = rpcapi.KnowMonAPI(self.conf)
        return self.knowmon

    def stop(self) -> None:
        """Stop the roles in reverse order; waits for a start under way."""
        self._stopping.set()
        with self._lock:
            self._stop_all()

    def _stop_all(self) -> None:
        # A write waiting for a quorum that is gone would hold each role's
        # stop for up to [raft]commit_timeout, one after the other: fail
        # them now. (An action whose outcome is lost so is resumed, and
        # its idempotent handler finds its work done, at the next start.)
        for backend in (r.local_backend() for r in self.roles):
            if backend is not None:
                backend.abandon_writes()
        for role in reversed(self.roles):
            try:
                role.stop()
            except Exception:
                LOG.exception('%s: stop failed', role.name)
        self.roles = []
        if self.knowmon is not None:
            self.knowmon.close()
            self.knowmon = None

    def reload(self) -> None:
        for role in self.roles:
            role.reload()

    @property
    def names(self) -> list[str]:
        return [role.name for role in self.roles]
