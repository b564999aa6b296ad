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

"""Accounting: what each owner and project used, per site and hour.

Usage is sampled: at each sample the members running now (one line per
member, at the site its placement names) are taken to have run since the
previous sample, at most ``max_gap`` seconds back (a sampler that was
stopped for an hour does not bill the hour it did not see). The time is
cut at the hours it spans, so that each hour's row holds what ran in that
hour. Per ``(hour, site, owner, project)`` it adds:

- ``vcpu_hours``: vCPUs of the member's flavor times hours run;
- ``ram_gb_hours``: its RAM in GB (1024 MB) times hours;
- ``member_hours``: hours run, one per member.

Pure arithmetic: times come as arguments (seconds since the epoch).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

HOUR = 3600.0
METRICS = ('vcpu_hours', 'ram_gb_hours', 'member_hours')
# What a usage row is keyed by, the hour first.
Key = tuple[float, str, str, str]  # (hour start, site, owner, project)


@dataclasses.dataclass(frozen=True)
class Running:
    """One member running at one site, sized by its flavor."""

    site: str
    owner: str
    project: str
    vcpus: float
    ram_mb: float


def hour_of(t: float) -> float:
    """The start of the hour ``t`` is in."""
    return math.floor(t / HOUR) * HOUR


def spans(start: float, end: float) -> list[tuple[float, float]]:
    """``(hour start, seconds)`` of the time from ``start`` to ``end``
    in each hour it crosses; nothing when ``end`` is not after ``start``."""
    out = []
    t = start
    while t < end:
        hour = hour_of(t)
        upto = min(end, hour + HOUR)
        out.append((hour, upto - t))
        t = upto
    return out


def accrue(
    members: Iterable[Running],
    since: float | None,
    now: float,
    max_gap: float,
) -> dict[Key, dict[str, float]]:
    """What ``members``, running at ``now``, used since the sample at
    ``since`` (None: the first sample, nothing yet), counted at most
    ``max_gap`` seconds back.

    :raises ValueError: ``max_gap`` is not positive.
    """
    if max_gap <= 0:
        raise ValueError('max_gap must be positive, got %r' % max_gap)
    if since is None:
        return {}
    start = max(since, now - max_gap)
    out: dict[Key, dict[str, float]] = {}
    cut = spans(start, now)
    for member in members:
        for hour, seconds in cut:
            hours = seconds / HOUR
            row = out.setdefault(
                (hour, member.site, member.owner, member.project),
                dict.fromkeys(METRICS, 0.0),
            )
            row['vcpu_hours'] += member.vcpus * hours
            row['ram_gb_hours'] += member.ram_mb / 1024.0 * hours
            row['member_hours'] += hours
    return out


def totals(
    rows: Iterable[Mapping[str, Any]], by: Iterable[str]
) -> list[dict[str, Any]]:
    """Usage rows summed per value of the fields ``by`` (e.g.
    ``('owner',)``, ``('owner', 'project', 'site')``), sorted by them."""
    fields = tuple(by)
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        group = tuple(row[f] for f in fields)
        entry = out.get(group)
        if entry is None:
            entry = dict(zip(fields, group, strict=True))
            entry.update(dict.fromkeys(METRICS, 0.0))
            out[group] = entry
        for metric in METRICS:
            entry[metric] += float(row[metric])
    found = []
    for group in sorted(out, key=lambda g: tuple(str(v) for v in g)):
        entry = out[group]
        entry.update({m: round(entry[m], 6) for m in METRICS})
        found.append(entry)
    return found
