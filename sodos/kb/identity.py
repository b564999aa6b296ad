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

"""Appliers of the identity commands: the federation's desired identity.

Deterministic like every applier (:mod:`sodos.kb.state`): the ids, the
encrypted passwords and the timestamps come in the command. A put of an
object that exists replaces its attributes (idempotent); a name already
taken by another object, a reference to a missing one, or a delete of a
domain that still holds objects are refused with the reason. Deleting a
project, user or group deletes the memberships and role assignments that
name it, as Keystone does.

Every change of the desired state bumps ``revision``, which each site's
Exec watches; the ID map (``identity.map``, written by a site about its
own ids) does not.
"""

from __future__ import annotations

from typing import Any

from sodos.identity import model
from sodos.kb import state

Result = dict[str, Any]
_ID_ARG = {
    'domains': 'domain_id',
    'projects': 'project_id',
    'users': 'user_id',
    'groups': 'group_id',
}


def _ident(data: dict[str, Any]) -> dict[str, Any]:
    ident = data.setdefault('identity', {})
    for part in model.KINDS + model.LINKS + ('idmap',):
        ident.setdefault(part, {})
    ident.setdefault('revision', 0)
    return ident


def _changed(ident: dict[str, Any]) -> int:
    ident['revision'] += 1
    return int(ident['revision'])


def _put(kind: str) -> state.Applier:
    def apply(data: dict[str, Any], cmd: dict[str, Any]) -> Result:
        ident = _ident(data)
        args = dict(cmd['args'])
        gid = args.pop(_ID_ARG[kind])
        try:
            model.check_put(ident, kind, gid, args)
        except model.InvalidIdentity as exc:
            raise state.Rejected(str(exc)) from None
        old = ident[kind].get(gid)
        obj = {'name': args['name'], 'description': args.get('description')}
        if kind != 'domains':
            obj['domain_id'] = args['domain_id']
        if kind != 'groups':
            obj['enabled'] = args.get('enabled', True)
        if kind == 'users':
            obj['email'] = args.get('email')
            obj['password'] = _password(old, args.get('password'))
        obj['created_at'] = old['created_at'] if old else cmd['ts']
        obj['updated_at'] = cmd['ts']
        if old is not None and _same(old, obj):
            return {'created': False, 'changed': False}
        ident[kind][gid] = obj
        return {
            'created': old is None,
            'changed': True,
            'revision': _changed(ident),
        }

    return apply


def _same(old: dict[str, Any], new: dict[str, Any]) -> bool:
    stamps = ('created_at', 'updated_at')
    return {k: v for k, v in old.items() if k not in stamps} == {
        k: v for k, v in new.items() if k not in stamps
    }


def _password(
    old: dict[str, Any] | None, given: dict[str, Any] | None
) -> dict[str, Any] | None:
    """A new password gets the next version; none given keeps the old."""
    before = (old or {}).get('password')
    if given is None:
        return before
    version = int(before['version']) + 1 if before else 1
    return dict(given, version=version)


def _delete(kind: str) -> state.Applier:
    def apply(data: dict[str, Any], cmd: dict[str, Any]) -> Result:
        ident = _ident(data)
        gid = cmd['args'][_ID_ARG[kind]]
        if gid not in ident[kind]:
            return {'deleted': False}
        found = model.dependents(ident, kind, gid)
        if kind == 'domains':
            held = {k: v for k, v in found.items() if k in model.KINDS}
            if held:
                raise state.Rejected(
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
            'revision': _changed(ident),
        }

    return apply


for _kind in model.KINDS:
    _single = model.SINGULAR[_kind]
    state.applier('identity.%s.put' % _single)(_put(_kind))
    state.applier('identity.%s.delete' % _single)(_delete(_kind))


def _link_key(kind: str, args: dict[str, Any]) -> str:
    if kind == 'memberships':
        return model.membership_key(args['group_id'], args['user_id'])
    return model.assignment_key(args)


def _link_put(kind: str) -> state.Applier:
    def apply(data: dict[str, Any], cmd: dict[str, Any]) -> Result:
        ident = _ident(data)
        args = cmd['args']
        try:
            model.check_link(ident, kind, args)
        except model.InvalidIdentity as exc:
            raise state.Rejected(str(exc)) from None
        key = _link_key(kind, args)
        if key in ident[kind]:
            return {'created': False, 'key': key}
        ident[kind][key] = dict(args, created_at=cmd['ts'])
        return {'created': True, 'key': key, 'revision': _changed(ident)}

    return apply


def _link_delete(kind: str) -> state.Applier:
    def apply(data: dict[str, Any], cmd: dict[str, Any]) -> Result:
        ident = _ident(data)
        key = _link_key(kind, cmd['args'])
        if ident[kind].pop(key, None) is None:
            return {'deleted': False, 'key': key}
        return {'deleted': True, 'key': key, 'revision': _changed(ident)}

    return apply


for _kind in model.LINKS:
    _single = model.SINGULAR[_kind]
    state.applier('identity.%s.put' % _single)(_link_put(_kind))
    state.applier('identity.%s.delete' % _single)(_link_delete(_kind))


@state.applier('identity.map')
def _identity_map(data: dict[str, Any], cmd: dict[str, Any]) -> Result:
    """A site's own ids for the KB's objects, as its Exec found them.

    Entries of objects the KB no longer holds are kept until the site
    drops them: its Exec deletes them at the site first.
    """
    args = cmd['args']
    ident = _ident(data)
    if args['site'] not in data['sites']:
        raise state.Rejected('unknown site %r' % args['site'])
    if args['site'] != cmd['origin']:
        raise state.Rejected(
            'site %s cannot write the ID map of site %s'
            % (cmd['origin'], args['site'])
        )
    site_map = ident['idmap'].setdefault(args['site'], {})
    for entry in args.get('set', []):
        site_map.setdefault(entry['kind'], {})[entry['id']] = entry['local_id']
    for entry in args.get('drop', []):
        site_map.get(entry['kind'], {}).pop(entry['id'], None)
    return {}
