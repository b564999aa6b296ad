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

"""The Raft members' status, read through each site's control API:
whether a restarted site is a voter in quorum again, and which members
have not caught up with the leader after the heal."""

from __future__ import annotations

import time
from typing import Any

from sodos import exception
from sodos.kb.raft import control


def member_status(fed: Any, site: Any) -> dict[str, Any] | None:
    try:
        status: dict[str, Any] = control.call(site.address, fed.key, 'status')
        return status['member']
    except exception.SodosError:
        return None


def voter_in_quorum(fed: Any, site: Any) -> bool:
    status = member_status(fed, site)
    return bool(status and status['role'] == 'voter' and status['has_quorum'])


def voters_behind(
    fed: Any, timeout: float, roles: tuple[str, ...] = ('voter',)
) -> list[str]:
    """Members of ``roles`` (voters by default; 'readonly' too) whose
    applied index has not reached the leader's commit index (as it was
    once a leader was found) within ``timeout``."""
    deadline = time.monotonic() + timeout
    target = None
    while target is None and time.monotonic() < deadline:
        for site in fed.sites.values():
            status = member_status(fed, site)
            if status and status.get('is_leader') and status['has_quorum']:
                target = status['commit_index']
                break
        else:
            time.sleep(0.2)
    if target is None:
        return sorted(fed.sites)
    behind = sorted(fed.sites)
    while behind and time.monotonic() < deadline:
        still = []
        for name in behind:
            status = member_status(fed, fed.sites[name])
            if status is None or (
                status['role'] in roles and status['last_applied'] < target
            ):
                still.append(name)
        behind = still
        if behind:
            time.sleep(0.2)
    return behind
