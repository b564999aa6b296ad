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

"""What a site must change so that its servers match the KB's placements.

A pure function, so that the rules are tested without a cloud:

* a sodos server whose member is placed at another site, or no longer
  placed anywhere, is stale: delete it (the federation re-placed the
  member while this site was cut off, or the appliance was deleted);
* a second server for the same member is a duplicate: keep the best one
  (ACTIVE first, then the one the member's action made);
* a server in ERROR is replaced: delete it and build the member again;
* a member placed here with no server, and no action under way for it,
  is missing: build it from the placement's ``info`` (``image``,
  ``flavor`` and optionally ``name``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sodos.exec.drivers import base as driver
from sodos.kb import shapes


@dataclasses.dataclass
class Plan:
    delete: list[tuple[driver.Server, str]] = dataclasses.field(
        default_factory=list
    )
    create: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.delete or self.create)

    def describe(self) -> str:
        if not self:
            return 'in step with the KB'
        reasons: dict[str, int] = {}
        for _server, reason in self.delete:
            reasons[reason] = reasons.get(reason, 0) + 1
        parts = ['delete %d %s' % (n, r) for r, n in sorted(reasons.items())]
        if self.create:
            parts.append('create %d missing' % len(self.create))
        return ', '.join(parts)


def plan(
    site: str,
    servers: list[driver.Server],
    placements: dict[str, dict[str, Any]],
    busy_members: set[str],
    active_images: set[str] | None = None,
) -> Plan:
    """The changes; ``busy_members`` have an action under way: skipped.

    A member placed here to wait for its image (``awaiting_image``) is
    not built before the image is in ``active_images`` (ids of this
    site's active images): AnalysePlan issues its create once the copy
    has arrived.
    """
    result = Plan()
    by_member: dict[str, list[driver.Server]] = {}
    for server in servers:
        by_member.setdefault(server.key, []).append(server)
    for key in sorted(by_member):
        if key in busy_members:
            continue
        found = by_member[key]
        placed = placements.get(key)
        if placed is None or placed.get('site') != site:
            result.delete.extend((s, 'stale') for s in found)
            continue
        keep = _best(found)
        for server in found:
            if server is not keep:
                result.delete.append((server, 'duplicate'))
        if keep.status == driver.Driver.ERROR:
            result.delete.append((keep, 'in ERROR'))
    for key in sorted(placements):
        placed = placements[key]
        if placed.get('site') != site or key in busy_members:
            continue
        have = [
            s
            for s in by_member.get(key, [])
            if s.status != driver.Driver.ERROR
        ]
        if have or not _buildable(placed):
            continue
        awaiting = placed['info'].get('awaiting_image')
        if awaiting and awaiting not in (active_images or set()):
            continue
        info = placed['info']
        result.create.append(
            {
                'appliance_id': placed['appliance_id'],
                'member': placed['member'],
                'image': info['image'],
                'flavor': info['flavor'],
                **({'name': info['name']} if info.get('name') else {}),
            }
        )
    return result


def _best(found: list[driver.Server]) -> driver.Server:
    return sorted(
        found,
        key=lambda s: (s.status != driver.Driver.ACTIVE, s.id),
    )[0]


def _buildable(placed: dict[str, Any]) -> bool:
    info = shapes.placement_info(placed)
    return bool(info.get('image')) and bool(info.get('flavor'))
