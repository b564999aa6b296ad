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

"""The planner's view of the federation: sites as arrays, and the facts
about appliances the planner needs, built once per plan from a KB read.

Sites are in name order, so that ties between equally good sites always
break the same way on every member (the planner must be deterministic).
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import numpy as np

from sodos.analyseplan import imageview

# Resource columns, in placement's units.
RESOURCES = ('vcpu', 'ram_mb', 'disk_gb')
_FLAVOR_KEYS = ('vcpus', 'ram_mb', 'disk_gb')


@dataclasses.dataclass
class Events:
    """Hypothetical events: what-if questions, or a drain being planned."""

    failed: frozenset[str] = frozenset()
    drained: frozenset[str] = frozenset()


class SiteTable:
    def __init__(self, kb: dict[str, Any], events: Events) -> None:
        sites = kb.get('sites', {})
        monitoring = kb.get('monitoring', {})
        self.names = sorted(
            n for n, s in sites.items() if s['status'] != 'left'
        )
        self.index = {name: i for i, name in enumerate(self.names)}
        n = len(self.names)
        self.status: list[str] = []
        self.total = np.zeros((n, 3))
        self.used = np.zeros((n, 3))
        self.images: list[frozenset[str]] = []
        self.flavors: list[dict[str, Any]] = []
        self.servers: list[dict[str, Any]] = []
        self.profiles: list[dict[str, Any]] = []
        for i, name in enumerate(self.names):
            site = sites[name]
            summary = (monitoring.get(name) or {}).get('summary') or {}
            self.status.append(_status(name, site, summary, events))
            capacity = summary.get('capacity') or {}
            for j, res in enumerate(RESOURCES):
                entry = capacity.get(res) or {}
                self.total[i, j] = float(entry.get('total') or 0.0)
                self.used[i, j] = float(entry.get('used') or 0.0)
            self.images.append(_images(summary))
            self.flavors.append(summary.get('flavors') or {})
            self.servers.append(summary.get('servers') or {})
            self.profiles.append((site.get('info') or {}).get('profile') or {})
        self.usable = np.array([s == 'ok' for s in self.status], dtype=bool)
        self.cost = np.array(
            [float(p.get('cost_per_vcpu_hour') or 0.0) for p in self.profiles]
        )
        # gCO2 per kWh at the plug: the grid's intensity times the PUE.
        self.energy = np.array(
            [
                float(p.get('carbon_intensity') or 0.0)
                * float(p.get('pue') or 1.0)
                for p in self.profiles
            ]
        )
        self.latency = np.array(
            [
                float(
                    (
                        ((monitoring.get(n) or {}).get('summary') or {}).get(
                            'api'
                        )
                        or {}
                    ).get('latency_ms')
                    or 0.0
                )
                for n in self.names
            ]
        )
        # Sites hosting sodos servers: those a consolidation keeps.
        self.active = np.array([bool(s) for s in self.servers], dtype=bool)
        self._need: dict[str, np.ndarray] = {}
        # Member key -> its flavor, from the placements (set by the
        # planner): sizes the servers a site reports.
        self.flavor_of: dict[str, str] = {}
        # Image reference -> sites a copy can reach (registered images
        # that some up site can serve).
        self.copyable = imageview.copyable(kb)

    def image_ok(self, i: int, ref: str) -> bool:
        """Whether site ``i`` has image ``ref``, or can get it by a copy."""
        return ref in self.images[i] or self.names[i] in self.copyable.get(
            ref, ()
        )

    def copy(self) -> SiteTable:
        """A copy whose usage can change without touching this one."""
        other = copy.copy(self)
        other.used = self.used.copy()
        other.active = self.active.copy()
        return other

    def need(self, flavor: str) -> np.ndarray:
        """(sites, 3) resources of ``flavor`` at each site; inf where the
        site does not know the flavor."""
        found = self._need.get(flavor)
        if found is None:
            found = np.full((len(self.names), 3), np.inf)
            for i, flavors in enumerate(self.flavors):
                spec = flavors.get(flavor)
                if spec:
                    found[i] = [float(spec[k]) for k in _FLAVOR_KEYS]
            self._need[flavor] = found
        return found

    def free(self) -> np.ndarray:
        return self.total - self.used


def _images(summary: dict[str, Any]) -> frozenset[str]:
    """The images a site can boot from now, by name and by ID."""
    details = summary.get('image_details') or {}
    return frozenset(summary.get('images') or ()) | frozenset(
        image_id
        for image_id, found in details.items()
        if (found or {}).get('status') == 'active'
    )


def _status(
    name: str,
    site: dict[str, Any],
    summary: dict[str, Any],
    events: Events,
) -> str:
    """'ok', or why the site takes no new member."""
    if name in events.failed:
        return 'failed (what-if)'
    if site['status'] != 'up':
        return 'site %s' % site['status']
    if name in events.drained:
        return 'draining (what-if)'
    maintenance = site.get('maintenance') or ''
    if maintenance:
        return maintenance
    if not summary:
        return 'no monitoring yet'
    if not (summary.get('api') or {}).get('ok'):
        return 'site API down'
    return 'ok'
