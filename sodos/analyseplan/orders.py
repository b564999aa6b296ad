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

"""From a plan to the commands that carry it out.

Each placement comes with the action that builds the server there; each
removal with the action that deletes it (when its site is up). Moves off
a site that is still up (drain) are make-before-break: the old server is
deleted only once the new one is built, by :func:`cleanups` on a later
cycle. Everything is cut in ``plan.apply`` chunks, each one Raft entry
carrying the term the plan was made in.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sodos.analyseplan import planner
from sodos.domain import imageview
from sodos.kb import shapes
from sodos.kb.schemas import PLAN_CHUNK

ENDED = ('done', 'failed')


def _create(
    site: str, appliance_id: str, member: str, info: Mapping[str, Any]
) -> dict:
    params = {
        'appliance_id': appliance_id,
        'member': member,
        'image': info['image'],
        'flavor': info['flavor'],
    }
    return {
        'action_id': uuid.uuid4().hex,
        'site': site,
        'kind': 'server.create',
        'params': params,
    }


def _delete(site: str, appliance_id: str, member: str) -> dict:
    return {
        'action_id': uuid.uuid4().hex,
        'site': site,
        'kind': 'server.delete',
        'params': {'appliance_id': appliance_id, 'member': member},
    }


def from_plan(plan: planner.Plan, kb: dict[str, Any]) -> list[dict]:
    """``plan.apply`` argument dicts for the plan's moves and removals.

    A member placed where its image is not yet waits for it: its
    placement says so (``awaiting_image``) and its create is held back
    until the image is there (:func:`releases`).
    """
    sites = kb.get('sites', {})
    by_image = imageview.copies(kb)
    placements, actions, removals = [], [], []
    for move in plan.moves:
        info: dict[str, Any] = {
            'image': move.image,
            'flavor': move.flavor,
            'failed_sites': move.failed_sites,
        }
        if move.failed_at:
            info['failed_at'] = move.failed_at
        if move.reason.startswith('reclaim:'):
            info['reason'] = move.reason
        if not imageview.present(kb, move.site, move.image, by_image):
            entry = imageview.resolve(kb, move.image)
            info['awaiting_image'] = entry['id'] if entry else move.image
        placements.append(
            {
                'appliance_id': move.appliance_id,
                'member': move.member,
                'site': move.site,
                'info': info,
            }
        )
        if 'awaiting_image' not in info:
            actions.append(
                _create(move.site, move.appliance_id, move.member, info)
            )
    for removal in plan.removals:
        removals.append(
            {'appliance_id': removal.appliance_id, 'member': removal.member}
        )
        if shapes.is_up(sites, removal.site):
            actions.append(
                _delete(removal.site, removal.appliance_id, removal.member)
            )
    return chunks(placements, removals, actions)


def chunks(
    placements: list[dict], removals: list[dict], actions: list[dict]
) -> list[dict]:
    """Cut into ``plan.apply`` args; a placement and its action together."""
    out = []
    for start in range(0, max(len(placements), len(removals), 1), PLAN_CHUNK):
        part_p = placements[start : start + PLAN_CHUNK]
        part_r = removals[start : start + PLAN_CHUNK]
        out.append({'placements': part_p, 'removals': part_r, 'actions': []})
    # Actions follow the chunk of their placement; the rest go last.
    by_key: dict[tuple[str, str], list[dict]] = {}
    for action in actions:
        p = action['params']
        # Image actions belong to no member: they go last.
        slot = (p.get('appliance_id', ''), p.get('member', ''))
        by_key.setdefault(slot, []).append(action)
    for args in out:
        for item in args['placements'] + args['removals']:
            args['actions'].extend(
                by_key.pop((item['appliance_id'], item['member']), [])
            )
    rest = [a for group in by_key.values() for a in group]
    for start in range(0, len(rest), 2 * PLAN_CHUNK):
        out.append(
            {
                'placements': [],
                'removals': [],
                'actions': rest[start : start + 2 * PLAN_CHUNK],
            }
        )
    return [
        dict(args, plan_id=uuid.uuid4().hex)
        for args in out
        if args['placements'] or args['removals'] or args['actions']
    ]


def cleanups(kb: dict[str, Any], retry_after: float, now: float) -> list:
    """Follow-up actions for members placed where they are now:

    * delete the member's server at another site that is up, once the
      server at its placed site is built (the end of a move);
    * build the member again where it is placed when its last create
      there failed with a transient error ``retry_after`` seconds ago.
    """
    sites = kb.get('sites', {})
    monitoring = kb.get('monitoring', {})
    placements = kb.get('placements', {})
    # Member key -> the sites reporting a server of it, in name order
    # (one pass, rather than every site's servers for every member).
    reported: dict[str, list[str]] = {}
    for name in sorted(monitoring):
        for key in shapes.servers(shapes.summary_of(monitoring[name])):
            reported.setdefault(key, []).append(name)
    latest: dict[tuple[str, str, str], dict] = {}
    for action in kb.get('actions', {}).values():
        params = action.get('params') or {}
        key = '%s/%s' % (params.get('appliance_id'), params.get('member'))
        slot = (key, action['site'], action['kind'])
        if slot not in latest or (
            action['created_at'],
            action['action_id'],
        ) > (latest[slot]['created_at'], latest[slot]['action_id']):
            latest[slot] = action
    out = []
    for key in sorted(placements):
        placed = placements[key]
        home = placed['site']
        built = latest.get((key, home, 'server.create'))
        if built and built['state'] == 'done':
            for name in reported.get(key, ()):
                if name == home:
                    continue
                if not shapes.is_up(sites, name):
                    continue  # its Exec deletes it once back (reconcile)
                pending = latest.get((key, name, 'server.delete'))
                if pending and pending['state'] not in ENDED:
                    continue
                if pending and pending['created_at'] > built['updated_at']:
                    continue
                out.append(
                    _delete(name, placed['appliance_id'], placed['member'])
                )
        elif built and built['state'] == 'failed':
            result = built.get('result') or {}
            if result.get('transient') and (
                now - built['updated_at'] >= retry_after
            ):
                out.append(
                    _create(
                        home,
                        placed['appliance_id'],
                        placed['member'],
                        placed.get('info') or {},
                    )
                )
    return out


def releases(kb: dict[str, Any]) -> list:
    """The held creates whose image has arrived.

    Derived from the KB alone, so a new leader releases what the old
    one held: a member placed ``awaiting_image`` whose image is now at
    its site, with no server there and no create asked there since it
    was placed.
    """
    monitoring = kb.get('monitoring', {})
    sites = kb.get('sites', {})
    # (member key, site) -> when a create was last asked there.
    since: dict[tuple[str, str], float] = {}
    for action in kb.get('actions', {}).values():
        if action['kind'] == 'server.create':
            p = action.get('params') or {}
            slot = (
                '%s/%s' % (p.get('appliance_id'), p.get('member')),
                action['site'],
            )
            since[slot] = max(since.get(slot, 0.0), action['created_at'])
    by_image = imageview.copies(kb)
    out = []
    for key in sorted(kb.get('placements', {})):
        placed = kb['placements'][key]
        info = shapes.placement_info(placed)
        home = placed['site']
        if not info.get('awaiting_image'):
            continue
        if not shapes.is_up(sites, home):
            continue
        if since.get((key, home), -1.0) >= placed.get('placed_at', 0.0):
            continue
        if key in shapes.servers(shapes.summary(monitoring, home)):
            continue
        if imageview.present(kb, home, info['image'], by_image):
            out.append(
                _create(home, placed['appliance_id'], placed['member'], info)
            )
    return out
