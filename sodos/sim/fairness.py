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

"""How fairly a community run shared the federation, from its samples.

Words, as the report uses them:

*entitlement*
    an owner's part of the federation: the vCPUs of its sites over all
    the owners' (or its weight over all weights, when the scenario gives
    any), as the planner computes it (sodos.domain.fairshare).
*share*
    an owner's part of the used capacity at one sample: the vCPUs its
    running members hold over the vCPUs all owners' running members
    hold.
*contended*
    a sample in which the owners ask for more vCPUs (members running and
    waiting) than the federation has (the scenario's sites, times the
    simulator's CPU allocation ratio).
*fair share*
    what an owner should hold of the used capacity given what everyone
    asks: the used capacity divided by entitlement, an owner asking less
    than its part getting what it asks and the rest shared again among
    the others (max-min fairness, water-filling). When every owner asks
    at least its entitlement, its fair share is its entitlement.
*share error*
    per owner, the gap between its share and its fair share, averaged
    over the contended samples; ``share_error_max`` is the largest.
*starved*
    an owner that asked for more than it held during the contended
    period and whose share, averaged over it, stayed below half its fair
    share.
*reclaim*
    a member a reclaim moved (its placement's reason starts with
    ``reclaim:``); ``reclaim_s`` is the time from the last ``demand`` of
    the owner of the site it left to the moment that site no longer ran
    it (the owner's capacity free). A guest no site had room for is
    given notice (``owners.<host>.reclaims``), then stopped: its
    ``reclaim_s`` runs from the same demand to the moment its site no
    longer ran it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from sodos.domain import fairshare

# [simulator]cpu_allocation_ratio's default, for a scenario that does not
# set it.
DEFAULT_CPU_RATIO = 4.0
STARVED_BELOW = 0.5
_EPSILON = 1e-9


def entitlements(scenario: Any) -> dict[str, float]:
    contributions = {o.name: 0.0 for o in scenario.owners}
    for site in scenario.sites:
        if site.owner:
            contributions[site.owner] += float(
                site.capacity['hosts'] * site.capacity['vcpus']
            )
    weights = {o.name: o.policy.get('weight') for o in scenario.owners}
    return fairshare.entitlements(contributions, weights)


def capacity(scenario: Any) -> float:
    """The federation's vCPUs, as the simulated sites offer them."""
    ratio = float(
        (scenario.settings.get('simulator') or {}).get(
            'cpu_allocation_ratio', DEFAULT_CPU_RATIO
        )
    )
    return sum(
        s.capacity['hosts'] * s.capacity['vcpus'] * ratio
        for s in scenario.sites
    )


def fair_shares(
    entitled: Mapping[str, float],
    demand: Mapping[str, float],
    total: float,
) -> dict[str, float]:
    """Each owner's part of ``total`` by max-min fairness weighted by
    ``entitled``, none above what it asks (``demand``, same unit)."""
    alloc = {o: 0.0 for o in entitled}
    active = {
        o for o in entitled if entitled[o] > 0 and demand.get(o, 0.0) > 0
    }
    left = total
    while active and left > _EPSILON:
        weight = math.fsum(entitled[o] for o in active)
        wants = {o: demand.get(o, 0.0) - alloc[o] for o in active}
        done = {o for o in active if wants[o] <= left * entitled[o] / weight}
        if not done:
            for o in active:
                alloc[o] += left * entitled[o] / weight
            break
        for o in sorted(done):
            left -= wants[o]
            alloc[o] += wants[o]
        active -= done
    if total <= 0:
        return {o: 0.0 for o in entitled}
    return {o: alloc[o] / total for o in entitled}


def series(
    samples: list[dict[str, Any]],
    entitled: Mapping[str, float],
    room: float,
    started: float,
) -> list[dict[str, Any]]:
    """Per sample (from ``started``, the scenario's zero): each owner's
    share and fair share, and whether the sample was contended."""
    out = []
    for sample in samples:
        owners = sample.get('owners')
        if owners is None or sample['t'] < started:
            continue
        used = {o: owners.get(o, {}).get('used', 0.0) for o in entitled}
        demand = {o: owners.get(o, {}).get('demand', 0.0) for o in entitled}
        total = math.fsum(used.values())
        fair = fair_shares(entitled, demand, total)
        out.append(
            {
                't': round(sample['t'] - started, 3),
                'contended': math.fsum(demand.values()) > room + _EPSILON,
                'share': {
                    o: round(used[o] / total, 4) if total else 0.0
                    for o in entitled
                },
                'fair': {o: round(fair[o], 4) for o in entitled},
                'used': used,
                'demand': demand,
            }
        )
    return out


def _mean(values: list[float]) -> float | None:
    return math.fsum(values) / len(values) if values else None


def per_owner(
    points: list[dict[str, Any]], entitled: Mapping[str, float]
) -> dict[str, dict[str, Any]]:
    """Per owner, over the contended samples: its mean share, fair share
    and gap (share error), and whether it was starved."""
    contended = [p for p in points if p['contended']]
    out = {}
    for owner in entitled:
        share = _mean([p['share'][owner] for p in contended])
        fair = _mean([p['fair'][owner] for p in contended])
        error = _mean(
            [abs(p['share'][owner] - p['fair'][owner]) for p in contended]
        )
        wanted = any(
            p['demand'][owner] > p['used'][owner] + _EPSILON for p in contended
        )
        out[owner] = {
            'entitlement': round(entitled[owner], 4),
            'share_mean': None if share is None else round(share, 4),
            'fair_mean': None if fair is None else round(fair, 4),
            'share_error': None if error is None else round(error, 4),
            'starved': bool(
                wanted
                and share is not None
                and fair is not None
                and share < STARVED_BELOW * fair
            ),
        }
    return out


def reclaims(
    samples: list[dict[str, Any]],
    events: list[dict[str, Any]],
    site_owner: Mapping[str, str],
) -> dict[str, Any]:
    """The reclaims seen, with their times (``reclaim_s``: the owner's
    last demand to its site free of the member): guests moved, and guests
    stopped at the end of their notice, each once."""
    moved: list[dict[str, Any]] = []
    stopped: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    noticed: set[tuple[str, str]] = set()
    previous: dict[str, Any] = {}
    for index, sample in enumerate(samples):
        found = sample.get('reclaims') or {}
        for key, site in sorted(found.get('noticed', {}).items()):
            if (key, site) in noticed:
                continue
            noticed.add((key, site))
            stop = _timed(samples, index, events, site_owner, key, site, None)
            if stop['freed_t'] is not None:
                # Shown at the moment the site was free of it.
                stopped.append(dict(stop, t=stop['freed_t']))
        for key, site in sorted(found.get('moved', {}).items()):
            was = (previous.get(key) or [None])[0]
            if (key, site) in seen or was in (None, site):
                continue
            seen.add((key, site))
            moved.append(
                _timed(samples, index, events, site_owner, key, was, site)
            )
        previous = sample.get('owned_sites') or previous
    times = [
        m['reclaim_s'] for m in moved + stopped if m['reclaim_s'] is not None
    ]
    return {
        'moved': moved,
        'stopped': sorted(stopped, key=lambda s: s['t']),
        'reclaim_s_p95': _p95(times),
    }


def _timed(
    samples: list[dict[str, Any]],
    index: int,
    events: list[dict[str, Any]],
    site_owner: Mapping[str, str],
    key: str,
    origin: str,
    site: str | None,
) -> dict[str, Any]:
    t = samples[index]['t']
    owner = site_owner.get(origin, '')
    asked = [
        e['t']
        for e in events
        if e['action'] == 'demand' and e.get('owner') == owner and e['t'] <= t
    ]
    freed = next(
        (
            s['t']
            for s in samples[index:]
            if origin
            not in ((s.get('owned_sites') or {}).get(key) or [None, []])[1]
        ),
        None,
    )
    request = max(asked) if asked else None
    return {
        'member': key,
        'from': origin,
        'to': site,
        't': t,
        'owner': owner,
        'requested_t': request,
        'freed_t': freed,
        'reclaim_s': (
            round(freed - request, 3)
            if freed is not None and request is not None
            else None
        ),
    }


def _p95(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def build(
    scenario: Any,
    samples: list[dict[str, Any]],
    events: list[dict[str, Any]],
    started: float,
) -> dict[str, Any]:
    """The ``community`` part of a run's report (scenario with owners)."""
    entitled = entitlements(scenario)
    room = capacity(scenario)
    points = series(samples, entitled, room, started)
    owners = per_owner(points, entitled)
    errors = [
        o['share_error']
        for o in owners.values()
        if o['share_error'] is not None
    ]
    contended = [p['t'] for p in points if p['contended']]
    site_owner = {s.name: s.owner for s in scenario.sites if s.owner}
    found = reclaims(samples, events, site_owner)
    for item in found['moved'] + found['stopped']:
        item['at'] = round(item['t'] - started, 3)
    return {
        'capacity_vcpus': room,
        'contended_s': _contended_seconds(points),
        'contended_from': contended[0] if contended else None,
        'contended_to': contended[-1] if contended else None,
        'owners': owners,
        'share_error_max': max(errors) if errors else None,
        'starved_owners': sorted(o for o, v in owners.items() if v['starved']),
        'reclaims': found,
        'series': points,
    }


def _contended_seconds(points: list[dict[str, Any]]) -> float:
    """Seconds between consecutive samples that were both contended."""
    total = 0.0
    for before, after in zip(points, points[1:], strict=False):
        if before['contended'] and after['contended']:
            total += after['t'] - before['t']
    return round(total, 3)


def summary(community: dict[str, Any]) -> str:
    """The lines printed at the end of a community run."""
    lines = [
        'Fair share (contended %.1f s; share of used vCPUs, mean over the '
        'contended samples)' % community['contended_s']
    ]
    lines.append(
        '  %-16s %11s %10s %10s %10s %s'
        % ('owner', 'entitlement', 'fair', 'share', 'error', '')
    )
    for owner, row in community['owners'].items():
        lines.append(
            '  %-16s %11s %10s %10s %10s %s'
            % (
                owner,
                _pct(row['entitlement']),
                _pct(row['fair_mean']),
                _pct(row['share_mean']),
                _pct(row['share_error']),
                'STARVED' if row['starved'] else '',
            )
        )
    starved = community['starved_owners']
    lines.append(
        '  share_error_max %s; starved owners: %s'
        % (_pct(community['share_error_max']), ', '.join(starved) or 'none')
    )
    found = community['reclaims']
    if not found['moved'] and not found['stopped']:
        lines.append('  no reclaim happened')
    for move in found['moved']:
        lines.append(
            '  reclaim at t=%+.1f s: %s %s -> %s (%s)'
            % (
                move['at'],
                move['member'],
                move['from'],
                move['to'],
                '-'
                if move['reclaim_s'] is None
                else '%.1f s' % move['reclaim_s'],
            )
        )
    for stop in found['stopped']:
        lines.append(
            '  reclaim stopped at t=%+.1f s: %s at %s, after its notice (%s)'
            % (
                stop['at'],
                stop['member'],
                stop['from'],
                '-'
                if stop['reclaim_s'] is None
                else '%.1f s' % stop['reclaim_s'],
            )
        )
    return '\n'.join(lines)


def _pct(value: float | None) -> str:
    return '-' if value is None else '%.1f %%' % (100 * value)
