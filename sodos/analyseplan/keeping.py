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
from sodos.analyseplan import filters as filters_mod
from sodos.analyseplan import specs
from sodos.analyseplan.view import RESOURCES
from sodos.analyseplan.view import SiteTable
from sodos.analyseplan.view import add
from sodos.analyseplan.view import finite
from sodos.analyseplan.view import utc
from sodos.domain import appliance

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


@dataclasses.dataclass(eq=False, slots=True)
class Sorted:
    """One appliance's members, as :func:`sort_appliance` sorts them."""

    entry: specs.Entry
    # Its context, with the sites its kept members use: not to be
    # changed (a plan changes a copy).
    context: filters_mod.Context
    # Its kept members, each with its site's index.
    kept: list[tuple[appliance.Instance, int]]
    # Its members that need a site, with where they were and why.
    todo: list[Todo]
    # The site and flavor of each kept member not built yet.
    building: list[tuple[int, str]]
    # Whether a member is placed to wait for its image.
    awaiting: bool


def sort_appliance(
    table: SiteTable,
    placements: dict[str, Any],
    failed: dict[str, set[str]],
    retries: failures.Retries,
    appliance_id: str,
    entry: specs.Entry,
    owner: str,
    stay: list[bool],
) -> Sorted:
    """Which members of the appliance (``entry``: its spec) stay where
    they are (:func:`must_move`, :func:`image_unreachable`) and which
    need a site; ``stay``: per site, whether its constraints let a
    member stay there (:func:`stays`).

    Every plan asks it of most members of the federation, most of them
    kept: a member placed at an up site its constraints allow, that
    neither failed anywhere nor waits for an image, is kept without
    asking why it would move (the answer is the same).
    """
    ctx = filters_mod.Context(
        appliance_id,
        entry.constraints,
        _counter(),
        _NONE,
        owner,
        entry.project,
    )
    out = Sorted(entry, ctx, [], [], [], False)
    index, servers, due = table.index, table.servers, retries.due
    used, kept = ctx.sites_used, out.kept
    for inst, key in zip(entry.members, entry.keys, strict=True):
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
                out.awaiting = out.awaiting or _awaiting(placed)
            if why is not None:
                out.todo.append((inst, site, why))
                continue
            i = index[site]
        used[i] = used.get(i, 0) + 1
        kept.append((inst, i))
        if key not in servers[i]:
            out.building.append((i, inst.flavor))
    return out


_NONE: frozenset[int] = frozenset()


def _counter() -> Counter[int]:
    # Counter() runs Python code (its __init__ and update), once per
    # appliance per plan; made by __new__ it is as empty, at C speed.
    return Counter.__new__(Counter)


def stays(
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


def _awaiting(placed: dict[str, Any]) -> bool:
    return bool((placed.get('info') or {}).get('awaiting_image'))


def image_unreachable(
    table: SiteTable,
    inst: appliance.Instance,
    placed: dict[str, Any],
    site: str,
) -> str | None:
    """A member placed to wait for its image, where no copy can bring it
    any more (the copy failed for good there, or no site holds it)."""
    if not _awaiting(placed):
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
