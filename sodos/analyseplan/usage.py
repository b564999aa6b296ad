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

"""The owners' decayed usage, as the leader's AnalysePlan records it.

Every :data:`INTERVAL_S` the leader folds what each owner's members hold
now (vCPUs of its placements) into the decayed mean the KB keeps
(``owner.usage``), with the federation's half-life (policy
``fairshare_half_life_s``). Recording now and then, not every cycle,
keeps the Raft log small; the fair share reads the mean as recorded.
"""

from __future__ import annotations

from typing import Any

from sodos.domain import community
from sodos.domain import fairshare
from sodos.domain import ownership
from sodos.kb import shapes

INTERVAL_S = 600.0


def owners(kb: dict[str, Any]) -> set[str]:
    """The owners whose usage counts: of the sites, and with a policy."""
    found = {
        owner
        for site in kb.get('sites', {}).values()
        if site.get('status') != 'left'
        and (owner := community.site_owner(site))
    }
    return found | set(kb.get('owners') or {})


def current(kb: dict[str, Any]) -> dict[str, float]:
    """vCPUs each owner's placements hold now (sized by the flavors
    their sites report)."""
    identity = kb.get('identity') or {}
    monitoring = kb.get('monitoring', {})
    specs = kb.get('appliances', {})
    held: dict[str, float] = {}
    for key in sorted(kb.get('placements', {})):
        placed = kb['placements'][key]
        spec = (specs.get(placed['appliance_id']) or {}).get('spec') or {}
        owner = community.project_owner(identity, ownership.owner(spec))
        if not owner:
            continue
        flavor = shapes.placement_info(placed).get('flavor', '')
        flavors = shapes.summary(monitoring, placed['site']).get('flavors')
        size = (flavors or {}).get(flavor) or {}
        held[owner] = held.get(owner, 0.0) + float(size.get('vcpus') or 0)
    return held


def update(kb: dict[str, Any], now: float) -> dict[str, Any] | None:
    """The ``owner.usage`` arguments due at ``now``; None when every
    owner's record is younger than :data:`INTERVAL_S` (or no owner)."""
    known = owners(kb)
    records = {
        o: ((kb.get('owners') or {}).get(o) or {}).get('usage') for o in known
    }
    if not known or all(
        r and now - float(r['at']) < INTERVAL_S for r in records.values()
    ):
        return None
    half_life = float(
        (kb.get('policy') or {}).get(
            'fairshare_half_life_s', fairshare.DEFAULT_HALF_LIFE_S
        )
    )
    held = current(kb)
    out = {}
    for owner in sorted(known):
        record, now_held = records[owner], held.get(owner, 0.0)
        if record:
            mean = fairshare.decayed(
                float(record['mean']),
                float(record['at']),
                now,
                now_held,
                half_life,
            )
        else:
            mean = now_held
        out[owner] = round(mean, 6)
    return {'usage': out}
