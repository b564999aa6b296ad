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

"""A one-member, in-process Knowledge Base.

It runs the real state machine (:mod:`sodos.kb.state`) without a network
or a disk: for unit tests of the roles and for plugin authors. It is always
the leader of term 1 and always in quorum.
"""

from __future__ import annotations

import concurrent.futures
import copy
import threading
from typing import Any

from oslo_config import cfg

from sodos.kb import backend
from sodos.kb import commands
from sodos.kb import query as kbquery
from sodos.kb import state


class MemoryBackend(backend.StateBackend):
    def __init__(self, conf: cfg.ConfigOpts) -> None:
        super().__init__(conf)
        self._state = state.KnowledgeState()
        self._lock = threading.Lock()
        self._running = False

    def start(self) -> None:
        self._running = True

    def stop(self) -> None:
        self._running = False

    def submit_async(
        self, command: commands.Command, timeout: float | None = None
    ) -> concurrent.futures.Future[backend.Result]:
        future: concurrent.futures.Future[backend.Result] = (
            concurrent.futures.Future()
        )
        # A copy, as the bytes in a real log would be: the caller may keep
        # mutating its arguments.
        wire = copy.deepcopy(command.to_wire())
        with self._lock:
            result = self._state.apply(wire)
        self._notify(wire, result)
        future.set_result(result)
        return future

    def read_query(self, query: kbquery.Query) -> Any:
        with self._lock:
            thaw = self._state.freeze(query)
        return thaw()

    @property
    def term(self) -> int:
        return 1

    def status(self) -> backend.MemberStatus:
        address = self.conf.raft.address or 'memory:0'
        with self._lock:
            applied = self._state.applied
        return backend.MemberStatus(
            site=self.site,
            address=address,
            role='voter' if self._running else 'stopped',
            ready=self._running,
            leader=address,
            leader_site=self.site,
            is_leader=self._running,
            term=1,
            has_quorum=self._running,
            commit_index=applied,
            last_applied=applied,
            voters=[
                {'address': address, 'site': self.site, 'connected': True}
            ],
        )
