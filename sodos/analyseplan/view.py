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

Per-site values are plain lists, one entry per site (resources: a list
of three per site). A federation has at most hundreds of sites, where
list arithmetic costs little more than an array library's, and the
leader is spared the ~12 MB that loading one takes.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
import time
from typing import TYPE_CHECKING
from typing import Any

from sodos.domain import imageview
from sodos.kb import shapes

if TYPE_CHECKING:
    from sodos.analyseplan.sharing import Ledger

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
        self.status: list[str] = []
        # Per site: total and used of each of RESOURCES.
        self.total: list[list[float]] = []
        self.used: list[list[float]] = []
        self.images: list[frozenset[str]] = []
        self.flavors: list[dict[str, Any]] = []
        self.servers: list[dict[str, Any]] = []
        self.profiles: list[dict[str, Any]] = []
        for name in self.names:
            site = sites[name]
            summary = shapes.summary(monitoring, name)
            self.status.append(_status(name, site, summary, events))
            capacity = summary.get('capacity') or {}
            entries = [capacity.get(res) or {} for res in RESOURCES]
            self.total.append([float(e.get('total') or 0.0) for e in entries])
            self.used.append([float(e.get('used') or 0.0) for e in entries])
            self.images.append(_images(summary))
            self.flavors.append(summary.get('flavors') or {})
            self.servers.append(shapes.servers(summary))
            self.profiles.append(shapes.profile(site))
        self.usable = [s == 'ok' for s in self.status]
        self.top_ram = max([total[1] for total in self.total], default=0.0)
        self.cost = [
            float(p.get('cost_per_vcpu_hour') or 0.0) for p in self.profiles
        ]
        # gCO2 per kWh at the plug: the grid's intensity times the PUE.
        self.energy = [
            float(p.get('carbon_intensity') or 0.0)
            * float(p.get('pue') or 1.0)
            for p in self.profiles
        ]
        self.latency = [
            float(
                shapes.api(shapes.summary(monitoring, n)).get('latency_ms')
                or 0.0
            )
            for n in self.names
        ]
        # Sites hosting sodos servers: those a consolidation keeps.
        self.active = [bool(s) for s in self.servers]
        self._need: dict[str, list[list[float]]] = {}
        # The read's placements (set by the planner): flavor_of.
        self.placements: dict[str, Any] = {}
        # Image reference -> sites a copy can reach (registered images
        # that some up site can serve).
        self.copyable = imageview.copyable(kb)
        # The owners' sharing (sodos.analyseplan.sharing), set by the
        # planner; None: no site has an owner.
        self.sharing: Ledger | None = None

    @functools.cached_property
    def flavor_of(self) -> dict[str, str]:
        """Member key -> its flavor, from the placements: sizes the
        servers a site reports (worked out when first asked: only an
        overloaded site or a reclaim asks)."""
        return {
            key: (p.get('info') or {}).get('flavor', '')
            for key, p in self.placements.items()
        }

    def image_ok(self, i: int, ref: str) -> bool:
        """Whether site ``i`` has image ``ref``, or can get it by a copy."""
        return ref in self.images[i] or self.names[i] in self.copyable.get(
            ref, ()
        )

    def copy(self) -> SiteTable:
        """A copy whose usage can change without touching this one."""
        other = copy.copy(self)
        other.used = [row[:] for row in self.used]
        other.active = self.active[:]
        if self.sharing is not None:
            other.sharing = self.sharing.copy()
        return other

    def need(self, flavor: str) -> list[list[float]]:
        """Per site, the resources of ``flavor`` there; inf where the
        site does not know the flavor. Shared: do not change it."""
        found = self._need.get(flavor)
        if found is None:
            found = []
            for flavors in self.flavors:
                spec = flavors.get(flavor)
                found.append(
                    [float(spec[k]) for k in _FLAVOR_KEYS]
                    if spec
                    else [math.inf] * 3
                )
            self._need[flavor] = found
        return found

    def take(self, i: int, flavor: str, count: int = 1) -> None:
        """Count ``count`` servers of ``flavor`` as using room at site
        ``i``."""
        need = self.need(flavor)[i]
        if count != 1:
            need = [n * count for n in need]
        # add(), spelled out: a plan takes room once per server placed.
        u = self.used[i]
        self.used[i] = [u[0] + need[0], u[1] + need[1], u[2] + need[2]]

    def release(self, i: int, flavor: str) -> None:
        """Count a server of ``flavor`` at site ``i`` as gone."""
        need = self.need(flavor)[i]
        self.used[i] = [u - n for u, n in zip(self.used[i], need, strict=True)]

    def free(self) -> list[list[float]]:
        return [
            [t - u for t, u in zip(total, used, strict=True)]
            for total, used in zip(self.total, self.used, strict=True)
        ]


def utc(moment: float) -> str:
    """``moment`` (seconds since the epoch) as the reasons and notices
    tell it."""
    return time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(moment))


def add(row: list[float], other: list[float]) -> list[float]:
    return [a + b for a, b in zip(row, other, strict=True)]


def finite(row: list[float]) -> list[float]:
    """``row`` with what is not a finite number as 0."""
    return [x if math.isfinite(x) else 0.0 for x in row]


def _images(summary: shapes.Summary) -> frozenset[str]:
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
    summary: shapes.Summary,
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
    if not shapes.api(summary).get('ok'):
        return 'site API down'
    return 'ok'
