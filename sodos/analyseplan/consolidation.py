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

"""Consolidation: empty the site whose members fit on the sites already
on, where that saves most (cost and energy, with the carbon price),
so that it can be switched off."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from typing import Any

from sodos.analyseplan import fairness
from sodos.analyseplan import filters as filters_mod
from sodos.analyseplan import objective
from sodos.analyseplan.plan import Move
from sodos.analyseplan.plan import Unplaced
from sodos.analyseplan.view import SiteTable
from sodos.domain import appliance

# The planner's placing of a list of members (Planner._place).
Place = Callable[
    [
        SiteTable,
        list[tuple[appliance.Instance, str | None, str]],
        dict[str, filters_mod.Context],
        dict[str, set[str]],
        dict[str, set[int]],
    ],
    tuple[list[Move], list[Unplaced]],
]


def empty_one_site(
    table: SiteTable,
    kept_at: dict[int, list[appliance.Instance]],
    contexts: dict[str, filters_mod.Context],
    failed: dict[str, set[str]],
    carbon_price: float,
    moves: list[Move],
    place: Place,
) -> dict[str, Any] | None:
    """Empty the one site whose members fit elsewhere and whose
    emptying saves most; the moves are added to ``moves``."""
    if moves:
        return None  # settle the pending placements first
    best: tuple[float, int, list[Move], SiteTable, dict] | None = None
    for i in sorted(kept_at, key=lambda i: table.names[i]):
        members = kept_at[i]
        if not members or not table.usable[i]:
            continue
        trial = table.copy()
        trial.active[i] = False
        trial_ctx = {
            a: dataclasses.replace(c, sites_used=Counter(c.sites_used))
            for a, c in contexts.items()
        }
        todo = []
        for inst in sorted(members, key=lambda m: (-m.priority, m.key)):
            trial.release(i, inst.flavor)
            trial_ctx[inst.appliance_id].sites_used[i] -= 1
            owner = trial_ctx[inst.appliance_id].owner
            fairness.count(trial, None, i, owner, inst.flavor, -1)
            todo.append((inst, table.names[i], 'consolidation'))
        # Only onto sites that are on already: the point is to
        # switch this one off, not to power up another.
        banned = {
            inst.key: {
                j
                for j in range(len(table.names))
                if not table.active[j] or j == i
            }
            for inst in members
        }
        placed, unplaced = place(trial, todo, trial_ctx, failed, banned)
        if unplaced:
            continue
        saving = objective.site_cost(table.profiles[i], carbon_price)
        for move in placed:
            vcpus = table.need(move.flavor)
            j = table.index[move.site]
            saving += objective.server_cost(
                table.profiles[i], vcpus[i][0]
            ) - objective.server_cost(table.profiles[j], vcpus[j][0])
        if saving > 0 and (best is None or saving > best[0]):
            best = (saving, i, placed, trial, trial_ctx)
    if best is None:
        return None
    saving, i, placed, trial, trial_ctx = best
    table.used[:] = trial.used
    table.active[:] = trial.active
    table.sharing = trial.sharing
    contexts.update(trial_ctx)
    kept_at[i] = []
    moves.extend(placed)
    return {
        'site': table.names[i],
        'members': len(placed),
        'saving_per_hour': round(saving, 4),
    }
