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

"""Which placements a plan keeps, and which must move.

A member stays where it is while its site is up, not draining, still
allowed by its appliance's constraints, holds its image, and is not where
its server failed for good (for ``[analyseplan]failed_site_retry_after``
seconds: then it is placed again, and may be built there anew); an
overloaded site gives up the fewest members that bring it under the
target. What the planner leaves of each site's capacity is reported with
the plan.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any

from sodos.analyseplan import failures
from sodos.analyseplan import fairness
from sodos.analyseplan import filters as filters_mod
from sodos.analyseplan import specs
from sodos.analyseplan.view import RESOURCES
from sodos.analyseplan.view import SiteTable
from sodos.analyseplan.view import add
from sodos.analyseplan.view import finite
from sodos.analyseplan.view import utc
from sodos.domain import appliance
from sodos.domain import community

Todo = tuple[appliance.Instance, str | None, str]


@dataclasses.dataclass
class Members:
    """Every member of every valid appliance, kept or to place."""

    # Appliance id -> its context, with the sites its kept members use.
    contexts: dict[str, filters_mod.Context]
    # The members that need a site, with where they were and why.
    todo: list[Todo]
    # Site index -> the members kept there.
    kept_at: dict[int, list[appliance.Instance]]
    # The key of every member a spec asks for.
    wanted: set[str]
    # (site, flavor) -> members kept there but not built yet.
    building: Counter[tuple[int, str]]


def sort_members(
    table: SiteTable,
    placements: dict[str, Any],
    failed: dict[str, set[str]],
    validated: dict[str, specs.Entry],
    order: list[str],
    identity: dict[str, Any],
    fair: fairness.FairShare | None,
    retries: failures.Retries = failures.NO_RETRIES,
) -> Members:
    """Which members stay where they are (:func:`must_move`,
    :func:`image_unreachable`) and which need a site, appliances in
    ``order``.

    Every cycle walks every member of the federation, most of them
    kept: a member placed at an up site its constraints allow, that
    neither failed anywhere nor waits for an image, is kept without
    asking why it would move (the answer is the same), and the sites
    a set of constraints allows are worked out once per plan.
    """
    out = Members({}, [], {}, set(), Counter())
    index, servers, sharing = table.index, table.servers, table.sharing
    contexts, kept_at, building = out.contexts, out.kept_at, out.building
    want, pending = out.wanted.add, out.todo.append
    # Constraints' signature -> per site, whether a member may stay.
    stays: dict[Any, list[bool]] = {}
    due = retries.due
    # Project -> its owner: appliances of a project share one.
    owners: dict[str | None, str] = {}
    for appliance_id in order:
        entry = validated[appliance_id]
        project, constraints = entry.project, entry.constraints
        owner = owners.get(project)
        if owner is None:
            owner = owners[project] = community.project_owner(
                identity, project
            )
        ctx = contexts[appliance_id] = filters_mod.Context(
            appliance_id, constraints, _counter(), _NONE, owner, project
        )
        used = ctx.sites_used
        stay = _stays(table, constraints, entry.signature, stays)
        for inst, key in zip(entry.members, entry.keys, strict=True):
            want(key)
            placed = placements.get(key) or {}
            site = placed['site'] if placed else None
            i = index.get(site) if site is not None else None
            if (
                i is None
                or not stay[i]
                or key in failed
                or key in due
                or (placed.get('info') or {}).get('awaiting_image')
            ):
                why = must_move(table, ctx, inst, site, failed, retries)
                if why is None and site is not None:
                    why = image_unreachable(table, inst, placed, site)
                if why is not None:
                    pending((inst, site, why))
                    continue
                i = index[site]
            used[i] = used.get(i, 0) + 1
            if i in kept_at:
                kept_at[i].append(inst)
            else:
                kept_at[i] = [inst]
            if sharing is not None:
                fairness.count(table, fair, i, ctx.owner, inst.flavor, 1)
            if key not in servers[i]:
                building[i, inst.flavor] += 1
    return out


_NONE: frozenset[int] = frozenset()


def _counter() -> Counter[int]:
    # Counter() runs Python code (its __init__ and update), once per
    # appliance per plan; made by __new__ it is as empty, at C speed.
    return Counter.__new__(Counter)


def _stays(
    table: SiteTable,
    constraints: dict[str, Any],
    signature: Any,
    memo: dict[Any, list[bool]],
) -> list[bool]:
    """Per site: up and allowed by ``constraints``' sites, regions and
    labels (what :func:`must_move` asks of a kept member's site);
    ``signature``: theirs (:func:`specs.signature`)."""
    if signature is None:
        return table.usable
    found = memo.get(signature)
    if found is None:
        found = memo[signature] = [
            table.usable[i]
            and appliance.allows(constraints, name, table.profiles[i])
            for i, name in enumerate(table.names)
        ]
    return found


def must_move(
    table: SiteTable,
    ctx: filters_mod.Context,
    inst: appliance.Instance,
    site: str | None,
    failed: dict[str, set[str]],
    retries: failures.Retries = failures.NO_RETRIES,
) -> str | None:
    """Why the member cannot stay where it is; None if it can."""
    if site is None:
        return 'new'
    i = table.index.get(site)
    if i is None:
        return 'site %s left' % site
    if not table.usable[i]:
        return 'site %s: %s' % (site, table.status[i])
    if site in failed.get(inst.key, ()):
        return 'its server failed at %s' % site
    if inst.key in retries.due:
        # Its time off is over: placed again, it is built anew.
        return 'its server failed at %s at %s: tried again' % (
            site,
            utc(retries.due[inst.key]),
        )
    if not appliance.allows(ctx.constraints, site, table.profiles[i]):
        return 'site %s no longer allowed by the constraints' % site
    return None


def image_unreachable(
    table: SiteTable,
    inst: appliance.Instance,
    placed: dict[str, Any],
    site: str,
) -> str | None:
    """A member placed to wait for its image, where no copy can bring it
    any more (the copy failed for good there, or no site holds it)."""
    if not (placed.get('info') or {}).get('awaiting_image'):
        return None
    if table.image_ok(table.index[site], inst.image):
        return None
    return 'image %s cannot reach site %s' % (inst.image, site)


def evictions(
    table: SiteTable,
    i: int,
    members: list[appliance.Instance],
    target: float,
) -> list[appliance.Instance]:
    """Members to move off overloaded site ``i``, lowest priority first,
    until every resource is at most ``target`` of its total.

    Servers still there whose member is placed elsewhere (a move not
    cleaned up yet) are about to go: they do not count.
    """
    used = table.used[i]
    placed_here = {inst.key for inst in members}
    for key in table.servers[i]:
        if key not in placed_here and '/' in key:
            flavor = table.flavor_of.get(key)
            if flavor:
                used = minus(used, finite(table.need(flavor)[i]))
    limit = [total * target for total in table.total[i]]
    out = []
    for inst in sorted(members, key=lambda m: (m.priority, m.key)):
        if all(u <= lim for u, lim in zip(used, limit, strict=True)):
            break
        used = minus(used, finite(table.need(inst.flavor)[i]))
        out.append(inst)
    return out


def leaving(
    table: SiteTable,
    i: int,
    placements: dict[str, Any],
    flavors: dict[str, str],
) -> list[float]:
    """The room servers leaving site ``i`` will free: those of members
    placed elsewhere (a move not cleaned up yet) or nowhere (removed);
    ``flavors``: member key -> its flavor."""
    name, freed = table.names[i], [0.0, 0.0, 0.0]
    for key in sorted(table.servers[i]):
        placed, flavor = placements.get(key), flavors.get(key)
        if '/' in key and flavor and (not placed or placed['site'] != name):
            freed = add(freed, finite(table.need(flavor)[i]))
    return freed


def minus(row: list[float], other: list[float]) -> list[float]:
    return [a - b for a, b in zip(row, other, strict=True)]


def capacity_left(table: SiteTable) -> dict[str, dict[str, float]]:
    free = table.free()
    return {
        name: {res: free[i][j] for j, res in enumerate(RESOURCES)}
        for i, name in enumerate(table.names)
        if table.usable[i]
    }
