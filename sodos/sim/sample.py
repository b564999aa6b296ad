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

"""One look at the federation: what the KB says, and what really runs.

A sample records, at one instant, every site's status in the KB beside
the truth the runner knows (its process running, crashed or frozen), and
every expected member: where it is placed, its server's state there and
whether it really runs (ACTIVE at its placed site, whose process runs; a
crashed site's last monitoring still says ACTIVE until it is marked
down, and that is not running). The report is computed from samples
only, so it can be checked on hand-made ones.
"""

from __future__ import annotations

from typing import Any

from sodos.kb import shapes

_UNPLACED_PREFIX = 'member '
_UNPLACED_INFIX = ' cannot be placed: '


def unplaced_reasons(alerts: dict[str, Any]) -> dict[str, str]:
    """Member key -> why the planner could not place it, from the open
    ``unplaced`` alerts ('member KEY cannot be placed: REASON')."""
    found = {}
    for alert in alerts.values():
        if alert.get('kind') != 'unplaced':
            continue
        message = alert.get('message', '')
        if message.startswith(_UNPLACED_PREFIX) and _UNPLACED_INFIX in message:
            key, reason = message[len(_UNPLACED_PREFIX) :].split(
                _UNPLACED_INFIX, 1
            )
            found[key] = reason
    return found


def take(
    kb: dict[str, Any],
    t: float,
    wall_start: float,
    procs: dict[str, str],
    expected: list[str],
    owned: dict[str, tuple[str, float]] | None = None,
) -> dict[str, Any]:
    """A sample from KB sections ``sites``, ``placements``,
    ``monitoring`` and ``alerts``.

    ``t`` is the run's clock, ``wall_start`` the wall time of its zero
    (the KB stamps status changes with wall time), ``procs`` site ->
    running|crashed|frozen, ``expected`` the member keys looked at (the
    appliances of the scenario, not the extra load put on a site).
    ``owned``: member key -> (owner, vCPUs) of every member of an owner
    the run put, the owners' demands included (a community scenario).
    """
    sites: dict[str, Any] = {}
    for name, proc in procs.items():
        entry = kb['sites'].get(name) or {}
        changed = entry.get('status_changed_at')
        sites[name] = {
            'kb': entry.get('status', 'unknown'),
            'since': (
                round(changed - wall_start, 3)
                if isinstance(changed, (int, float))
                else None
            ),
            'maintenance': entry.get('maintenance', ''),
            'proc': proc,
        }
    seen: dict[str, list[tuple[str, str]]] = {}
    for name, report in kb['monitoring'].items():
        if procs.get(name) != 'running':
            continue
        for key, entry in shapes.servers(shapes.summary_of(report)).items():
            for server in [entry] + list(entry.get('others') or []):
                seen.setdefault(key, []).append(
                    (name, server.get('status', '?'))
                )
    placements = kb['placements']
    members: dict[str, Any] = {}
    for key in sorted(expected):
        placed = placements.get(key)
        if placed is None:
            members[key] = {'site': None, 'status': 'UNPLACED'}
            members[key]['running'] = False
            continue
        site = placed['site']
        status = next((s for n, s in seen.get(key, []) if n == site), None)
        if status is None:
            summary = shapes.summary(kb['monitoring'], site)
            entry = shapes.servers(summary).get(key) or {}
            status = entry.get('status', 'PENDING')
        members[key] = {
            'site': site,
            'status': status,
            'running': status == 'ACTIVE' and procs.get(site) == 'running',
        }
    doubles = sorted(
        key
        for key in members
        if len([w for w in seen.get(key, []) if w[1] != 'DELETED']) > 1
    )
    taken = {
        't': round(t, 3),
        'sites': sites,
        'members': members,
        'doubles': doubles,
        'unplaced': unplaced_reasons(kb.get('alerts') or {}),
    }
    if owned:
        taken['owners'] = owners_usage(kb, procs, owned)
        taken['reclaims'] = reclaims(kb)
        taken['owned_sites'] = owned_sites(kb, owned)
    return taken


def owners_usage(
    kb: dict[str, Any],
    procs: dict[str, str],
    owned: dict[str, tuple[str, float]],
) -> dict[str, dict[str, float]]:
    """Owner -> vCPUs its members ask (``demand``) and hold running
    (``used``: ACTIVE at the site placed, whose process runs)."""
    out: dict[str, dict[str, float]] = {}
    for key, (owner, vcpus) in sorted(owned.items()):
        row = out.setdefault(owner, {'used': 0.0, 'demand': 0.0})
        row['demand'] += vcpus
        placed = kb['placements'].get(key)
        if placed is None or procs.get(placed['site']) != 'running':
            continue
        summary = shapes.summary(kb['monitoring'], placed['site'])
        if (shapes.servers(summary).get(key) or {}).get('status') == 'ACTIVE':
            row['used'] += vcpus
    return out


def owned_sites(
    kb: dict[str, Any], owned: dict[str, tuple[str, float]]
) -> dict[str, list[Any]]:
    """Member key -> [the site placed (None), the sites that run a
    server for it], for the members of owners (where a reclaim moved
    one from, and when the site it left was free of it)."""
    running: dict[str, list[str]] = {}
    for name, report in sorted(kb['monitoring'].items()):
        for key, server in shapes.servers(shapes.summary_of(report)).items():
            if key in owned and server.get('status') != 'DELETED':
                running.setdefault(key, []).append(name)
    return {
        key: [
            (kb['placements'].get(key) or {}).get('site'),
            running.get(key, []),
        ]
        for key in sorted(owned)
    }


RECLAIM_PREFIX = 'reclaim:'


def reclaims(kb: dict[str, Any]) -> dict[str, Any]:
    """What reclaim did, as the KB shows it now: members whose placement
    was made by a reclaim (its reason, in the placement's info, starts
    with ``reclaim:``), member key -> site; and the guests under a
    reclaim notice (``owners.<host>.reclaims``, not moved: stopped once
    the notice ends), member key -> the site they are to leave."""
    moved = {
        key: placed['site']
        for key, placed in kb['placements'].items()
        if str((placed.get('info') or {}).get('reason', '')).startswith(
            RECLAIM_PREFIX
        )
    }
    noticed = {
        key: record['site']
        for owner in (kb.get('owners') or {}).values()
        for key, record in ((owner or {}).get('reclaims') or {}).items()
        if 'moved_to' not in record
    }
    return {'moved': moved, 'noticed': noticed}


def read_kb(client: Any) -> dict[str, Any]:
    """The KB sections a sample needs, read from a KB member."""
    return {
        section: client.read(section) or {}
        for section in (
            'sites',
            'placements',
            'monitoring',
            'alerts',
            'owners',
        )
    }


def counts(sample: dict[str, Any]) -> dict[str, int]:
    """Sites up/down and members running/pending, for progress lines."""
    sites = sample['sites'].values()
    members = sample['members'].values()
    running = sum(1 for m in members if m['running'])
    return {
        'sites_up': sum(
            1 for s in sites if s['proc'] == 'running' and s['kb'] == 'up'
        ),
        'sites_down': sum(
            1 for s in sites if s['proc'] != 'running' or s['kb'] != 'up'
        ),
        'running': running,
        'pending': len(sample['members']) - running,
    }
