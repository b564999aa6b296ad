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

"""Fair share between the owners of a community cloud.

As SLURM's multifactor fair share: each owner is *entitled* to a share
of the federation (its contribution, the vCPUs of its sites, or the
weights the federation admin sets), and has a *usage*, vCPUs in use
averaged with an exponential decay of half-life ``h`` so that the past
counts less the older it is. Its fair-share factor is::

    F = 2 ** (-U / S)

with ``U`` its part of the federation's usage and ``S`` its part of the
entitlement: 1 for an owner that used nothing, 0.5 for one that used
exactly its share, towards 0 for one far above it (0 for an owner
entitled to nothing). Under contention the owner of highest factor is
served first.

Pure arithmetic: no clock (times come as arguments), no KB.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

# A week: usage of last week weighs half of today's.
DEFAULT_HALF_LIFE_S = 7 * 86400.0


def entitlements(
    contributions: Mapping[str, float],
    weights: Mapping[str, float | None] | None = None,
) -> dict[str, float]:
    """Each owner's part of the federation, summing to 1 (or all 0).

    With a weight set for any owner, the weights decide, an owner
    without one weighing 1; otherwise each owner's contribution.
    """
    chosen = {o: w for o, w in (weights or {}).items() if w is not None}
    if chosen:
        raw = {o: float(chosen.get(o, 1.0)) for o in contributions}
        raw.update((o, float(w)) for o, w in chosen.items())
    else:
        raw = {o: max(float(c), 0.0) for o, c in contributions.items()}
    return _normalised(raw)


def shares(usage: Mapping[str, float]) -> dict[str, float]:
    """Each owner's part of the total usage (all 0 when nothing is used)."""
    return _normalised({o: max(float(u), 0.0) for o, u in usage.items()})


def _normalised(values: Mapping[str, float]) -> dict[str, float]:
    total = math.fsum(values.values())
    if total <= 0:
        return {o: 0.0 for o in values}
    return {o: v / total for o, v in values.items()}


def decayed(
    mean: float, since: float, now: float, current: float, half_life: float
) -> float:
    """The decayed mean usage at ``now``, from ``mean`` at ``since`` and
    ``current`` in use all the time between: the old mean weighs
    ``2 ** (-(now - since) / half_life)``, the current usage the rest.

    A clock going back counts as no time passed.
    """
    if half_life <= 0:
        raise ValueError('half_life must be positive, got %r' % half_life)
    kept = 2.0 ** (-max(now - since, 0.0) / half_life)
    return mean * kept + current * (1.0 - kept)


def factor(entitled: float, used: float) -> float:
    """The fair-share factor of an owner entitled to ``entitled`` of the
    federation that uses ``used`` of it (both parts of 1)."""
    if entitled <= 0:
        return 0.0
    return 2.0 ** (-used / entitled)


def factors(
    entitled: Mapping[str, float], usage: Mapping[str, float]
) -> dict[str, float]:
    """The factor of every owner of ``entitled`` given absolute
    ``usage`` (an owner missing there used nothing)."""
    parts = shares({o: usage.get(o, 0.0) for o in entitled})
    return {o: factor(entitled[o], parts[o]) for o in entitled}
