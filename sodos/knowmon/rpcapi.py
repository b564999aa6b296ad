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

"""Client side of the KnowMon RPC API.

The other roles of a site (and its API service) read the Knowledge Base
and submit commands through this API, over the site's own message bus.

API version history:

* 1.0 - Initial version: read, submit, status, in_quorum, liveness.
"""

from __future__ import annotations

from typing import Any

import oslo_messaging
from oslo_config import cfg

from sodos import rpc
from sodos.knowmon import manager


class KnowMonAPI:
    VERSION = '1.0'

    def __init__(
        self,
        conf: cfg.ConfigOpts,
        site: str | None = None,
        transport: Any = None,
    ) -> None:
        self.conf = conf
        target = oslo_messaging.Target(
            topic=conf.knowmon.rpc_topic,
            server=site or conf.site_name,
            version=self.VERSION,
        )
        self.client = oslo_messaging.get_rpc_client(
            transport or rpc.transport(conf), target
        )

    def _call(
        self, method: str, timeout: float | None = None, **kwargs: Any
    ) -> Any:
        client = self.client.prepare(timeout=timeout or 30)
        return client.call({}, method, **kwargs)

    def read(self, section: str | None = None) -> Any:
        return manager._data(self._call('read', section=section))

    def submit(
        self, command: dict[str, Any], timeout: float | None = None
    ) -> dict[str, Any]:
        # The RPC deadline outlives the commit deadline, so the caller
        # gets the KB's answer (or its timeout error), not the bus's.
        budget = (timeout or self.conf.raft.commit_timeout) + 10
        result: dict[str, Any] = self._call(
            'submit', timeout=budget, command=command, commit_timeout=timeout
        )
        return result

    def status(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call('status')
        return result

    def in_quorum(self) -> bool:
        return bool(self._call('in_quorum'))

    def liveness(self) -> dict[str, float]:
        result: dict[str, float] = self._call('liveness')
        return result
