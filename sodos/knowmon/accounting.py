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

"""Accounting, sampled from the KB into this site's history database.

Every KnowMon, at each history copy (``[knowmon]history_interval``),
looks at the members running in the whole federation and adds what they
used since its previous look (sodos.domain.accounting) to its own
history database, as it copies the rest of the history: each site can
answer ``GET /v1/usage`` alone, whoever leads.

A member counts once: at the site its placement names, when that site is
up and its last monitoring report (what Exec saw) shows the member's
server ACTIVE there. A server the site runs for a member placed
elsewhere (the old copy during a make-before-break move, a leftover)
is not counted twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from oslo_config import cfg

from sodos.domain import accounting
from sodos.domain import community
from sodos.domain import ownership
from sodos.kb import shapes

# A gap between two looks longer than this many history intervals was
# not seen (KnowMon stopped, the database down): it is not billed.
MAX_GAP_INTERVALS = 3.0


def running(read: Callable[[str], Any]) -> list[accounting.Running]:
    """The members running now, sized by their site's flavors."""
    sites = read('sites') or {}
    monitoring = read('monitoring') or {}
    specs = read('appliances') or {}
    identity = read('identity') or {}
    found = []
    for key, placed in sorted((read('placements') or {}).items()):
        site = placed['site']
        if not shapes.is_up(sites, site):
            continue
        summary = shapes.summary(monitoring, site)
        server = shapes.servers(summary).get(key) or {}
        if server.get('status') != 'ACTIVE':
            continue
        spec = (specs.get(placed['appliance_id']) or {}).get('spec') or {}
        project = ownership.owner(spec) or ''
        flavor = shapes.placement_info(placed).get('flavor', '')
        size = (summary.get('flavors') or {}).get(flavor) or {}
        found.append(
            accounting.Running(
                site=site,
                owner=community.project_owner(identity, project),
                project=project,
                vcpus=float(size.get('vcpus') or 0),
                ram_mb=float(size.get('ram_mb') or 0),
            )
        )
    return found


class UsageRecorder:
    """Adds what ran since the last look to the history database."""

    def __init__(
        self, conf: cfg.ConfigOpts, clock: Callable[[], float] = time.time
    ) -> None:
        self.conf = conf
        self.clock = clock
        self._last: float | None = None

    def record(self, read: Callable[[str], Any]) -> int:
        """Rows of usage added to (0 at the first look: nothing seen
        run yet). :raises DatabaseError: as :mod:`sodos.db.api`; the
        next look then counts from the last one that was written."""
        from sodos.db import api  # as history._db: SQLAlchemy when used

        now = self.clock()
        interval = self.conf.knowmon.history_interval or 60.0
        rows = accounting.accrue(
            running(read), self._last, now, MAX_GAP_INTERVALS * interval
        )
        written = api.add_usage(self.conf, rows, now) if rows else 0
        self._last = now
        return written
