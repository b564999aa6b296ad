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

"""Alerts for members whose Knowledge Base is not the leader's.

Every member's heartbeat carries a digest of the commands it applied and
its applied index; the leader keeps two verdicts (sodos.kb.raft.heartbeat):
the sites whose digest disagrees with its own history ('diverged', at a
command count), and the sites whose applied index stopped moving while the
leader commits ('behind', at a log index). Pure: the KnowMon role feeds
it a verdict table, the sites the leader heard from since it leads, and
the open alerts, and commits what it returns.
"""

from __future__ import annotations

import uuid
from typing import Any

from sodos.knowmon import overload

KIND = 'kb_divergence'
BEHIND_KIND = 'kb_behind'

# verdict -> (alert kind, id prefix, message for site and position)
VERDICTS = {
    'diverged': (
        KIND,
        'kb-divergence:',
        'site %s: its Knowledge Base diverged from the '
        "leader's after %d commands (read-only members replicate "
        'afresh by themselves; a voter waits for its operator)',
    ),
    'behind': (
        BEHIND_KIND,
        'kb-behind:',
        "site %s: its Knowledge Base applies nothing of the leader's "
        'log, stuck at index %d (a read-only member replicates afresh by '
        'itself; a voter is fenced and replaced as a voter first)',
    ),
}


def alert_id(site: str, verdict: str = 'diverged') -> str:
    return uuid.uuid5(overload.NAMESPACE, VERDICTS[verdict][1] + site).hex


def changes(
    marked: dict[str, int],
    heard: set[str],
    alerts: dict[str, Any],
    verdict: str = 'diverged',
) -> tuple[list[dict[str, Any]], list[str]]:
    """(alert.raise args to commit, alert ids to close)."""
    kind, _prefix, message = VERDICTS[verdict]
    to_raise = [
        {
            'alert_id': alert_id(site, verdict),
            'site': site,
            'kind': kind,
            'severity': 'critical',
            'message': message % (site, at),
        }
        for site, at in sorted(marked.items())
        if alert_id(site, verdict) not in alerts
    ]
    # Closed only once the site was heard since this leader took over and
    # the verdict is lifted: a new leader starts with an empty table.
    to_close = [
        aid
        for aid, alert in sorted(alerts.items())
        if alert.get('kind') == kind
        and alert.get('site') in heard
        and alert.get('site') not in marked
    ]
    return to_raise, to_close
