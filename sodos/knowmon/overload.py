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

"""Overload detection: which sites' alerts to raise and to close.

A site whose vCPU, RAM or disk use exceeds ``threshold`` percent of its
total (as its last committed summary says) is overloaded; its alert
closes once every resource is ``hysteresis`` points under the threshold,
so that a site hovering at the line does not flap.
"""

from __future__ import annotations

import uuid
from typing import Any

from sodos.kb import shapes

NAMESPACE = uuid.UUID('0c5b8f8e-2f43-4f7e-8f3c-6a1b9d2e4c11')
KIND = 'overload'


def alert_id(site: str) -> str:
    return uuid.uuid5(NAMESPACE, 'overload:' + site).hex


def utilisation(summary: shapes.Summary) -> dict[str, float]:
    """Percent used per resource with a non-zero total."""
    out = {}
    for res, entry in sorted((summary.get('capacity') or {}).items()):
        total = float(entry.get('total') or 0.0)
        if total > 0:
            out[res] = 100.0 * float(entry.get('used') or 0.0) / total
    return out


def changes(
    monitoring: dict[str, Any],
    sites: dict[str, Any],
    alerts: dict[str, Any],
    threshold: float,
    hysteresis: float,
) -> tuple[list[dict[str, Any]], list[str]]:
    """(alert.raise args to commit, alert ids to close)."""
    raise_, close = [], []
    for name in sorted(monitoring):
        if not shapes.is_up(sites, name):
            continue
        used = utilisation(shapes.summary(monitoring, name))
        hot = {r: u for r, u in used.items() if u > threshold}
        aid = alert_id(name)
        if hot and aid not in alerts:
            worst = max(hot, key=lambda r: (hot[r], r))
            raise_.append(
                {
                    'alert_id': aid,
                    'site': name,
                    'kind': KIND,
                    'severity': 'warning',
                    'message': 'site %s overloaded: %s %.0f%% used (over '
                    '%.0f%%)' % (name, worst, hot[worst], threshold),
                }
            )
        elif aid in alerts and all(
            u <= threshold - hysteresis for u in used.values()
        ):
            close.append(aid)
    return raise_, close


def targets(alerts: dict[str, Any], target_pct: float) -> dict[str, float]:
    """Site -> the utilisation (0..1) AnalysePlan brings it under."""
    return {
        a['site']: target_pct / 100.0
        for a in alerts.values()
        if a.get('kind') == KIND and a.get('state', 'open') == 'open'
    }
