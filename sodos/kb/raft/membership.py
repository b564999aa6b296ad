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

"""Keeping the voter set: which member votes, decided by the leader.

The federation keeps a bounded set of voters (policy ``voter_count``) and
lets every other site replicate without voting. The controller runs beside
the Raft leader only. Each cycle it decides at most one membership change
(:func:`decide`, pure, so it is tested on hand-made views), and carries it
out under a replicated lock, waiting for each step to commit before the
next: pysyncobj does not serialise membership changes itself
(doc/source/contributor/design-notes.rst,
"One membership change at a time"). Which members vote is spread over
regions (:mod:`sodos.kb.raft.spread`), so that no region's outage takes
the quorum when the federation has the regions to avoid it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sodos.kb import failure_domains
from sodos.kb.raft import spread


@dataclasses.dataclass(frozen=True)
class View:
    """What the leader knows when it decides."""

    leader: str
    # Raft voters, as the leader's SyncObj has them (addresses).
    voters: frozenset[str]
    # Voters with a live Raft connection to the leader.
    connected: frozenset[str]
    # Seconds each voter address has been disconnected, where it is.
    disconnected_for: dict[str, float]
    # The KB's sites section.
    sites: dict[str, dict[str, Any]]
    # Seconds since each site was last heard of by this leader.
    heard: dict[str, float]
    # How far each site's applied index trails the leader's commit index.
    lag: dict[str, int]
    voter_count: int
    replace_after: float
    alive_within: float
    max_lag: int = 1000
    # Voters (addresses) connected but stuck: they apply nothing of the
    # leader's log (heartbeat.STALLED_AFTER), so they count for nothing.
    stalled: frozenset[str] = frozenset()
    # Sites whose promotion failed lately: tried after the others, so one
    # candidate that cannot take part does not hold the voter set back.
    avoid: frozenset[str] = frozenset()


@dataclasses.dataclass(frozen=True)
class Decision:
    # 'record' (write the truth into the KB), 'remove', 'add' or 'transfer'
    kind: str
    site: str
    address: str
    why: str


def sites_by_address(sites: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Which site each address belongs to.

    A site that left may have handed its address on: a member that has
    not left wins, then the first name in order.
    """
    found: dict[str, str] = {}
    for name in sorted(
        sites, key=lambda n: (sites[n].get('status') == 'left', n)
    ):
        found.setdefault(sites[name].get('address', ''), name)
    return found


def _site_of(view: View, address: str) -> str | None:
    return sites_by_address(view.sites).get(address)


def decide(view: View) -> Decision | None:
    """The one membership change to make now, or None."""
    return (
        _record_roles(view)
        or _remove_left(view)
        or _replace_lost(view)
        or _shrink(view)
        or _grow_or_spread(view)
    )


def _record_roles(view: View) -> Decision | None:
    for name in sorted(view.sites):
        site = view.sites[name]
        is_voter = site.get('address') in view.voters
        if site.get('status') == 'left' and not is_voter:
            if site.get('role') == 'voter':
                return Decision('record', name, site['address'], 'it left')
            continue
        if is_voter != (site.get('role') == 'voter'):
            why = 'it votes' if is_voter else 'it no longer votes'
            return Decision('record', name, site['address'], why)
    return None


def _remove_left(view: View) -> Decision | None:
    for address in sorted(view.voters):
        name = _site_of(view, address)
        if name is None or view.sites[name].get('status') != 'left':
            continue
        if address == view.leader:
            return Decision('transfer', name, address, 'the leader is leaving')
        return Decision('remove', name, address, 'it is leaving')
    return None


def _has_quorum_without(view: View, address: str) -> bool:
    alive = len(view.connected - view.stalled - {address}) + 1  # + leader
    return alive > (len(view.voters) - 1) / 2


def _replace_lost(view: View) -> Decision | None:
    for address in sorted(view.stalled & view.voters - {view.leader}):
        if not _has_quorum_without(view, address):
            return None
        name = _site_of(view, address) or address
        return Decision(
            'remove', name, address, 'stuck: it applies nothing it is sent'
        )
    for address in sorted(view.voters - view.connected - {view.leader}):
        lost = view.disconnected_for.get(address, 0.0)
        if lost < view.replace_after:
            continue
        # Remove before add: with the dead voter still counted, an add
        # can block every write ("Remove before add" in
        # doc/source/contributor/design-notes.rst). And never
        # change anything without a quorum of the new configuration.
        if not _has_quorum_without(view, address):
            return None
        name = _site_of(view, address) or address
        return Decision(
            'remove', name, address, 'unreachable for %.0f s' % lost
        )
    return None


def _candidates(view: View) -> list[str]:
    found = []
    for name in sorted(
        view.sites,
        key=lambda n: (n in view.avoid, view.sites[n].get('joined_at', 0), n),
    ):
        site = view.sites[name]
        if site.get('status') != 'up' or site.get('address') in view.voters:
            continue
        if view.heard.get(name, float('inf')) > view.alive_within:
            continue
        if view.lag.get(name, view.max_lag + 1) > view.max_lag:
            continue
        found.append(name)
    return found


def _region(view: View, address: str) -> str:
    name = _site_of(view, address)
    if name is None:
        return address
    return failure_domains.region_of(name, view.sites[name])


def _voter_regions(view: View) -> dict[str, str]:
    return {a: _region(view, a) for a in view.voters}


def _as_decision(view: View, change: spread.Change | None) -> Decision | None:
    if change is None:
        return None
    return Decision(
        change.kind,
        _site_of(view, change.key) or change.key,
        change.key,
        change.why,
    )


def _spread_candidates(view: View) -> list[tuple[str, str]]:
    """The candidates as (address, region), oldest first.

    A swap is no emergency: a member whose promotion failed lately is
    left out of it, or its every failure would be a change of the voters
    undone again, twice a second.
    """
    complete = len(view.voters) >= view.voter_count
    found = []
    for name in _candidates(view):
        if complete and name in view.avoid:
            continue
        address = view.sites[name]['address']
        region = failure_domains.region_of(name, view.sites[name])
        found.append((address, region))
    return found


def _all_voters_there(view: View) -> bool:
    """Every voter connected and applying: a new configuration that
    counts a dead voter can lose its quorum."""
    missing = view.voters - view.connected - {view.leader}
    return not missing and not (view.stalled & view.voters)


def _grow_or_spread(view: View) -> Decision | None:
    """Promote up to the wanted count, or swap a voter for a member of
    a region that needs one: the add now, the removal (:func:`_shrink`)
    once the add committed, so the count never falls short meanwhile."""
    if len(view.voters) > view.voter_count or not _all_voters_there(view):
        return None
    return _as_decision(
        view,
        spread.next_change(
            _voter_regions(view),
            _spread_candidates(view),
            view.voter_count,
            view.leader,
        ),
    )


def _shrink(view: View) -> Decision | None:
    if len(view.voters) <= view.voter_count:
        return None
    # A voter that is not connected goes first: it counts for nothing.
    for address in sorted(view.voters - view.connected - {view.leader}):
        return Decision(
            'remove',
            _site_of(view, address) or address,
            address,
            '%d voters of %d wanted; it is not connected'
            % (len(view.voters), view.voter_count),
        )
    return _as_decision(
        view,
        spread.next_change(
            _voter_regions(view), [], view.voter_count, view.leader
        ),
    )
