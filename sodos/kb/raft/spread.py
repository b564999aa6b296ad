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

"""Which voters to keep: spread over regions first, then sites.

Voters chosen by join order can all sit in one region, and that
region's outage then takes the quorum: the opposite of what a
federation without a single point of failure needs. The voter set is
scored, in this order:

(a) no region holds enough voters to take the quorum with it, or, while
    one does, it holds as few as possible;
(b) as many regions as possible hold a voter;
(c) the voters are spread as evenly as possible (used to pick an add or
    a removal the voter count calls for, never alone a reason to swap).

The current set is kept unless a swap improves (a) or (b): no churn for
nothing. A swap is an add, then (next cycle, once the add committed) a
removal, so the count never falls below the wanted one on the way and
every step is one single-server change. The leader is never the one
removed. Ties go to the order of the candidates (the caller's: oldest
member first) and of the voters (by key).

Pure functions over keys (the Raft addresses) and regions.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping
from collections.abc import Sequence

from sodos.kb import failure_domains


@dataclasses.dataclass(frozen=True)
class Change:
    # 'add' or 'remove'
    kind: str
    key: str
    why: str


def score(regions: Sequence[str]) -> tuple[int, int, int]:
    """How well one voter per entry of ``regions`` is spread; higher is
    better: (a), (b), (c) of the module's docstring."""
    counts = Counter(regions)
    if not counts:
        return (0, 0, 0)
    most = max(counts.values())
    taken = failure_domains.quorum_taker(regions) is not None
    # While a region takes the quorum, each voter fewer there is a step
    # towards not taking it (no region ever holds more than all).
    safety = -most if taken else 1
    return (safety, len(counts), -most)


def _swap_score(regions: Sequence[str]) -> tuple[int, int]:
    return score(regions)[:2]


def _regions(voters: Mapping[str, str], *skip: str) -> list[str]:
    return [r for k, r in sorted(voters.items()) if k not in skip]


def best_add(
    voters: Mapping[str, str], candidates: Sequence[tuple[str, str]]
) -> tuple[str, str] | None:
    """The candidate (key, region) that spreads ``voters`` best."""
    if not candidates:
        return None
    base = _regions(voters)
    # max() keeps the first of equals: the caller's order breaks ties.
    return max(candidates, key=lambda c: score(base + [c[1]]))


def best_remove(voters: Mapping[str, str], leader: str) -> str | None:
    """The voter whose removal leaves the best spread; never the leader.
    Ties go to the first key in order."""
    keys = sorted(k for k in voters if k != leader)
    if not keys:
        return None
    return max(keys, key=lambda k: score(_regions(voters, k)))


def next_change(
    voters: Mapping[str, str],
    candidates: Sequence[tuple[str, str]],
    wanted: int,
    leader: str,
) -> Change | None:
    """The one change that moves the voters towards the wanted count,
    spread over regions; None if the set is as good as it gets.

    ``voters`` maps each voter's key to its region; ``candidates`` are
    the members that may vote now (up, heard of, caught up, not
    leaving), as (key, region), in the caller's order of preference.
    """
    if len(voters) < wanted:
        found = best_add(voters, candidates)
        if found is None:
            return None
        return Change(
            'add',
            found[0],
            _add_reason(
                voters,
                found[1],
                '%d voters of %d wanted' % (len(voters), wanted),
            ),
        )
    if len(voters) > wanted:
        key = best_remove(voters, leader)
        if key is None:
            return None
        return Change(
            'remove', key, _remove_reason(voters, key, len(voters), wanted)
        )
    return _swap(voters, candidates, leader)


def _swap(
    voters: Mapping[str, str],
    candidates: Sequence[tuple[str, str]],
    leader: str,
) -> Change | None:
    now = _swap_score(_regions(voters))
    best: tuple[tuple[int, int, int], tuple[str, str]] | None = None
    for key, region in candidates:
        # Removing the leader is never part of a swap, so the add is
        # judged against the best removal that may follow it.
        after = dict(voters)
        after[key] = region
        out = best_remove(after, leader)
        if out is None or out == key:
            continue
        found = score(_regions(after, out))
        if found[:2] > now and (best is None or found > best[0]):
            best = (found, (key, region))
    if best is None:
        return None
    key, region = best[1]
    return Change('add', key, _add_reason(voters, region, None))


def _add_reason(
    voters: Mapping[str, str], region: str, count: str | None
) -> str:
    """Why a member in ``region`` is promoted; ``count``: the count
    that calls for it, None for a swap."""
    counts = Counter(voters.values())
    held = counts.get(region, 0)
    if not held:
        why = 'region %s holds no voter' % region
    else:
        why = 'region %s holds %d voter(s), the fewest' % (region, held)
    if count is None:
        taker = failure_domains.quorum_taker(list(voters.values()))
        if taker:
            why += '; region %s holds %d of %d voters' % (
                taker,
                counts[taker],
                len(voters),
            )
        return why + ' (then one voter steps down)'
    return '%s; %s' % (why, count)


def _remove_reason(
    voters: Mapping[str, str], key: str, have: int, wanted: int
) -> str:
    region = voters[key]
    held = Counter(voters.values())[region]
    return '%d voters of %d wanted; region %s holds %d' % (
        have,
        wanted,
        region,
        held,
    )
