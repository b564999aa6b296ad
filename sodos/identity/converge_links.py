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

"""What to change at a site so that its memberships and role
assignments match the KB, and its part of the KB's identity map.

The second half of :mod:`sodos.identity.converge`, run once the objects
the links join exist: a link whose user, group, project, domain or role
the site lacks waits for the next pass.
"""

from __future__ import annotations

from typing import Any

from sodos.identity import converge
from sodos.identity import model


def plan_memberships(
    desired: dict[str, Any],
    observed: converge.Observed,
    ids: dict[str, dict[str, str]],
    protected: dict[str, set[str]],
) -> list[converge.Op]:
    """Adds and removes in the groups sodos manages."""
    want: dict[tuple[str, str], str] = {}
    for key, link in sorted(desired['memberships'].items()):
        group = ids['groups'].get(link['group_id'])
        user = ids['users'].get(link['user_id'])
        if group and user:
            want[(group, user)] = key
    ops = [
        converge.Op(
            'add',
            'memberships',
            'memberships/' + key,
            member=pair,
            what=_member_label(pair, observed),
        )
        for pair, key in sorted(want.items())
        if pair not in observed.memberships
    ]
    managed = set(ids['groups'].values())
    for pair in sorted(observed.memberships - set(want)):
        name = observed.users.get(pair[1], {}).get('name')
        if pair[0] not in managed or name in protected['users']:
            continue
        ops.append(
            converge.Op(
                'remove',
                'memberships',
                'memberships/%s/%s' % pair,
                member=pair,
                what=_member_label(pair, observed),
            )
        )
    return ops


def _member_label(pair: tuple[str, str], observed: converge.Observed) -> str:
    group = observed.groups.get(pair[0], {}).get('name', pair[0])
    user = observed.users.get(pair[1], {}).get('name', pair[1])
    return '%s in group %s' % (user, group)


def plan_assignments(
    desired: dict[str, Any],
    observed: converge.Observed,
    ids: dict[str, dict[str, str]],
    protected: dict[str, set[str]],
) -> list[converge.Op]:
    """Grants missing at the site; revokes of extra ones on KB targets.

    A role assignment on a project or domain the KB manages that the KB
    does not hold is revoked, unless its actor is protected. Assignments
    on the site's own projects are the site's business.
    """
    want: dict[converge.Grant, str] = {}
    for key, link in sorted(desired['assignments'].items()):
        grant = local_grant(link, ids)
        if grant is not None:
            want[grant] = key
    ops = [
        converge.Op(
            'grant',
            'assignments',
            'assignments/' + key,
            grant=grant,
            what=_grant_label(grant, observed),
        )
        for grant, key in sorted(want.items())
        if grant not in observed.assignments
    ]
    targets = {
        'project': set(ids['projects'].values()),
        'domain': set(ids['domains'].values()),
    }
    for grant in sorted(observed.assignments - set(want)):
        role, actor_type, actor, target_type, target = grant
        if target not in targets.get(target_type, set()):
            continue
        if actor_type == 'user':
            name = observed.users.get(actor, {}).get('name')
            if name in protected['users']:
                continue
        ops.append(
            converge.Op(
                'revoke',
                'assignments',
                'assignments/%s/%s:%s/%s:%s' % grant,
                grant=grant,
                what=_grant_label(grant, observed),
            )
        )
    return ops


def local_grant(
    link: dict[str, Any], ids: dict[str, dict[str, str]]
) -> converge.Grant | None:
    actor = ids[link['actor_type'] + 's'].get(link['actor_id'])
    target_id = link['target_id']
    if link['target_type'] == 'domain' and target_id == model.DEFAULT_DOMAIN:
        target: str | None = target_id
    else:
        target = ids[link['target_type'] + 's'].get(target_id)
    if actor is None or target is None:
        return None
    return (
        link['role'],
        link['actor_type'],
        actor,
        link['target_type'],
        target,
    )


def _grant_label(grant: converge.Grant, observed: converge.Observed) -> str:
    role, actor_type, actor, target_type, target = grant
    actor_name = getattr(observed, actor_type + 's').get(actor, {})
    target_name = getattr(observed, target_type + 's').get(target, {})
    return '%s to %s %s on %s %s' % (
        role,
        actor_type,
        actor_name.get('name', actor),
        target_type,
        target_name.get('name', target),
    )


def site_map(ids: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """The ID map entry of a site: domains are the same everywhere."""
    return {kind: dict(ids[kind]) for kind in model.KINDS if kind != 'domains'}


def map_changes(
    current: dict[str, dict[str, str]], wanted: dict[str, dict[str, str]]
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(entries to set, entries to drop) to turn ``current`` into
    ``wanted``."""
    sets, drops = [], []
    for kind in sorted(set(current) | set(wanted)):
        have, want = current.get(kind, {}), wanted.get(kind, {})
        for gid in sorted(want):
            if have.get(gid) != want[gid]:
                sets.append({'kind': kind, 'id': gid, 'local_id': want[gid]})
        for gid in sorted(set(have) - set(want)):
            drops.append({'kind': kind, 'id': gid})
    return sets, drops
