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

"""The ``api`` role: the REST API served from a sodos-site process.

A one-process site (and a local simulated federation) runs the API
beside its other roles, over the KnowMon API of the process (or over RPC
when KnowMon runs elsewhere). It listens on ``[api]bind_host`` and
``[api]bind_port`` with the server of :mod:`sodos.api.server`;
production may serve :mod:`sodos.wsgi.api` under uwsgi instead.
"""

from __future__ import annotations

from oslo_config import cfg

from sodos import roles
from sodos.api import deploy
from sodos.api import server as server_mod
from sodos.knowmon import rpcapi


class ApiRole(roles.Role):
    name = 'api'

    def __init__(
        self, conf: cfg.ConfigOpts, knowmon: rpcapi.KnowMonClient | None
    ) -> None:
        super().__init__(conf, knowmon)
        self.app = deploy.deploy(conf, self.knowmon_api)
        self.server: server_mod.Server | None = None
        self._seen = (0, 0)

    def start(self) -> None:
        self.server = server_mod.Server.from_conf(self.conf, self.app)
        self.server.start()
        super().start()

    def stop(self) -> None:
        super().stop()
        if self.server is not None:
            self.server.stop()
            self.server = None

    def cycle(self) -> str:
        faults = self.app.faults
        with faults.lock:
            now = (faults.requests, faults.errors)
        requests, failed = (now[0] - self._seen[0], now[1] - self._seen[1])
        self._seen = now
        url = self.server.url if self.server else 'nowhere'
        return (
            'api: serving %s, KnowMon %s, %d request(s) (%d failed) '
            'since the last cycle'
            % (url, self.knowmon_api.via, requests, failed)
        )
