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

"""Site-down alerts: open while the KB says a site is down.

Liveness (:mod:`sodos.knowmon.liveness`) commits a site's transitions;
this raises an alert for each down spell, so an operator sees it where
every other failure is shown and its history keeps when it was noticed
(``raised_at``) and when the site came back (``closed_at``). Each spell
has its own alert id: a site that fails twice has two alerts.
"""

from __future__ import annotations

import uuid
from typing import Any

KIND = 'site_down'
NAMESPACE = uuid.UUID('5f0e3c1a-7d2b-4b8e-9a64-2c1d8e7f3b90')


def alert_id(site: str, since: Any) -> str:
    return uuid.uuid5(NAMESPACE, '%s:%s:%s' % (KIND, site, since)).hex


def changes(
    sites: dict[str, Any], alerts: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[str]]:
    """(alert.raise args to commit, alert ids to close)."""
    raise_, current = [], set()
    for name, site in sorted(sites.items()):
        if site.get('status') != 'down':
            continue
        aid = alert_id(name, site.get('status_changed_at'))
        current.add(aid)
        if aid not in alerts:
            raise_.append(
                {
                    'alert_id': aid,
                    'site': name,
                    'kind': KIND,
                    'severity': 'critical',
                    'message': 'site %s is down: %s'
                    % (name, site.get('reason') or 'not heard of'),
                }
            )
    close = sorted(
        aid
        for aid, alert in alerts.items()
        if alert.get('kind') == KIND and aid not in current
    )
    return raise_, close
