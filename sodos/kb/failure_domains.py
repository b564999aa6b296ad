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

"""Regions as failure domains: where the voters sit, and what one
region's outage would take.

A site's failure domain is the region of its profile (published by the
site, ``[site_profile]region``, or set by an operator); a site without
one is a domain of its own, named after the site. Pure functions, used
by the leader's choice of voters and by every report of the federation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

from sodos.kb import shapes


def region_of(name: str, site: Mapping[str, Any]) -> str:
    """The failure domain of site ``name``: its region, else itself."""
    region = shapes.profile(site).get('region')
    return str(region) if region else name


def quorum_taker(regions: Iterable[str]) -> str | None:
    """The region whose outage alone would leave no quorum, if any.

    ``regions`` holds one entry per voter. With ``n`` voters a quorum is
    ``n // 2 + 1``: a region holding more than ``(n - 1) // 2`` of them
    takes it away (for an even ``n``, half is enough). Ties are broken
    by name, so the answer is the same at every member.
    """
    counts = Counter(regions)
    n = sum(counts.values())
    if not n:
        return None
    region, held = min(counts.items(), key=lambda item: (-item[1], item[0]))
    return region if held > (n - 1) // 2 else None


def summary(
    voter_sites: Iterable[str], sites: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """The ``failure_domains`` block of a federation report.

    ``voter_sites`` names the voting sites (an address stands for a
    voter the KB does not know); ``sites`` is the KB's sites section.
    """
    voter_regions: dict[str, list[str]] = {}
    for name in sorted(voter_sites):
        region = region_of(name, sites.get(name) or {})
        voter_regions.setdefault(region, []).append(name)
    regions = sorted(
        {
            region_of(name, site)
            for name, site in sites.items()
            if site.get('status') != 'left'
        }
    )
    voters = sum(len(v) for v in voter_regions.values())
    taker = quorum_taker(
        region for region, held in voter_regions.items() for _ in held
    )
    return {
        'voter_regions': dict(sorted(voter_regions.items())),
        'regions': len(regions),
        'majority_region': taker,
        'warning': _warning(voters, len(regions), taker),
    }


def _warning(voters: int, regions: int, taker: str | None) -> str | None:
    outage = (
        'an outage of region %s takes the quorum with it' % taker
        if taker
        else None
    )
    if voters > 1 and regions < voters:
        return '%d voters but only %d region(s): %s' % (
            voters,
            regions,
            outage or 'some region holds more than one voter',
        )
    # One region of one site and voter: nothing else could vote.
    if outage and regions > 1:
        return outage
    return None
