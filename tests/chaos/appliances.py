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

"""Appliances created during a run, and where their servers run after it.

The sites run Exec on the simulator driver and AnalysePlan: an
appliance put in the KB is placed by the leader and built by the sites
it is placed at; a site cut off, frozen or killed has its members placed
elsewhere, and must delete its own copies once it is back. The end
state is read from the KB's ``monitoring`` section, where each site
reports the servers its cloud holds.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from sodos import exception
from sodos.kb import commands
from tests.chaos import background

ORIGIN = 'chaos-appliances'
# Each appliance: two servers, on two sites.
MEMBERS = 2
SPEC: dict[str, Any] = {
    'members': [
        {
            'name': 'web',
            'image': 'fake-image',
            'flavor': 'm1.tiny',
            'count': MEMBERS,
        }
    ],
    'constraints': {'spread': 2},
}
# Exec and AnalysePlan on the simulator, quick enough for a run of
# minutes, slow enough for five sites on a loaded machine.
SETTINGS: dict[str, dict[str, Any]] = {
    'exec': {
        'loop_interval': 0.5,
        'monitor_interval': 1.0,
        'poll_interval': 0.1,
        'retry_delay': 0.2,
    },
    'simulator': {'boot_seconds': 0.3, 'delete_seconds': 0.2},
    'analyseplan': {'loop_interval': 1.0},
}


def put_command(appliance_id: str, name: str) -> commands.Command:
    return commands.make(
        'appliance.put',
        {'appliance_id': appliance_id, 'spec': dict(SPEC, name=name)},
        ORIGIN,
    )


def servers_by_site(monitoring: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Site -> {member key: server status}, as each site last reported
    its cloud's servers in the KB."""
    found = {}
    for site, report in monitoring.items():
        summary = (report or {}).get('summary') or {}
        servers = summary.get('servers') or {}
        found[site] = {key: entry['status'] for key, entry in servers.items()}
    return found


class Creator(background.Background):
    """A thread that creates ``count`` appliances, one every ``every``
    seconds, through the client member. A create that times out is sent
    again with the same command id (applied once only) until it commits
    or the run stops; ``acked`` holds the ids committed."""

    def __init__(
        self, member: Any, count: int, every: float, timeout: float = 5.0
    ) -> None:
        super().__init__('appliances')
        self.member = member
        self.count = count
        self.every = every
        self.timeout = timeout
        self.acked: list[str] = []
        self.retry_pause = 0.5

    def _run(self, index: int = 0) -> None:
        for n in range(self.count):
            if self.stopping.wait(self.every if n else 0.0):
                return
            appliance_id = uuid.uuid4().hex
            command = put_command(appliance_id, 'chaos-%d' % n)
            while not self.stopping.is_set():
                try:
                    result = self.member.submit(
                        command, timeout=self.timeout, check=False
                    )
                except exception.SodosError:
                    # No leader, say: a pause, lest a quick error spin.
                    self.stopping.wait(self.retry_pause)
                    continue
                if result.get('ok'):
                    self.acked.append(appliance_id)
                break


def settle(
    member: Any,
    check: Any,
    timeout: float,
    poll: float = 1.0,
) -> Any:
    """``check(servers_by_site)`` until it is falsy or ``timeout`` passes;
    its last value. Sites delete the copies they should not hold on their
    own loop, a few seconds after they are back."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = check(servers_by_site(member.read('monitoring')))
        except exception.SodosError as exc:
            found = ['unreadable: %s' % exc]
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(poll)
