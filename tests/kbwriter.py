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

"""Writes desired state into a Knowledge Base, as the leader's planner does.

Tests and tools use it to drive Exec without AnalysePlan: put an
appliance, place its members, ask a site to build or delete a server,
and wait for the outcome. Leader-only commands are stamped with the
leader's current term, read from the member written through.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from sodos.domain import appliance as appliance_mod
from sodos.kb import commands
from sodos.knowmon import rpcapi


class KBWriter:
    def __init__(self, api: Any, origin: str = 'kbwriter') -> None:
        self.api = api
        self.origin = origin

    def propose(self, type: str, args: dict[str, Any]) -> dict[str, Any]:
        return rpcapi.propose(self.api, type, args, self.origin)

    def appliance(self, spec: dict[str, Any] | None = None) -> str:
        """A new appliance; with no spec, a bare one the planner leaves
        alone (its members are placed by hand)."""
        appliance_id = uuid.uuid4().hex
        if spec:
            spec = appliance_mod.validate(spec)
        self.propose(
            'appliance.put', {'appliance_id': appliance_id, 'spec': spec or {}}
        )
        return appliance_id

    def place(
        self,
        appliance_id: str,
        member: str,
        site: str,
        image: str,
        flavor: str,
    ) -> None:
        self.propose(
            'placement.set',
            {
                'appliance_id': appliance_id,
                'member': member,
                'site': site,
                'info': {'image': image, 'flavor': flavor},
            },
        )

    def action(
        self,
        site: str,
        kind: str,
        params: dict[str, Any],
        action_id: str | None = None,
    ) -> str:
        action_id = action_id or uuid.uuid4().hex
        self.propose(
            'action.put',
            {
                'action_id': action_id,
                'site': site,
                'kind': kind,
                'params': params,
            },
        )
        return action_id

    def create(
        self,
        appliance_id: str,
        member: str,
        site: str,
        image: str,
        flavor: str,
    ) -> str:
        """Place the member at ``site`` and ask that site to build it, in
        one batch: an Exec reconcile that read the placement before the
        action was committed would build the member itself, and the
        action would then find it built."""
        action_id = uuid.uuid4().hex
        # Both are the leader's commands: they carry the term, as
        # rpcapi.propose stamps them.
        term = self.api.status()['term']
        batch = [
            commands.make(
                'placement.set',
                {
                    'appliance_id': appliance_id,
                    'member': member,
                    'site': site,
                    'info': {'image': image, 'flavor': flavor},
                },
                self.origin,
                term=term,
            ),
            commands.make(
                'action.put',
                {
                    'action_id': action_id,
                    'site': site,
                    'kind': 'server.create',
                    'params': {
                        'appliance_id': appliance_id,
                        'member': member,
                        'image': image,
                        'flavor': flavor,
                    },
                },
                self.origin,
                term=term,
            ),
        ]
        results = self.api.submit_many([c.to_wire() for c in batch])
        for command, result in zip(batch, results, strict=True):
            assert result.get('ok'), (command.type, result)
        return action_id

    def wait_action(self, action_id: str, timeout: float) -> dict[str, Any]:
        """The action once done or failed."""
        deadline = time.monotonic() + timeout
        action: Any = None
        while time.monotonic() < deadline:
            action = self.api.read('actions').get(action_id)
            if action and action['state'] in ('done', 'failed'):
                return dict(action)
            time.sleep(0.1)
        raise AssertionError(
            'action %s not ended after %.0f s: %s'
            % (action_id, timeout, action)
        )

    def wait_monitoring(
        self, check: Any, timeout: float, what: str
    ) -> dict[str, Any]:
        """The monitoring section once ``check(section)`` holds."""
        deadline = time.monotonic() + timeout
        section: Any = None
        while time.monotonic() < deadline:
            section = self.api.read('monitoring')
            if check(section):
                return dict(section)
            time.sleep(0.1)
        raise AssertionError(
            'timed out after %.0f s waiting for %s; monitoring: %s'
            % (timeout, what, section)
        )


def servers_by_site(monitoring: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Site -> {member key: status} from the KB's monitoring section."""
    return {
        site: {
            key: entry['status']
            for key, entry in (report['summary'].get('servers') or {}).items()
        }
        for site, report in monitoring.items()
    }
