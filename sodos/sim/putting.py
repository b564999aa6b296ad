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

"""How sodos-sim puts a scenario's appliances into a federation that
has just formed: once every site reports its monitoring (the planner
has nowhere to place before), many at a time, each retried until its
commit lands.
"""

from __future__ import annotations

import concurrent.futures
import time
from typing import Any

from sodos import exception

# Appliances are put this many at a time: each write waits for its
# Raft commit.
PUT_CONCURRENCY = 16


def wait_for_monitoring(client: Any, names: set[str], deadline: float) -> bool:
    """Whether every site of ``names`` is up and has reported its
    monitoring before ``deadline`` (``time.monotonic()``)."""
    while time.monotonic() < deadline:
        sites = client.read('sites') or {}
        monitoring = client.read('monitoring') or {}
        if names <= set(monitoring) and all(
            (sites.get(n) or {}).get('status') == 'up' for n in names
        ):
            return True
        time.sleep(0.2)
    return False


def put_all(client: Any, specs: list[dict[str, Any]], deadline: float) -> None:
    """Commit ``appliance.put`` of each of ``specs``; the first write that
    still fails at ``deadline`` is raised."""

    def put(args: dict[str, Any]) -> None:
        # A put is keyed by its appliance id: sending it again after a
        # commit timeout (a leader change under load) is safe.
        while True:
            try:
                client.propose('appliance.put', args)
                return
            except (exception.CommitTimeout, exception.NotReady):
                if time.monotonic() >= deadline:
                    raise

    with concurrent.futures.ThreadPoolExecutor(PUT_CONCURRENCY) as pool:
        # list() re-raises the first failed write here.
        list(pool.map(put, specs))
