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

"""The federation's images as the planner and the image scheduler see
them: which image a member boots from, which sites hold it with the
registry's hash, where it should be, and where a copy can reach.

Read-only functions of a KB read, deterministic like the planner.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

RUNNING = ('pending', 'running')
COPY = 'image.copy'
DELETE = 'image.delete'


def resolve(kb: dict[str, Any], ref: str) -> dict[str, Any] | None:
    """The active registry entry a member's ``image`` names (ID or name).

    Several entries of one name: the newest (Nova boots by name only when
    the name is unique at a site, so this is a fallback, not a habit).
    """
    registry = kb.get('images') or {}
    entry = registry.get(ref)
    if entry is not None:
        return entry if entry['state'] == 'active' else None
    named = [
        e
        for e in registry.values()
        if e['name'] == ref and e['state'] == 'active'
    ]
    if not named:
        return None
    found: dict[str, Any] = max(
        named, key=lambda e: (e['created_at'], e['id'])
    )
    return found


def site_summary(kb: dict[str, Any], site: str) -> dict[str, Any]:
    found: dict[str, Any] = ((kb.get('monitoring') or {}).get(site) or {}).get(
        'summary'
    ) or {}
    return found


def copies(kb: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Image id -> its image.copy and image.delete actions, oldest first."""
    out: dict[str, list[dict[str, Any]]] = {}
    for action in (kb.get('actions') or {}).values():
        if action.get('kind') in (COPY, DELETE):
            image_id = (action.get('params') or {}).get('image_id', '')
            out.setdefault(str(image_id), []).append(action)
    for found in out.values():
        found.sort(key=lambda a: (a['created_at'], a['action_id']))
    return out


def holders(
    kb: dict[str, Any],
    entry: dict[str, Any],
    actions: list[dict[str, Any]] | None = None,
) -> set[str]:
    """Sites holding the image active with the registry's hash.

    A copy that finished after the site's last summary counts: the
    next summary will show it, and the site can serve it already.
    """
    image_id = entry['id']
    found = set()
    for site in kb.get('sites') or {}:
        summary = site_summary(kb, site)
        details = (summary.get('image_details') or {}).get(image_id) or {}
        if (
            details.get('status') == 'active'
            and details.get('os_hash_value') == entry['os_hash_value']
        ):
            found.add(site)
    for action in actions or ():
        if action['kind'] != COPY or action['state'] != 'done':
            continue
        result = action.get('result') or {}
        seen = seen_at(kb, action['site'])
        if result.get('os_hash_value') == entry['os_hash_value'] and (
            seen is None or action['updated_at'] >= seen
        ):
            found.add(action['site'])
    return found


def present(
    kb: dict[str, Any],
    site: str,
    ref: str,
    by_image: dict[str, list[dict[str, Any]]] | None = None,
) -> bool:
    """Whether ``site`` can boot a server from image ``ref`` now;
    ``by_image``: :func:`copies`, computed once for many questions."""
    summary = site_summary(kb, site)
    if ref in (summary.get('images') or ()):
        return True
    entry = resolve(kb, ref)
    if entry is None:
        details = (summary.get('image_details') or {}).get(ref) or {}
        return details.get('status') == 'active'
    if by_image is None:
        by_image = copies(kb)
    return site in holders(kb, entry, by_image.get(entry['id']))


def live_sites(kb: dict[str, Any]) -> list[str]:
    sites = kb.get('sites') or {}
    return sorted(n for n, s in sites.items() if s.get('status') != 'left')


def profile(kb: dict[str, Any], site: str) -> dict[str, Any]:
    record = (kb.get('sites') or {}).get(site) or {}
    found: dict[str, Any] = (record.get('info') or {}).get('profile') or {}
    return found


def relay(kb: dict[str, Any], site: str) -> str | None:
    """The URL of the site's image relay, which serves its images."""
    url = profile(kb, site).get('image_relay')
    return url if isinstance(url, str) and url else None


def up(kb: dict[str, Any], site: str) -> bool:
    record = (kb.get('sites') or {}).get(site) or {}
    if record.get('status') != 'up':
        return False
    return bool((site_summary(kb, site).get('api') or {}).get('ok'))


def copyable(kb: dict[str, Any]) -> dict[str, frozenset[str]]:
    """Image reference (ID and name) -> the sites a copy can reach now.

    For the planner's image filter: a member may go where its image is
    not yet, if some up site can serve it there.
    """
    out: dict[str, frozenset[str]] = {}
    live = frozenset(live_sites(kb))
    by_image = copies(kb)
    for image_id in sorted(kb.get('images') or {}):
        entry = kb['images'][image_id]
        if entry['state'] != 'active':
            continue
        sources = [
            s
            for s in holders(kb, entry, by_image.get(image_id))
            if up(kb, s) and relay(kb, s)
        ]
        if not sources:
            continue
        reach = live - frozenset(entry.get('failed_sites') or ())
        out[image_id] = reach
        out[entry['name']] = out.get(entry['name'], frozenset()) | reach
    return out


def resolver(kb: dict[str, Any]) -> dict[str, str]:
    """Every image reference (ID and name) -> the entry it resolves to."""
    out = {}
    for image_id, entry in (kb.get('images') or {}).items():
        if entry['state'] == 'active':
            out[image_id] = image_id
            found = resolve(kb, entry['name'])
            if found is not None:
                out[entry['name']] = found['id']
    return out


def uses(kb: dict[str, Any]) -> dict[str, set[str]]:
    """Image id -> the sites where a member placed there boots from it."""
    refs = resolver(kb)
    out: dict[str, set[str]] = {}
    for placed in (kb.get('placements') or {}).values():
        image_id = refs.get((placed.get('info') or {}).get('image', ''))
        if image_id is not None:
            out.setdefault(image_id, set()).add(placed['site'])
    return out


def desired(
    kb: dict[str, Any],
    entry: dict[str, Any],
    prestage: Collection[str] = (),
    used: Collection[str] | None = None,
) -> set[str]:
    """The sites the image should be at; ``used``: where members placed
    boot from it (:func:`uses`, computed once for every image)."""
    live = live_sites(kb)
    goal = entry.get('target') or {'kind': 'needed'}
    kind = goal['kind']
    if kind == 'all':
        wanted = set(live)
    elif kind == 'sites':
        wanted = set(goal['sites']) & set(live)
    elif kind == 'labels':
        labels = goal['labels'].items()
        wanted = {
            s
            for s in live
            if labels <= (profile(kb, s).get('labels') or {}).items()
        }
    else:
        wanted = set(prestage) & set(live)
    wanted |= set(uses(kb).get(entry['id'], ()) if used is None else used)
    return wanted - set(entry.get('failed_sites') or ())


def location(profile: dict[str, Any]) -> tuple[float, float] | None:
    """(lat, lon) from a profile's ``location``: 'LAT,LON' or a dict."""
    raw = profile.get('location')
    try:
        if isinstance(raw, str):
            lat, lon = (float(x) for x in raw.split(','))
        elif isinstance(raw, dict):
            lat, lon = float(raw['lat']), float(raw['lon'])
        else:
            return None
    except (KeyError, TypeError, ValueError):
        return None
    return lat, lon


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine, mean Earth radius)."""
    lat1, lon1, lat2, lon2 = (math.radians(v) for v in (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def seen_at(kb: dict[str, Any], site: str) -> float | None:
    """When the site's summary was taken (or at least committed)."""
    record = (kb.get('monitoring') or {}).get(site) or {}
    stamp = (record.get('summary') or {}).get('collected_at')
    if stamp is None:
        stamp = record.get('reported_at')
    return float(stamp) if stamp is not None else None
