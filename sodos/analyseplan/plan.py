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

"""What a plan is: the moves, what cannot be placed, the removals."""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass
class Move:
    key: str
    appliance_id: str
    member: str
    site: str
    from_site: str | None
    reason: str
    image: str
    flavor: str
    failed_sites: list[str]
    # Site of failed_sites -> when the server failed there, where known
    # (the placement carries it: sodos.analyseplan.failures.failed_sites).
    failed_at: dict[str, float] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Unplaced:
    key: str
    appliance_id: str
    member: str
    from_site: str | None
    reason: str


@dataclasses.dataclass
class Removal:
    key: str
    appliance_id: str
    member: str
    site: str
    # Why, when the member is still wanted (a reclaimed guest stopped).
    reason: str = ''


@dataclasses.dataclass
class Reclaim:
    """A guest member an owner reclaims room from: moved (``moved_to``),
    or, if no other site can take it, told (``deadline``: when its
    notice ends), then stopped (``stop``) once the deadline has passed."""

    key: str
    appliance_id: str
    member: str
    site: str
    host: str
    guest: str
    reason: str
    deadline: float
    stop: bool = False
    # The site it moves to instead, when one can take it: no notice.
    moved_to: str = ''


@dataclasses.dataclass
class Plan:
    moves: list[Move]
    unplaced: list[Unplaced]
    removals: list[Removal]
    kept: int
    capacity_left: dict[str, dict[str, float]]
    # What a consolidation empties and saves, if it runs.
    consolidation: dict[str, Any] | None = None
    # Guests being reclaimed (moved, or told and stopped), and the
    # member keys whose reclaim is over (sodos.analyseplan.reclaim).
    reclaims: list[Reclaim] = dataclasses.field(default_factory=list)
    reclaims_ended: list[str] = dataclasses.field(default_factory=list)

    def affected_appliances(self) -> list[str]:
        found = {m.appliance_id for m in self.moves}
        found |= {u.appliance_id for u in self.unplaced}
        return sorted(found)

    def summary(self) -> str:
        parts = ['%d kept' % self.kept]
        if self.moves:
            parts.append('%d to place' % len(self.moves))
        if self.removals:
            parts.append('%d to remove' % len(self.removals))
        if self.unplaced:
            parts.append('%d cannot be placed' % len(self.unplaced))
        reclaimed = sum(
            1 for m in self.moves if m.reason.startswith('reclaim:')
        )
        if reclaimed:
            parts.append('%d guest(s) moved for their host' % reclaimed)
        stopped = sum(1 for r in self.reclaims if r.stop)
        told = sum(1 for r in self.reclaims if not r.moved_to) - stopped
        if told:
            parts.append('%d guest(s) under notice' % told)
        if stopped:
            parts.append('%d guest(s) stopped for their host' % stopped)
        if self.consolidation:
            parts.append(
                'emptying %(site)s saves %(saving_per_hour)g/h'
                % self.consolidation
            )
        return ', '.join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            'moves': [dataclasses.asdict(m) for m in self.moves],
            'unplaced': [dataclasses.asdict(u) for u in self.unplaced],
            'removals': [dataclasses.asdict(r) for r in self.removals],
            'kept': self.kept,
            'affected_appliances': self.affected_appliances(),
            'capacity_left': self.capacity_left,
            'consolidation': self.consolidation,
            'reclaims': [dataclasses.asdict(r) for r in self.reclaims],
        }
