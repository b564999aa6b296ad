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

"""The Knowledge Base as pysyncobj sees it: one replicated method."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from pysyncobj import SyncObjConsumer
from pysyncobj import replicated

from sodos.kb import state

Applied = Callable[[dict[str, Any], dict[str, Any]], None]


class KBConsumer(SyncObjConsumer):
    """The replicated Knowledge Base as pysyncobj sees it."""

    def __init__(self, on_applied: Applied) -> None:
        # Attributes set before SyncObjConsumer.__init__ are not part of
        # the snapshot: the lock and the callback are local.
        self._lock = threading.RLock()
        self._on_applied = on_applied
        super().__init__()
        self.kb = state.KnowledgeState()

    @replicated
    def apply(self, wire: Any) -> dict[str, Any]:
        with self._lock:
            result = self.kb.apply(wire)
        if isinstance(wire, dict):
            self._on_applied(wire, result)
        return result

    def read(self, section: str | None = None) -> Any:
        with self._lock:
            return self.kb.read(section)

    @property
    def applied(self) -> int:
        return self.kb.applied
