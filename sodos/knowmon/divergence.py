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

"""Alerts for members whose Knowledge Base diverged from the leader's.

Every member's heartbeat carries a digest of the commands it applied; the
leader compares it with its own history (sodos.kb.raft.consumer) and keeps
the sites that disagree. Pure: the KnowMon role feeds it that table, the
sites the leader heard from since it leads, and the open alerts, and
commits what it returns.
"""

from __future__ import annotations

import uuid
from typing import Any

from sodos.knowmon import overload

KIND = 'kb_divergence'


def alert_id(site: str) -> str:
    return uuid.uuid5(overload.NAMESPACE, 'kb-divergence:' + site).hex


def changes(
    diverged: dict[str, int],
    heard: set[str],
    alerts: dict[str, Any],
) -> tuple[list[dict[str, Any]], list[str]]:
    """(alert.raise args to commit, alert ids to close)."""
    to_raise = [
        {
            'alert_id': alert_id(site),
            'site': site,
            'kind': KIND,
            'severity': 'critical',
            'message': 'site %s: its Knowledge Base diverged from the '
            "leader's after %d commands (read-only members replicate "
            'afresh by themselves; a voter waits for its operator)'
            % (site, count),
        }
        for site, count in sorted(diverged.items())
        if alert_id(site) not in alerts
    ]
    # Closed only once the site was heard since this leader took over and
    # agrees: a new leader starts with an empty table.
    to_close = [
        aid
        for aid, alert in sorted(alerts.items())
        if alert.get('kind') == KIND
        and alert.get('site') in heard
        and alert.get('site') not in diverged
    ]
    return to_raise, to_close
