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

"""Adoption: a project, user or group one site holds becomes federation's.

An operator asks (``identity.adopt``: kind, name, domain, site); the
request waits in the KB's ``identity.adoptions`` until the named site's
Exec, the only code that reads that site's Keystone, decides
(:func:`decide`) and answers with one ``identity.adoption.finish``
command. When done, that command puts the object in the desired state
with the site's attributes and records the site's id in the ID map, all
at once; the Exec then marks the object at its site (``sodos_id``) and
every site converges as for any federation object:

* ``[identity]mode = shared``: the object's id at the site becomes its
  global id, so every site gets it under the same id;
* ``api``: it gets a new global id; the adopting site keeps its own id
  (in the ID map), the other sites make theirs.

Links: once the federation's, a project keeps only the role
assignments the KB holds and a group only the members it holds. Those
whose other end is a federation object already (a federation user or
group given a role on the project, a federation user in the group) are
adopted with it; any other refuses the adoption with their names (adopt
users and groups first, then the projects and groups they are linked
to). A user's own links (its roles on the site's own projects, its
groups) stay as the site has them and are not the federation's.

Not adopted: a user's password. The KB holds passwords encrypted, never
hashes: the user keeps its password at its site and has none elsewhere
until one is set through the federation, which then replaces it at
every site.

Everything here is pure, for the Exec and the tests alike.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from sodos.identity import converge
from sodos.identity import model
from sodos.identity import schemas

KINDS = ('projects', 'users', 'groups')
STATES = ('pending', 'done', 'failed')
# Requests the KB keeps once finished (the oldest dropped first), and
# the most that may wait at once: the section stays small.
FINISHED_KEPT = 100
PENDING_MAX = 100

_GLOBAL_ID = re.compile(schemas.GLOBAL_ID['pattern'])
_LOCAL_ID = re.compile(schemas.LOCAL_ID['pattern'])
_EMAIL = re.compile(schemas.EMAIL['pattern'])
_ROLE = re.compile(schemas.ROLE_NAME['pattern'])
PASSWORD_NOTE = (
    'the user keeps its password at site %s only: it has no federation '
    'password (set one through the federation to log in at every site)'
)


def pending(ident: dict[str, Any], site: str) -> list[tuple[str, Any]]:
    """(request id, request) of ``site``'s pending adoptions, oldest
    first."""
    found = [
        (rid, req)
        for rid, req in ident.get('adoptions', {}).items()
        if req['site'] == site and req['state'] == 'pending'
    ]
    return sorted(found, key=lambda item: (item[1]['created_at'], item[0]))


def finished_to_drop(adoptions: dict[str, Any]) -> list[str]:
    """The ids of the oldest finished requests beyond FINISHED_KEPT."""
    finished = sorted(
        (req.get('finished_at') or 0, rid)
        for rid, req in adoptions.items()
        if req['state'] != 'pending'
    )
    excess = len(finished) - FINISHED_KEPT
    return [rid for _when, rid in finished[:excess]] if excess > 0 else []


def _where(request: dict[str, Any]) -> str:
    return '%s %r (domain %s) at site %s' % (
        model.SINGULAR[request['kind']],
        request['name'],
        request['domain_id'],
        request['site'],
    )


class _Refused(Exception):
    """Why the request cannot be carried out (said after its object)."""


def held(request: dict[str, Any], observed: converge.Observed) -> str | None:
    """The site's id of the object ``request`` names, None if none."""
    for lid, obj in sorted(getattr(observed, request['kind']).items()):
        if (
            obj.get('name') == request['name']
            and obj.get('domain_id') == request['domain_id']
        ):
            return lid
    return None


def decide(
    request_id: str,
    request: dict[str, Any],
    observed: converge.Observed,
    desired: dict[str, Any],
    protected: dict[str, set[str]],
    same_ids: bool,
    members: set[str] | None = None,
) -> dict[str, Any]:
    """The ``identity.adoption.finish`` args for ``request``, from the
    site's identity (``observed``, with ``members``: the site's ids of
    the users in the group a group request names) and the KB's
    (``desired``)."""
    try:
        lid = _check(request, observed, desired, protected)
        gid = _global_id(request, lid, desired, same_ids)
        links = _links(request, lid, observed, desired, protected, members)
    except _Refused as exc:
        return {
            'request_id': request_id,
            'outcome': 'failed',
            'reason': ('%s: %s' % (_where(request), exc))[:1024],
        }
    attrs, dropped = _attributes(request['kind'], _obj(request, lid, observed))
    args: dict[str, Any] = dict(
        links,
        request_id=request_id,
        outcome='done',
        id=gid,
        local_id=lid,
        attrs=attrs,
    )
    notes = []
    if dropped:
        notes.append(
            'not copied (the federation cannot hold them as they are): %s'
            % ', '.join(dropped)
        )
    if request['kind'] == 'users':
        notes.append(PASSWORD_NOTE % request['site'])
    if notes:
        args['note'] = '; '.join(notes)[:1024]
    return args


def _obj(
    request: dict[str, Any], lid: str, observed: converge.Observed
) -> dict[str, Any]:
    found: dict[str, Any] = getattr(observed, request['kind'])[lid]
    return found


def _check(
    request: dict[str, Any],
    observed: converge.Observed,
    desired: dict[str, Any],
    protected: dict[str, set[str]],
) -> str:
    """The site's id of the object, if it may be adopted."""
    kind, name = request['kind'], request['name']
    single = model.SINGULAR[kind]
    if name in protected.get(kind, set()):
        raise _Refused(
            'protected ([identity]protected_%s): sodos does not manage it'
            % kind
        )
    lid = held(request, observed)
    if lid is None:
        raise _Refused('the site has no such %s' % single)
    marker = _obj(request, lid, observed).get(model.MARKER)
    if marker:
        raise _Refused(
            'it is managed by sodos already (%s %s)' % (model.MARKER, marker)
        )
    other = model.find(desired, kind, name, request['domain_id'])
    if other is not None:
        raise _Refused(
            'the federation has a %s of that name already (id %s)'
            % (single, other)
        )
    return lid


def _global_id(
    request: dict[str, Any], lid: str, desired: dict[str, Any], same_ids: bool
) -> str:
    """Shared identity: the site's id; else a new one."""
    kind = request['kind']
    if not same_ids:
        if not _LOCAL_ID.match(lid):
            raise _Refused('its id %r cannot be kept in the ID map' % lid)
        return uuid.uuid4().hex
    if not _GLOBAL_ID.match(lid):
        raise _Refused(
            'its id %s is not 32 hexadecimal digits: shared identity cannot '
            'give it to every site' % lid
        )
    if lid in desired[kind]:
        raise _Refused(
            'its id %s is a federation %s already'
            % (lid, model.SINGULAR[kind])
        )
    return lid


def _federation_id(
    kind: str,
    lid: str,
    observed: converge.Observed,
    desired: dict[str, Any],
    site: str,
) -> str | None:
    """The global id of the site's object ``lid``, None if it is not a
    federation object."""
    marker = getattr(observed, kind).get(lid, {}).get(model.MARKER)
    if marker in desired[kind]:
        return str(marker)
    mapped = desired['idmap'].get(site, {}).get(kind, {})
    for gid, local in sorted(mapped.items()):
        if local == lid and gid in desired[kind]:
            return str(gid)
    return None


def _links(
    request: dict[str, Any],
    lid: str,
    observed: converge.Observed,
    desired: dict[str, Any],
    protected: dict[str, set[str]],
    members: set[str] | None,
) -> dict[str, list[Any]]:
    """The links of the object that come with it.

    Once the federation's, a project keeps only the role assignments the
    KB holds, and a group only the members it holds (the others are
    revoked or removed at the next pass, as hand edits are): those whose
    other end is a federation object are adopted with it; any other
    (but a protected user's) refuses the adoption, rather than cut
    people off. A user's own links stay at the site, untouched: sodos
    manages links on federation projects and groups only.
    """
    site = request['site']
    kept: list[Any] = []
    blocked: list[str] = []
    if request['kind'] == 'projects':
        for grant in sorted(observed.assignments):
            role, actor_type, actor, target_type, target = grant
            if target_type != 'project' or target != lid:
                continue
            name = (
                getattr(observed, actor_type + 's')
                .get(actor, {})
                .get('name', actor)
            )
            if actor_type == 'user' and name in protected.get('users', ()):
                continue
            gid = _federation_id(
                actor_type + 's', actor, observed, desired, site
            )
            if gid is None or not _ROLE.match(role):
                blocked.append('%s to %s %s' % (role, actor_type, name))
            else:
                kept.append(
                    {'role': role, 'actor_type': actor_type, 'actor_id': gid}
                )
        if blocked:
            raise _Refused(
                'its role assignments at the site would be revoked: %s '
                '(adopt those users and groups first, or remove the '
                'assignments)' % _some(blocked)
            )
        return {'assignments': kept} if kept else {}
    if request['kind'] == 'groups':
        for user in sorted(members or ()):
            name = observed.users.get(user, {}).get('name', user)
            if name in protected.get('users', ()):
                continue
            gid = _federation_id('users', user, observed, desired, site)
            if gid is None:
                blocked.append(name)
            else:
                kept.append(gid)
        if blocked:
            raise _Refused(
                'its members at the site would be taken out of it: %s '
                '(adopt those users first, or take them out)' % _some(blocked)
            )
        return {'members': kept} if kept else {}
    return {}


def _some(names: list[str], most: int = 8) -> str:
    text = ', '.join(names[:most])
    if len(names) > most:
        text += ' and %d more' % (len(names) - most)
    return text


def _attributes(
    kind: str, obj: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """(the attributes the KB takes, the names of those it cannot)."""
    attrs: dict[str, Any] = {}
    dropped: list[str] = []
    description = obj.get('description')
    if isinstance(description, str) and description:
        if len(description) <= schemas.DESCRIPTION['maxLength']:
            attrs['description'] = description
        else:
            dropped.append('description')
    if kind != 'groups' and isinstance(obj.get('enabled'), bool):
        attrs['enabled'] = obj['enabled']
    email = obj.get('email')
    if kind == 'users' and isinstance(email, str) and email:
        if _EMAIL.match(email):
            attrs['email'] = email
        else:
            dropped.append('email')
    return attrs, dropped
