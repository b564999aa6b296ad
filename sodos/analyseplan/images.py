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

"""Image distribution: which copies the leader asks for, and from where.

A function of a KB read and the time (:func:`schedule`), like the planner: a
new leader carries on where the old one stopped, and a test can play
rounds of copies without a cloud.

For every registered image, the sites it should be at (its target, every
site where a member using it is placed, and for target ``needed`` the
pre-staging sites) are compared with the sites that hold it: active in
their Glance with the registry's hash, as their monitoring summary says,
or just copied there by an ``image.copy`` that finished after their last
summary. Each missing site with no copy under way gets one from a source:
a site holding the image, up, serving fewer than
``[analyseplan]image_uploads_per_source`` copies, nearest first, then
least busy. Every site that receives the image serves it in turn, so the
number of holders grows geometrically, round after round.

A copy that failed is asked again after ``[analyseplan]retry_after``,
from another source when there is one. A copy that burnt the image ID at
its site (Glance never reuses a deleted ID) is not retried: the site is
recorded as failed for that image, and an alert raised.

An image being deleted gets an ``image.delete`` at every site that lists
it, and its entry is purged once no site does.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections import Counter
from typing import Any

from sodos.domain import imageview
from sodos.kb import shapes

# Alert ids are derived from what they are about, so that every leader
# raises the same alert once.
ALERT_NAMESPACE = uuid.UUID('0c9a4f62-2b7e-4d55-8f0e-5a1d3e7b9c24')
# Sorts a source of unknown location after every known one.
FAR = 1e9


def failed_alert_id(image_id: str, site: str) -> str:
    return uuid.uuid5(ALERT_NAMESPACE, 'image:%s@%s' % (image_id, site)).hex


@dataclasses.dataclass
class Decision:
    """What one cycle asks for."""

    # image.copy and image.delete actions ('plan.apply' action items).
    actions: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    # (image id, site, reason): the image ID is burnt at that site.
    failed: list[tuple[str, str, str]] = dataclasses.field(
        default_factory=list
    )
    # Entries being deleted that no site holds any more.
    purge: list[str] = dataclasses.field(default_factory=list)
    # Missing copies that wait: for a free source, or to retry later.
    waiting: int = 0
    missing: int = 0

    def summary(self) -> str:
        copies = sum(1 for a in self.actions if a['kind'] == imageview.COPY)
        parts = []
        if self.missing:
            parts.append('%d image cop(ies) missing' % self.missing)
        if copies:
            parts.append('%d started' % copies)
        if self.waiting:
            parts.append('%d waiting' % self.waiting)
        deletes = len(self.actions) - copies
        if deletes:
            parts.append('%d image deletion(s)' % deletes)
        if self.failed:
            parts.append('%d site(s) failed for good' % len(self.failed))
        if self.purge:
            parts.append('%d image(s) purged' % len(self.purge))
        return ', '.join(parts)


class _Sources:
    """Who may serve, and how busy each source is, across all images."""

    def __init__(self, kb: dict[str, Any], limit: int) -> None:
        self.kb = kb
        self.limit = limit
        self.busy: Counter[str] = Counter()
        for action in (kb.get('actions') or {}).values():
            if (
                action.get('kind') != imageview.COPY
                or action['state'] not in imageview.RUNNING
            ):
                continue
            # A copy to a site that is down does not run: no upload.
            if imageview.up(kb, action['site']):
                params = action.get('params') or {}
                self.busy[str(params.get('source_site', ''))] += 1
        self._where = {
            s: imageview.location(imageview.profile(kb, s))
            for s in imageview.live_sites(kb)
        }

    def pick(
        self, candidates: set[str], target: str, avoid: set[str]
    ) -> str | None:
        """The nearest free source, then the least busy; one that failed
        this copy before only when no other is free."""
        here = self._where.get(target)

        def key(source: str) -> tuple[bool, float, int, str]:
            there = self._where.get(source)
            far = imageview.distance_km(here, there) if here and there else FAR
            return (source in avoid, far, self.busy[source], source)

        free = [s for s in candidates if self.busy[s] < self.limit]
        if not free:
            return None
        chosen = min(free, key=key)
        self.busy[chosen] += 1
        return chosen


def copy_action(
    entry: dict[str, Any], site: str, source: str, url: str
) -> dict[str, Any]:
    """The ``image.copy`` action item that gets ``entry`` to ``site``."""
    meta = entry.get('metadata') or {}
    metadata = {
        'name': entry['name'],
        'disk_format': entry['disk_format'],
        'container_format': entry['container_format'],
    }
    for key in ('min_disk', 'min_ram', 'visibility', 'tags', 'properties'):
        if key in meta:
            metadata[key] = meta[key]
    return {
        'action_id': uuid.uuid4().hex,
        'site': site,
        'kind': imageview.COPY,
        'params': {
            'image_id': entry['id'],
            'source_site': source,
            'source_url': url,
            'expected': {k: entry[k] for k in _EXPECTED},
            'metadata': metadata,
        },
    }


_EXPECTED = ('size', 'os_hash_algo', 'os_hash_value')


def schedule(
    kb: dict[str, Any],
    limit: int,
    retry_after: float,
    now: float,
    prestage: dict[str, set[str]] | None = None,
) -> Decision:
    """The copies, deletions and failures one leader cycle commits.

    Sites where a member waits for its image are served first.
    """
    decision = Decision()
    sources = _Sources(kb, limit)
    by_image = imageview.copies(kb)
    registry = kb.get('images') or {}
    waiting: Counter[tuple[str, str]] = Counter()
    for placed in (kb.get('placements') or {}).values():
        awaiting = shapes.placement_info(placed).get('awaiting_image')
        if awaiting:
            waiting[(awaiting, placed['site'])] += 1
    todo = []
    have: dict[str, set[str]] = {}
    used = imageview.uses(kb)
    for image_id in sorted(registry):
        entry = registry[image_id]
        actions = by_image.get(image_id, [])
        if entry['state'] == 'deleting':
            _delete(kb, entry, actions, decision)
            continue
        have[image_id] = imageview.holders(kb, entry, actions)
        wanted = imageview.desired(
            kb,
            entry,
            (prestage or {}).get(image_id, ()),
            used.get(image_id, ()),
        )
        for site in wanted - have[image_id]:
            decision.missing += 1
            todo.append((-waiting[(image_id, site)], image_id, site))
    for _, image_id, site in sorted(todo):
        _copy(
            kb,
            registry[image_id],
            site,
            by_image.get(image_id, []),
            have[image_id],
            sources,
            decision,
            now - retry_after,
        )
    return decision


def _copy(
    kb: dict[str, Any],
    entry: dict[str, Any],
    site: str,
    actions: list[dict[str, Any]],
    have: set[str],
    sources: _Sources,
    decision: Decision,
    retry_before: float,
) -> None:
    """One copy to ``site``, unless one runs, or must wait, or cannot."""
    if not imageview.up(kb, site):
        return  # asked once the site is back
    mine = [
        a for a in actions if a['kind'] == imageview.COPY and a['site'] == site
    ]
    if any(a['state'] in imageview.RUNNING for a in mine):
        return
    if mine and mine[-1]['state'] == 'failed':
        last = mine[-1]
        result = last.get('result') or {}
        if result.get('id_burnt'):
            reason = str(result.get('error') or 'image ID burnt')
            decision.failed.append((entry['id'], site, reason[:900]))
            return
        if last['updated_at'] > retry_before:
            decision.waiting += 1
            return
    avoid = {
        str((a.get('params') or {}).get('source_site', ''))
        for a in mine
        if a['state'] == 'failed'
    }
    candidates = {
        s
        for s in have
        if s != site and imageview.up(kb, s) and imageview.relay(kb, s)
    }
    source = sources.pick(candidates, site, avoid)
    if source is None:
        decision.waiting += 1
        return
    url = imageview.relay(kb, source)
    assert url is not None
    decision.actions.append(copy_action(entry, site, source, url))


def _delete(
    kb: dict[str, Any],
    entry: dict[str, Any],
    actions: list[dict[str, Any]],
    decision: Decision,
) -> None:
    """Delete every copy; purge the entry once no site lists it."""
    image_id = entry['id']
    live = set(imageview.live_sites(kb))
    listed = {
        s
        for s in live
        if image_id
        in (imageview.site_summary(kb, s).get('image_details') or {})
    } | (imageview.holders(kb, entry, actions) & live)
    busy = any(
        a['state'] in imageview.RUNNING and a['site'] in live for a in actions
    )
    if not listed and not busy:
        decision.purge.append(image_id)
        return
    for site in sorted(listed):
        if not imageview.up(kb, site):
            continue  # deleted once the site is back
        mine = [a for a in actions if a['site'] == site]
        if any(a['state'] in imageview.RUNNING for a in mine):
            continue
        seen = imageview.seen_at(kb, site)
        if any(
            a['kind'] == imageview.DELETE
            and a['state'] == 'done'
            and (seen is None or a['updated_at'] >= seen)
            for a in mine
        ):
            continue  # done since the last summary
        decision.actions.append(
            {
                'action_id': uuid.uuid4().hex,
                'site': site,
                'kind': imageview.DELETE,
                'params': {'image_id': image_id},
            }
        )


def with_orders(kb: dict[str, Any], orders: list[dict]) -> dict[str, Any]:
    """``kb`` with the placements of ``plan.apply`` args applied, so that
    the copies a new placement waits for go out in the same cycle."""
    placements = dict(kb.get('placements') or {})
    for args in orders:
        for item in args.get('removals', ()):
            placements.pop('%s/%s' % (item['appliance_id'], item['member']))
        for item in args.get('placements', ()):
            placements['%s/%s' % (item['appliance_id'], item['member'])] = item
    return dict(kb, placements=placements)


def failed_alert(entry: dict[str, Any], site: str, reason: str) -> dict:
    """The ``alert.raise`` args for a site that cannot get the image."""
    return {
        'alert_id': failed_alert_id(entry['id'], site),
        'site': site,
        'kind': 'image_failed',
        'severity': 'warning',
        'message': (
            'image %s (%s) cannot be copied to site %s under its ID: %s. '
            'Register the image again under a new ID to distribute it '
            'there.' % (entry['name'], entry['id'], site, reason)
        )[:1024],
    }


def alerts(kb: dict[str, Any]) -> tuple[list[dict], list[str]]:
    """Image alerts to raise (a site failed for an image, no alert open)
    and to close (their image or failed site is gone)."""
    registry = kb.get('images') or {}
    open_ = kb.get('alerts') or {}
    wanted = {}
    for image_id in sorted(registry):
        entry = registry[image_id]
        for site, failed in sorted((entry.get('failed_sites') or {}).items()):
            args = failed_alert(entry, site, failed.get('reason', ''))
            wanted[args['alert_id']] = args
    raise_ = [args for key, args in wanted.items() if key not in open_]
    close = sorted(
        key
        for key, alert in open_.items()
        if alert.get('kind') == 'image_failed' and key not in wanted
    )
    return raise_, close
