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
own ids) and adoption requests (``identity.adopt``, see
:mod:`sodos.identity.adoption`) do not.
"""

from __future__ import annotations

from typing import Any

from sodos.identity import adoption
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
    for part in model.PARTS:
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
        return _store(ident, kind, gid, args, cmd['ts'])

    return apply


def _store(
    ident: dict[str, Any],
    kind: str,
    gid: str,
    args: dict[str, Any],
    ts: float,
) -> Result:
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
        'revision': _changed(ident),
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
    state.own_site(data, cmd, 'write the ID map of')
    site_map = ident['idmap'].setdefault(args['site'], {})
    for entry in args.get('set', []):
        site_map.setdefault(entry['kind'], {})[entry['id']] = entry['local_id']
    for entry in args.get('drop', []):
        site_map.get(entry['kind'], {}).pop(entry['id'], None)
    return {}


# -- adoption (sodos.identity.adoption) --------------------------------------


@state.applier('identity.adopt')
def _adopt(data: dict[str, Any], cmd: dict[str, Any]) -> Result:
    """An operator's request: the named site's Exec carries it out.

    Not a change of the desired state (no revision): the site's Exec
    looks for its pending requests at every look at the KB.
    """
    args = cmd['args']
    ident = _ident(data)
    rid = args['request_id']
    if rid in ident['adoptions']:
        return {'created': False}
    site = data['sites'].get(args['site'])
    if site is None:
        raise state.Rejected('unknown site %r' % args['site'])
    if site.get('status') == 'left':
        raise state.Rejected('site %s has left the federation' % args['site'])
    kind = args['kind']
    try:
        model.check_domain(ident, args['domain_id'])
    except model.InvalidIdentity as exc:
        raise state.Rejected(str(exc)) from None
    other = model.find(ident, kind, args['name'], args['domain_id'])
    if other is not None:
        raise state.Rejected(
            'the federation has a %s %r in domain %s already (id %s): '
            'there is nothing to adopt'
            % (model.SINGULAR[kind], args['name'], args['domain_id'], other)
        )
    waiting = sum(
        1 for r in ident['adoptions'].values() if r['state'] == 'pending'
    )
    if waiting >= adoption.PENDING_MAX:
        raise state.Rejected(
            '%d adoptions are pending already: wait for their sites to '
            'carry them out' % waiting
        )
    ident['adoptions'][rid] = {
        'kind': kind,
        'name': args['name'],
        'domain_id': args['domain_id'],
        'site': args['site'],
        'requested_by': args['requested_by'],
        'state': 'pending',
        'reason': None,
        'note': None,
        'id': None,
        'local_id': None,
        'created_at': cmd['ts'],
        'finished_at': None,
    }
    return {'created': True}


@state.applier('identity.adoption.finish')
def _adoption_finish(data: dict[str, Any], cmd: dict[str, Any]) -> Result:
    """The site's answer: failed with a reason, or done.

    Done puts the object (the site's attributes) and its ID map entry in
    one command, so that no state has one without the other. The KB
    checks again what the site checked on an older copy of it: a name
    or id taken since makes the request fail, with the reason.
    """
    args = cmd['args']
    ident = _ident(data)
    req = ident['adoptions'].get(args['request_id'])
    if req is None:
        raise state.Rejected(
            'unknown adoption request %s' % args['request_id']
        )
    if cmd['origin'] != req['site']:
        raise state.Rejected(
            'site %s cannot answer an adoption request of site %s'
            % (cmd['origin'], req['site'])
        )
    result: Result = {'changed': req['state'] == 'pending'}
    if not result['changed']:
        # A retry, or a second answer: the first one stands.
        return _adoption_result(result, req)
    if args['outcome'] == 'done':
        if 'id' not in args or 'local_id' not in args:
            raise state.Rejected('a done adoption names id and local_id')
        reason = _adoption_refused(ident, req, args)
        if reason is None:
            _adoption_done(ident, req, args, cmd['ts'])
            result['revision'] = ident['revision']
        else:
            req.update(state='failed', reason=reason)
    else:
        req.update(state='failed', reason=args.get('reason') or 'failed')
    req['finished_at'] = cmd['ts']
    for old in adoption.finished_to_drop(ident['adoptions']):
        del ident['adoptions'][old]
    return _adoption_result(result, req)


def _adoption_result(result: Result, req: dict[str, Any]) -> Result:
    result.update(
        state=req['state'],
        reason=req['reason'],
        id=req['id'],
        local_id=req['local_id'],
    )
    return result


def _adoption_refused(
    ident: dict[str, Any], req: dict[str, Any], args: dict[str, Any]
) -> str | None:
    kind, gid = req['kind'], args['id']
    single = model.SINGULAR[kind]
    if gid in ident[kind]:
        return 'the federation has a %s with the id %s already' % (single, gid)
    attrs = args.get('attrs', {})
    if 'email' in attrs and kind != 'users':
        raise state.Rejected('only users have an email')
    if args.get('assignments') and kind != 'projects':
        raise state.Rejected('only a project comes with role assignments')
    if args.get('members') and kind != 'groups':
        raise state.Rejected('only a group comes with members')
    try:
        model.check_put(
            ident,
            kind,
            gid,
            {'name': req['name'], 'domain_id': req['domain_id']},
        )
    except model.InvalidIdentity as exc:
        return str(exc)
    return None


def _adoption_done(
    ident: dict[str, Any],
    req: dict[str, Any],
    args: dict[str, Any],
    ts: float,
) -> None:
    kind, gid = req['kind'], args['id']
    put = dict(
        args.get('attrs', {}), name=req['name'], domain_id=req['domain_id']
    )
    _store(ident, kind, gid, put, ts)
    site_map = ident['idmap'].setdefault(req['site'], {})
    site_map.setdefault(kind, {})[gid] = args['local_id']
    # Links to objects deleted since the site looked are left out: they
    # would have gone with them.
    for grant in args.get('assignments', []):
        link = dict(grant, target_type='project', target_id=gid)
        if link['actor_id'] in ident[link['actor_type'] + 's']:
            link['created_at'] = ts
            ident['assignments'][model.assignment_key(link)] = link
    for user in args.get('members', []):
        if user in ident['users']:
            ident['memberships'][model.membership_key(gid, user)] = {
                'group_id': gid,
                'user_id': user,
                'created_at': ts,
            }
    req.update(
        state='done',
        id=gid,
        local_id=args['local_id'],
        note=args.get('note'),
    )
