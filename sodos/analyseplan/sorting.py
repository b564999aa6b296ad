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

"""Every member sorted into kept and to place, sorted again from one
plan to the next only where what decides it changed.

After a regional outage the members of the sites down move and every
other one stays: sorting all 20,000 members again cost more than
placing the 2,000 that move. A :class:`Sorter` lives as long as the
planning member's spec cache (:mod:`specs`) and keeps each appliance's
answer (:func:`keeping.sort_appliance`); a plan sorts again only the
appliances whose answer may differ:

- its spec changed, came or went (the spec cache's entries, compared
  by identity), or a member's placement, failures (:mod:`failures`) or
  server (built or gone) changed;
- a site one of its members is placed at changed status, or whether
  its constraints allow that site (labels, region);
- images changed while one of its members waits for its image;
- the last plan was given its context to change (it had members to
  place; an appliance with none shares its context from plan to plan,
  and a plan that would change one changes a copy: ``Context.copy``);

and every appliance when the sites (their names) or the owners (the
identity section) changed, or when most appliances changed. What changed
is found by comparing the read with the last one, a section at a time at
C speed, and the placements one by one only when they differ. Like the
spec cache, it takes a read not to be changed in place once planned
from (a changed placement is a new record, as in every KB read). It
holds the answers for the latest read's appliances, nothing more.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import Counter
from collections.abc import Iterable
from typing import Any

from sodos.analyseplan import failures
from sodos.analyseplan import fairness
from sodos.analyseplan import filters as filters_mod
from sodos.analyseplan import keeping
from sodos.analyseplan import specs
from sodos.analyseplan.view import SiteTable
from sodos.domain import appliance
from sodos.domain import community


@dataclasses.dataclass
class _Read:
    """What the last plan sorted its members from."""

    names: list[str]
    status: list[str]
    images: list[frozenset[str]]
    copyable: dict[str, Any]
    placements: dict[str, Any]  # a copy of the dict, not of the records
    failed: failures.Failed
    due: dict[str, float]
    validated: dict[str, specs.Entry]
    identity: dict[str, Any]


class Sorter:
    def __init__(self, most: float = 0.5) -> None:
        self.most = most  # above this share changed, all sorted anew
        self._read: _Read | None = None
        # Appliances sorted since this sorter was made (for tests).
        self.sorted = 0
        self._forget_all([])

    def _forget_all(self, servers: list[dict[str, Any]]) -> None:
        self._sorted: dict[str, keeping.Sorted] = {}
        # Site index -> the members kept there; (site, flavor) -> how
        # many of them are not built yet; the key of every member.
        self._kept_at: dict[int, list[appliance.Instance]] = {}
        self._building: Counter[tuple[int, str]] = Counter()
        self._wanted: set[str] = set()
        # Appliances with a member waiting for its image; to place.
        self._awaiting: set[str] = set()
        self._pending: set[str] = set()
        # Appliance id -> its context as sorted (in the planning order).
        self._contexts: dict[str, filters_mod.Context] = {}
        # Constraints' signature -> its constraints, and per site whether
        # they let a member stay (keeping.stays), for those in use.
        self._constraints: dict[Any, dict[str, Any]] = {}
        self._stays: dict[Any, list[bool]] = {}
        # Per site, the keys of the servers it reported; owners.
        self._servers = [frozenset(found) for found in servers]
        self._owners: dict[str | None, str] = {}

    def sort(
        self,
        table: SiteTable,
        placements: dict[str, Any],
        failed: failures.Failed,
        retries: failures.Retries,
        validated: dict[str, specs.Entry],
        order: list[str],
        identity: dict[str, Any],
        fair: fairness.FairShare | None,
    ) -> keeping.Members:
        """Which members stay and which need a site, appliances in
        ``order`` (``validated``'s, highest priority first)."""
        stays: dict[Any, list[bool]] = {}
        read = self._read
        dirty: list[str] | None = None
        if (
            read is not None
            and read.names == table.names
            and read.identity == identity
        ):
            dirty = self._dirty(
                read, table, placements, failed, retries, validated, stays
            )
        if dirty is None or len(dirty) > self.most * len(validated):
            # From nothing, in order: also when most changed (a large
            # plan carried out), cheaper than comparing each answer.
            self._forget_all(table.servers)
            dirty = order
            read = None
        if read is None or read.validated != validated:
            self._wanted = set(
                itertools.chain.from_iterable(
                    e.keys for e in validated.values()
                )
            )
            self._prune(validated)
        self._sort(
            dirty, table, placements, failed, retries, validated, identity
        )
        if list(self._contexts) != order:
            self._contexts = {a: self._sorted[a].context for a in order}
        self._read = _Read(
            table.names,
            table.status,
            table.images,
            table.copyable,
            dict(placements),
            failed,
            retries.due,
            validated,
            identity,
        )
        return self._members(table, order, fair)

    def _dirty(
        self,
        read: _Read,
        table: SiteTable,
        placements: dict[str, Any],
        failed: failures.Failed,
        retries: failures.Retries,
        validated: dict[str, specs.Entry],
        stays: dict[Any, list[bool]],
    ) -> list[str]:
        """The appliances to sort again, in id order."""
        sites: set[int] = set()
        found = self._changed(read, table, placements, failed, retries, sites)
        # The last plan changed their contexts.
        found |= self._pending
        old = read.validated
        if old != validated:
            # Specs that changed, came or went (entries by identity).
            found.update(
                a for a, e in validated.items() if old.get(a) is not e
            )
            found.update(old.keys() - validated.keys())
        self._restays(table, stays, sites)
        if sites:
            # The appliances with a member placed at those sites.
            names = {table.names[i] for i in sites}
            found.update(
                p['appliance_id']
                for p in placements.values()
                if p.get('site') in names
            )
        return sorted(found)

    def _changed(
        self,
        read: _Read,
        table: SiteTable,
        placements: dict[str, Any],
        failed: failures.Failed,
        retries: failures.Retries,
        sites: set[int],
    ) -> set[str]:
        """The appliances whose placements, failures or servers changed
        since ``read``; the sites whose status changed are added to
        ``sites``."""
        keys: list[str] = []
        if placements != read.placements:
            old = read.placements
            get = old.get
            keys += [
                k
                for k, v in placements.items()
                if (was := get(k)) is not v and was != v
            ]
            keys += old.keys() - placements.keys()
        for mine, theirs in ((failed, read.failed), (retries.due, read.due)):
            if mine != theirs:
                keys += [
                    k
                    for k in mine.keys() | theirs.keys()
                    if mine.get(k) != theirs.get(k)
                ]
        for i, servers in enumerate(table.servers):
            if servers.keys() != self._servers[i]:
                keys += servers.keys() ^ self._servers[i]
                self._servers[i] = frozenset(servers)
        out = {key.partition('/')[0] for key in keys}
        sites.update(
            i
            for i, status in enumerate(table.status)
            if status != read.status[i]
        )
        if table.images != read.images or table.copyable != read.copyable:
            out |= self._awaiting
        return out

    def _restays(
        self, table: SiteTable, stays: dict[Any, list[bool]], sites: set[int]
    ) -> None:
        """Add to ``sites`` those where some constraints' answer changed
        (``stays``: this plan's answers, filled)."""
        for signature, constraints in self._constraints.items():
            now = keeping.stays(table, constraints, signature, stays)
            before = self._stays[signature]
            if now != before:
                sites.update(
                    i
                    for i, (a, b) in enumerate(zip(now, before, strict=True))
                    if a != b
                )
        self._stays = stays

    def _prune(self, validated: dict[str, specs.Entry]) -> None:
        """Forget the constraints no appliance has any more."""
        used = {e.signature for e in validated.values()}
        for signature in self._constraints.keys() - used:
            del self._constraints[signature]
            self._stays.pop(signature, None)

    def _sort(
        self,
        dirty: Iterable[str],
        table: SiteTable,
        placements: dict[str, Any],
        failed: failures.Failed,
        retries: failures.Retries,
        validated: dict[str, specs.Entry],
        identity: dict[str, Any],
    ) -> None:
        """Sort the members of the ``dirty`` appliances again."""
        added: dict[int, list[appliance.Instance]] = {}
        dropped: dict[int, set[int]] = {}
        owners, stays = self._owners, self._stays
        for appliance_id in dirty:
            old = self._sorted.pop(appliance_id, None)
            entry = validated.get(appliance_id)
            found = None
            if entry is not None:
                owner = owners.get(entry.project)
                if owner is None:
                    owner = owners[entry.project] = community.project_owner(
                        identity, entry.project
                    )
                if entry.signature is not None:
                    self._constraints[entry.signature] = entry.constraints
                stay = keeping.stays(
                    table, entry.constraints, entry.signature, stays
                )
                found = self._sorted[appliance_id] = keeping.sort_appliance(
                    table,
                    placements,
                    failed,
                    retries,
                    appliance_id,
                    entry,
                    owner,
                    stay,
                )
                self.sorted += 1
            self._swap(appliance_id, old, found, added, dropped)
        for i, ids in dropped.items():
            self._kept_at[i] = [
                m for m in self._kept_at[i] if id(m) not in ids
            ]
        for i, members in added.items():
            self._kept_at.setdefault(i, []).extend(members)

    def _swap(
        self,
        appliance_id: str,
        old: keeping.Sorted | None,
        new: keeping.Sorted | None,
        added: dict[int, list[appliance.Instance]],
        dropped: dict[int, set[int]],
    ) -> None:
        """Count ``new`` (None: the appliance is gone) where ``old`` was
        counted; the kept members that come and go are noted in
        ``added`` and ``dropped``."""
        if old is None:
            # Sorted from nothing: every member kept is new there.
            for m, i in new.kept if new else ():
                if i in added:
                    added[i].append(m)
                else:
                    added[i] = [m]
        else:
            self._moved(old, new, added, dropped)
        building = self._building
        for slot in old.building if old else ():
            building[slot] -= 1
            if not building[slot]:
                del building[slot]
        for slot in new.building if new else ():
            building[slot] = building.get(slot, 0) + 1
        if old is not None:
            self._awaiting.discard(appliance_id)
            self._pending.discard(appliance_id)
        if new is not None and new.awaiting:
            self._awaiting.add(appliance_id)
        if new is not None and new.todo:
            self._pending.add(appliance_id)
        if new is None:
            self._contexts.pop(appliance_id, None)
        else:
            self._contexts[appliance_id] = new.context

    def _moved(
        self,
        old: keeping.Sorted,
        new: keeping.Sorted | None,
        added: dict[int, list[appliance.Instance]],
        dropped: dict[int, set[int]],
    ) -> None:
        """Note the kept members of ``new`` that were not kept at the
        same site in ``old`` (``added``), and those of ``old`` no longer
        kept there (``dropped``, by id)."""
        # The lists hold these very members: compared by identity.
        before = {id(m): (m, i) for m, i in old.kept}
        for m, i in new.kept if new else ():
            found = before.pop(id(m), None)
            if found is not None and found[1] == i:
                continue  # kept where it was
            added.setdefault(i, []).append(m)
            if found is not None:
                before[id(m)] = found
        for m, i in before.values():
            dropped.setdefault(i, set()).add(id(m))

    def _members(
        self,
        table: SiteTable,
        order: list[str],
        fair: fairness.FairShare | None,
    ) -> keeping.Members:
        """This plan's answers, appliances in ``order``.

        The plan changes the lists of kept members (its own copies) and
        the contexts of the appliances it places: those it is given, and
        they are sorted again at the next plan. An appliance with nothing
        to place keeps its context as sorted, shared from plan to plan:
        a plan that would change one (an eviction, a trial placing)
        changes a copy (Context.copy).
        """
        contexts = dict(self._contexts)
        todo: list[keeping.Todo] = []
        pending = self._pending
        for appliance_id in [a for a in order if a in pending]:
            todo += self._sorted[appliance_id].todo
        if table.sharing is not None:
            for appliance_id in order:
                one = self._sorted[appliance_id]
                owner = one.context.owner
                for inst, i in one.kept:
                    fairness.count(table, fair, i, owner, inst.flavor, 1)
        return keeping.Members(
            contexts,
            todo,
            {i: members[:] for i, members in self._kept_at.items() if members},
            set(self._wanted),
            Counter(self._building),
        )
