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

"""Which sites changed between up and down, as the leader sees them.

Pure: the KnowMon role feeds it the KB's sites and the leader's liveness
table and commits what it returns. Only transitions come out, so the log
gets an entry when a site goes down or comes back, never per heartbeat.
"""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class Transition:
    site: str
    status: str
    reason: str


def transitions(
    sites: dict[str, dict[str, Any]],
    heard: dict[str, float],
    down_after: float,
    leader_site: str,
) -> list[Transition]:
    found = []
    for name in sorted(sites):
        site = sites[name]
        current = site.get('status')
        # Absent from the table: the leader cannot judge it (the backend
        # lists every site it should have heard of, with a grace period
        # after an election), so say nothing rather than guess.
        if current == 'left' or name not in heard:
            continue
        age = 0.0 if name == leader_site else heard[name]
        if age > down_after and current != 'down':
            found.append(
                Transition(name, 'down', 'not heard of for %.1f s' % age)
            )
        elif age <= down_after and current == 'down':
            found.append(Transition(name, 'up', 'heard of again'))
    return found


def gossip_transitions(
    sites: dict[str, dict[str, Any]],
    view: dict[str, tuple[str, int]],
    leader_site: str,
    pardoned: dict[str, int] | None = None,
) -> list[Transition]:
    """The same, from the leader's gossip view (state, incarnation) of
    each member: down only once the gossip confirmed a suspicion (the
    member is dead in the view), up only once the member itself said it
    is alive.

    Both need an incarnation above 0, the one a member is given before
    anyone heard it: a leader that just started holds everyone alive at
    0, and a member that never gossips (a client member of the KB, a
    tool) ends dead at 0 though it may be running. Who heard a member
    once spreads its real incarnation, which then outranks the 0.
    ``pardoned`` verdicts (see :func:`pardons`) are stale."""
    pardoned = pardoned or {}
    found = []
    for name in sorted(sites):
        current = sites[name].get('status')
        if current == 'left' or name == leader_site or name not in view:
            continue
        state, incarnation = view[name]
        if incarnation == 0:
            continue
        if state == 'dead' and current != 'down':
            if incarnation <= pardoned.get(name, -1):
                continue
            found.append(
                Transition(name, 'down', 'confirmed dead by the gossip')
            )
        elif state == 'alive' and current == 'down':
            found.append(Transition(name, 'up', 'alive in the gossip'))
    return found


def pardons(
    before: dict[str, str],
    sites: dict[str, dict[str, Any]],
    view: dict[str, tuple[str, int]],
) -> dict[str, int]:
    """Dead verdicts that a site's return made stale.

    A restarted site registers itself up in the KB before its gossip,
    at a new incarnation, reaches the leader; meanwhile the leader still
    holds it dead at the old one. Such a site, down at the last look and
    up now, is not marked down again on a verdict at that incarnation or
    below while the pardon lasts (see :func:`in_force`): a death after
    its return, at its new incarnation, counts at once."""
    return {
        name: view[name][1]
        for name, site in sites.items()
        if before.get(name) == 'down'
        and site.get('status') == 'up'
        and name in view
        and view[name][0] == 'dead'
    }


def in_force(
    pardoned: dict[str, tuple[int, float]],
    view: dict[str, tuple[str, int]],
    now: float,
) -> dict[str, int]:
    """The pardons (site -> (incarnation, until)) that still hold.

    One lapses at its deadline: a site that came back but that no member
    has heard on the gossip since, at a newer incarnation, within that
    time is as good as dead (it may have crashed again at once, before
    it gossiped), and its old verdict counts again."""
    return {
        name: incarnation
        for name, (incarnation, until) in pardoned.items()
        if now < until and view.get(name, ('', 0))[1] <= incarnation
    }


def returns(
    before: dict[str, str], sites: dict[str, dict[str, Any]]
) -> list[Transition]:
    """Sites that were down at the last look and are up now, whatever
    marked them up: a site that restarts registers itself up
    (``joined``) before the leader's liveness table would have."""
    return [
        Transition(name, 'up', site.get('reason') or 'no reason given')
        for name, site in sorted(sites.items())
        if before.get(name) == 'down' and site.get('status') == 'up'
    ]


def statuses(sites: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Each site's status, to compare with at the next look."""
    return {name: str(site.get('status')) for name, site in sites.items()}
