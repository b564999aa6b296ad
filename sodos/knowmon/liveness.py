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
        if current == 'left' or (name not in heard and name != leader_site):
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
    A verdict on a site that came back is made stale by the site's own
    word (see :func:`registered_incarnations`).

    The leader's own site is never marked down, and is marked up if an
    earlier leader had marked it down (it restarted and won an election
    before it was seen again): leading, it is alive, and no one else
    would mark it up while it leads."""
    found = []
    for name in sorted(sites):
        current = sites[name].get('status')
        if name == leader_site and current == 'down':
            found.append(Transition(name, 'up', 'leads the federation'))
        if current == 'left' or name == leader_site or name not in view:
            continue
        state, incarnation = view[name]
        if incarnation == 0:
            continue
        if state == 'dead' and current != 'down':
            found.append(
                Transition(name, 'down', 'confirmed dead by the gossip')
            )
        elif state == 'alive' and current == 'down':
            found.append(Transition(name, 'up', 'alive in the gossip'))
    return found


def registered_incarnations(
    sites: dict[str, dict[str, Any]],
) -> dict[str, int]:
    """The incarnation each site said it runs at when it last registered
    (sodos.kb.backend.StateBackend.incarnation), for the sites not gone.

    A restarted site registers itself up in the KB before its gossip
    reaches the leader, which meanwhile holds it dead at the incarnation
    of the process that died: fed to the leader's gossip as the site's
    own word (:meth:`~.gossip.swim.Swim.vouch`), that verdict is stale
    for as long as it takes the site to gossip, and a death after its
    return is found at its new incarnation. Sites whose code does not
    say one are left to their gossip alone."""
    found = {}
    for name, site in sites.items():
        incarnation = (site.get('info') or {}).get('incarnation')
        if (
            site.get('status') != 'left'
            and isinstance(incarnation, int)
            and not isinstance(incarnation, bool)
            and incarnation > 0
        ):
            found[name] = incarnation
    return found


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
