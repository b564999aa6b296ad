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

"""The identity commands: the federation's desired identity.

Deterministic like every applier (:mod:`sodos.kb.sections.base`): the
ids, the encrypted passwords and the timestamps come in the command. A
put of an object that exists replaces its attributes (idempotent); a
name already taken by another object, a reference to a missing one, or a
delete of a domain that still holds objects are refused with the reason.
Deleting a project, user or group deletes the memberships and role
assignments that name it, as Keystone does.

Every change of the desired state bumps ``revision``, which each site's
Exec watches; the ID map (``identity.map``, written by a site about its
own ids) and adoption requests (:mod:`sodos.kb.sections.adoption`) do
not.
"""

from __future__ import annotations

from typing import Any

from sodos.identity import model
from sodos.identity import schemas as ischemas
from sodos.kb import schemas
from sodos.kb.sections import base

COMMANDS = base.Family()
_ID_ARG = {
    'domains': 'domain_id',
    'projects': 'project_id',
    'users': 'user_id',
    'groups': 'group_id',
}

# The arguments of identity.<kind>.put, one per kind of object.
_PUT: dict[str, dict[str, Any]] = {
    'domains': schemas.obj(
        ['domain_id', 'name'],
        domain_id=ischemas.GLOBAL_ID,
        name=ischemas.ENTITY_NAME,
        description=ischemas.DESCRIPTION,
        enabled={'type': 'boolean'},
    ),
    'projects': schemas.obj(
        ['project_id', 'name', 'domain_id'],
        project_id=ischemas.GLOBAL_ID,
        name=ischemas.ENTITY_NAME,
        domain_id=ischemas.DOMAIN_REF,
        description=ischemas.DESCRIPTION,
        enabled={'type': 'boolean'},
    ),
    'users': schemas.obj(
        ['user_id', 'name', 'domain_id'],
        user_id=ischemas.GLOBAL_ID,
        name=ischemas.ENTITY_NAME,
        domain_id=ischemas.DOMAIN_REF,
        description=ischemas.DESCRIPTION,
        email=ischemas.EMAIL,
        enabled={'type': 'boolean'},
        password=ischemas.PASSWORD,
    ),
    'groups': schemas.obj(
        ['group_id', 'name', 'domain_id'],
        group_id=ischemas.GLOBAL_ID,
        name=ischemas.ENTITY_NAME,
        domain_id=ischemas.DOMAIN_REF,
        description=ischemas.DESCRIPTION,
    ),
}
# The arguments of identity.<link>.put and .delete: what names the link.
_LINK: dict[str, dict[str, Any]] = {
    'memberships': schemas.obj(
        ['group_id', 'user_id'],
        group_id=ischemas.GLOBAL_ID,
        user_id=ischemas.GLOBAL_ID,
    ),
    'assignments': schemas.obj(
        ['role', 'actor_type', 'actor_id', 'target_type', 'target_id'],
        role=ischemas.ROLE_NAME,
        actor_type={'enum': ['user', 'group']},
        actor_id=ischemas.GLOBAL_ID,
        target_type={'enum': ['project', 'domain']},
        target_id=ischemas.DOMAIN_REF,
    ),
}
_MAP_ENTRIES: dict[str, Any] = {
    'type': 'array',
    'maxItems': 1000,
    'items': schemas.obj(
        ['kind', 'id', 'local_id'],
        kind=ischemas.KIND,
        id=ischemas.GLOBAL_ID,
        local_id=ischemas.LOCAL_ID,
    ),
}


def ident_section(data: dict[str, Any]) -> dict[str, Any]:
    """The identity section, every part present (a state snapshotted
    before a part existed lacks it)."""
    ident = data.setdefault('identity', {})
    for part in model.PARTS:
        ident.setdefault(part, {})
    ident.setdefault('revision', 0)
    return ident


def changed(ident: dict[str, Any]) -> int:
    """Bump the revision of the desired state, which each Exec watches."""
    ident['revision'] += 1
    return int(ident['revision'])


def _put(kind: str) -> base.Applier:
    def apply(data: dict[str, Any], cmd: dict[str, Any]) -> base.Result:
        ident = ident_section(data)
        args = dict(cmd['args'])
        gid = args.pop(_ID_ARG[kind])
        try:
            model.check_put(ident, kind, gid, args)
        except model.InvalidIdentity as exc:
            raise base.Rejected(str(exc)) from None
        return store(ident, kind, gid, args, cmd['ts'])

    return apply


def store(
    ident: dict[str, Any],
    kind: str,
    gid: str,
    args: dict[str, Any],
    ts: float,
) -> base.Result:
    """Put object ``gid`` as ``args`` say (checked by the caller)."""
    old = ident[kind].get(gid)
    obj = {'name': args['name'], 'description': args.get('description')}
    if kind != 'domains':
        obj['domain_id'] = args['domain_id']
    if kind != 'groups':
        obj['enabled'] = args.get('enabled', True)
    if kind == 'users':
        obj['email'] = args.get('email')
        obj['password'] = _password(old, args.get('password'), ts)
    obj['created_at'] = old['created_at'] if old else ts
    obj['updated_at'] = ts
    if old is not None and _same(old, obj):
        return {'created': False, 'changed': False}
    ident[kind][gid] = obj
    return {
        'created': old is None,
        'changed': True,
        'revision': changed(ident),
    }


def _same(old: dict[str, Any], new: dict[str, Any]) -> bool:
    stamps = ('created_at', 'updated_at')
    return {k: v for k, v in old.items() if k not in stamps} == {
        k: v for k, v in new.items() if k not in stamps
    }


def _password(
    old: dict[str, Any] | None, given: dict[str, Any] | None, ts: float
) -> dict[str, Any] | None:
    """A new password gets the next version and the time it was set (a
    site that changes it revokes the tokens made before); none given
    keeps the old."""
    before = (old or {}).get('password')
    if given is None:
        return before
    version = int(before['version']) + 1 if before else 1
    return dict(given, version=version, set_at=ts)


def _delete(kind: str) -> base.Applier:
    def apply(data: dict[str, Any], cmd: dict[str, Any]) -> base.Result:
        ident = ident_section(data)
        gid = cmd['args'][_ID_ARG[kind]]
        if gid not in ident[kind]:
            return {'deleted': False}
        found = model.dependents(ident, kind, gid)
        if kind == 'domains':
            held = {k: v for k, v in found.items() if k in model.KINDS}
            if held:
                raise base.Rejected(
                    'domain %s still holds %s: delete them first'
                    % (
                        ident[kind][gid]['name'],
                        ', '.join(
                            '%d %s' % (len(v), k)
                            for k, v in sorted(held.items())
                        ),
                    )
                )
        for part in model.LINKS:
            for key in found.get(part, []):
                del ident[part][key]
        del ident[kind][gid]
        return {
            'deleted': True,
            'cascaded': sum(len(found.get(p, [])) for p in model.LINKS),
            'revision': changed(ident),
        }

    return apply


for _kind in model.KINDS:
    _single = model.SINGULAR[_kind]
    COMMANDS.declare('identity.%s.put' % _single, _PUT[_kind], _put(_kind))
    COMMANDS.declare(
        'identity.%s.delete' % _single,
        schemas.obj([_ID_ARG[_kind]], **{_ID_ARG[_kind]: ischemas.GLOBAL_ID}),
        _delete(_kind),
    )


def _link_key(kind: str, args: dict[str, Any]) -> str:
    if kind == 'memberships':
        return model.membership_key(args['group_id'], args['user_id'])
    return model.assignment_key(args)


def _link_put(kind: str) -> base.Applier:
    def apply(data: dict[str, Any], cmd: dict[str, Any]) -> base.Result:
        ident = ident_section(data)
        args = cmd['args']
        try:
            model.check_link(ident, kind, args)
        except model.InvalidIdentity as exc:
            raise base.Rejected(str(exc)) from None
        key = _link_key(kind, args)
        if key in ident[kind]:
            return {'created': False, 'key': key}
        ident[kind][key] = dict(args, created_at=cmd['ts'])
        return {'created': True, 'key': key, 'revision': changed(ident)}

    return apply


def _link_delete(kind: str) -> base.Applier:
    def apply(data: dict[str, Any], cmd: dict[str, Any]) -> base.Result:
        ident = ident_section(data)
        key = _link_key(kind, cmd['args'])
        if ident[kind].pop(key, None) is None:
            return {'deleted': False, 'key': key}
        return {'deleted': True, 'key': key, 'revision': changed(ident)}

    return apply


for _kind in model.LINKS:
    _single = model.SINGULAR[_kind]
    COMMANDS.declare(
        'identity.%s.put' % _single, _LINK[_kind], _link_put(_kind)
    )
    COMMANDS.declare(
        'identity.%s.delete' % _single, _LINK[_kind], _link_delete(_kind)
    )


# Written by a site's Exec: the ids its Keystone gave.
@COMMANDS.command(
    'identity.map',
    schemas.obj(
        ['site'],
        site=ischemas.SITE,
        set=_MAP_ENTRIES,
        drop={
            'type': 'array',
            'maxItems': 1000,
            'items': schemas.obj(
                ['kind', 'id'], kind=ischemas.KIND, id=ischemas.GLOBAL_ID
            ),
        },
    ),
)
def _identity_map(data: dict[str, Any], cmd: dict[str, Any]) -> base.Result:
    """A site's own ids for the KB's objects, as its Exec found them.

    Entries of objects the KB no longer holds are kept until the site
    drops them: its Exec deletes them at the site first.
    """
    args = cmd['args']
    ident = ident_section(data)
    base.own_site(data, cmd, 'write the ID map of')
    site_map = ident['idmap'].setdefault(args['site'], {})
    for entry in args.get('set', []):
        site_map.setdefault(entry['kind'], {})[entry['id']] = entry['local_id']
    for entry in args.get('drop', []):
        site_map.get(entry['kind'], {}).pop(entry['id'], None)
    return {}
