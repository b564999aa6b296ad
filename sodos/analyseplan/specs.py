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

"""The appliances' validated specs, kept from one plan to the next.

Validating a spec (a schema check and a copy with the defaults) is
about a third of a plan of 10,000 appliances, and between two cycles
almost every spec is the one validated last time. A :class:`SpecCache`
lives as long as the planning member's planner: a spec is validated
again only when its record changed.

A record is the one validated before when it has the same
``updated_at`` (the commit time the KB stamps on every write) and its
spec equals the spec read then (a new read is new objects, compared by
value: about 1/50 of the cost of validating). A record without a stamp
(a view written by hand) is validated every time. Like the KB, the
planner takes a record that keeps its stamp for one that did not change:
a caller must not change a read in place and plan from it again.

Memory is bounded by the appliances of the latest read: the entries of
deleted appliances are dropped at the next plan. The cache also carries
how the last plan sorted the members of these specs
(:mod:`sodos.analyseplan.sorting`), bounded the same way.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING
from typing import Any

from sodos.domain import appliance
from sodos.domain import ownership

if TYPE_CHECKING:
    from sodos.analyseplan.sorting import Sorter


@dataclasses.dataclass(eq=False)
class Entry:
    """One appliance's record as last validated (compared by identity:
    the same entry means the same spec)."""

    updated_at: Any
    # The record's spec as read (not copied: a read is not changed).
    raw: Any
    # The spec with its defaults; None if it does not validate.
    valid: dict[str, Any] | None
    members: list[appliance.Instance] = dataclasses.field(default_factory=list)
    # The owner's global project id (sodos.domain.ownership).
    project: str | None = None
    priority: int = 0
    constraints: dict[str, Any] = dataclasses.field(default_factory=dict)
    # The members' keys (appliance.Instance.key, worked out once).
    keys: list[str] = dataclasses.field(default_factory=list)
    # What the constraints say of where a member may be (signature()).
    signature: Any = None


class SpecCache:
    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}
        # The valid entries of the latest read, and their planning order.
        self._valid: dict[str, Entry] = {}
        self._order: list[str] = []
        # How many specs were validated since this cache was made (for
        # the tests and the benchmark).
        self.validations = 0
        # The members of the last plan, as sorted from these specs
        # (sodos.analyseplan.sorting); made by the planner.
        self.sorter: Sorter | None = None

    def __len__(self) -> int:
        """How many appliances' records it holds (those of the latest
        read, valid or not)."""
        return len(self._entries)

    def read(self, appliances: dict[str, Any]) -> dict[str, Entry]:
        """Appliance id -> its entry, for every spec of ``appliances``
        that validates; one that does not is left out (and alone)."""
        entries, old = {}, self._entries
        valid = {}
        for appliance_id, record in appliances.items():
            stamp, spec = record.get('updated_at'), record.get('spec')
            entry = old.get(appliance_id)
            if (
                entry is None
                or stamp is None
                or entry.updated_at != stamp
                or (spec is not entry.raw and spec != entry.raw)
            ):
                entry = self._validated(appliance_id, stamp, spec)
            entries[appliance_id] = entry
            if entry.valid is not None:
                valid[appliance_id] = entry
        # A new dict each read: deleted appliances' entries go.
        self._entries = entries
        if valid != self._valid:
            # Entries compare by identity: here some spec changed, came
            # or went, and the order is worked out again.
            self._valid = valid
            self._order = sorted(valid, key=lambda a: (-valid[a].priority, a))
        return valid

    def order(self) -> list[str]:
        """The valid appliances of the latest :meth:`read`, highest
        priority first, then by id (a copy: the caller may change it)."""
        return self._order[:]

    def _validated(self, appliance_id: str, stamp: Any, spec: Any) -> Entry:
        self.validations += 1
        try:
            valid = appliance.validate(spec)
        except appliance.InvalidAppliance:
            return Entry(stamp, spec, None)
        members = appliance.instances(appliance_id, valid)
        return Entry(
            stamp,
            spec,
            valid,
            members,
            ownership.owner(valid),
            valid['priority'],
            valid['constraints'],
            [inst.key for inst in members],
            signature(valid['constraints']),
        )


def signature(constraints: dict[str, Any]) -> Any:
    """The allowed sites, regions and labels of ``constraints``, as a
    key (equal constraints, equal keys); None when they allow every
    site."""
    sites, regions = constraints.get('sites'), constraints.get('regions')
    labels = constraints.get('labels')
    if not (sites or regions or labels):
        return None
    return (
        tuple(sites or ()),
        tuple(regions or ()),
        tuple(sorted((labels or {}).items())),
    )
