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

"""KnowMon: this site's member of the Knowledge Base, and the monitor.

It holds the state backend, serves the KnowMon API to the other roles, and
beside the Raft leader it turns the leader's liveness view into site
status transitions in the KB.
"""

from __future__ import annotations

from typing import Any

from oslo_config import cfg

from sodos import roles
from sodos import rpc
from sodos.kb import backend as kb_backend
from sodos.knowmon import liveness
from sodos.knowmon import manager


class KnowMonRole(roles.Role):
    name = 'knowmon'

    def __init__(self, conf: cfg.ConfigOpts, knowmon: Any = None) -> None:
        super().__init__(conf, None)
        self.backend = kb_backend.load(conf, conf.knowmon.state_backend)
        self.manager = manager.KnowMonManager(self.backend)
        self.api = manager.LocalKnowMonAPI(self.manager)
        self._rpc: Any = None

    def start(self) -> None:
        self.backend.start()
        if self.conf.knowmon.serve_rpc:
            self._rpc = rpc.server(
                self.conf, self.conf.knowmon.rpc_topic, [self.manager]
            )
            self._rpc.start()
        super().start()

    def stop(self) -> None:
        super().stop()
        if self._rpc is not None:
            self._rpc.stop()
            self._rpc.wait()
            self._rpc = None
        self.backend.stop()

    def cycle(self) -> str:
        status = self.backend.status()
        if not status.ready:
            return 'knowmon: joining, not caught up yet (role %s)' % (
                status.role
            )
        if not status.is_leader:
            return 'knowmon: %s, leader %s (term %d), %s' % (
                status.role,
                status.leader_site or status.leader or 'unknown',
                status.term,
                'in quorum' if status.has_quorum else 'NO QUORUM',
            )
        changes = liveness.transitions(
            self.backend.read('sites'),
            self.backend.liveness(),
            self.conf.knowmon.site_down_timeout,
            self.backend.site,
        )
        done = []
        for change in changes:
            result = self.backend.propose(
                'site.status',
                {
                    'site': change.site,
                    'status': change.status,
                    'reason': change.reason,
                },
                check=False,
            )
            if result.get('ok') and result.get('changed'):
                done.append(
                    'marked %s %s (%s)'
                    % (change.site, change.status, change.reason)
                )
        counts: dict[str, int] = {}
        for site in self.backend.read('sites').values():
            counts[site['status']] = counts.get(site['status'], 0) + 1
        return 'knowmon: leader (term %d), %d sites up, %d down; %s' % (
            status.term,
            counts.get('up', 0),
            counts.get('down', 0),
            '; '.join(done) or 'no change',
        )
