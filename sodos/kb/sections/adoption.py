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

"""Adoption of an object a site made alone into the federation's identity.

Asked by an operator (``identity.adopt``), carried out by the named
site's Exec, which alone reads its Keystone (:mod:`sodos.identity.adoption`),
and answered by it (``identity.adoption.finish``). Deterministic like
every applier (:mod:`sodos.kb.sections.base`).
"""

from __future__ import annotations

from typing import Any

from sodos.identity import adoption
from sodos.identity import model
from sodos.identity import schemas as ischemas
from sodos.kb import schemas
from sodos.kb.sections import base
from sodos.kb.sections import identity

COMMANDS = base.Family()


@COMMANDS.command(
    'identity.adopt',
    schemas.obj(
        ['request_id', 'kind', 'name', 'domain_id', 'site', 'requested_by'],
        request_id=ischemas.GLOBAL_ID,
        kind=ischemas.KIND,
        name=ischemas.ENTITY_NAME,
        domain_id=ischemas.DOMAIN_REF,
        site=ischemas.SITE,
        requested_by={'type': 'string', 'minLength': 1, 'maxLength': 255},
    ),
)
def _adopt(data: dict[str, Any], cmd: dict[str, Any]) -> base.Result:
    """An operator's request: the named site's Exec carries it out.

    Not a change of the desired state (no revision): the site's Exec
    looks for its pending requests at every look at the KB.
    """
    args = cmd['args']
    ident = identity.ident_section(data)
    rid = args['request_id']
    if rid in ident['adoptions']:
        return {'created': False}
    _check_request(data, ident, args)
    ident['adoptions'][rid] = {
        'kind': args['kind'],
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


def _check_request(
    data: dict[str, Any], ident: dict[str, Any], args: dict[str, Any]
) -> None:
    """Refuse a request the named site cannot carry out."""
    site = data['sites'].get(args['site'])
    if site is None:
        raise base.Rejected('unknown site %r' % args['site'])
    if site.get('status') == 'left':
        raise base.Rejected('site %s has left the federation' % args['site'])
    kind = args['kind']
    try:
        model.check_domain(ident, args['domain_id'])
    except model.InvalidIdentity as exc:
        raise base.Rejected(str(exc)) from None
    other = model.find(ident, kind, args['name'], args['domain_id'])
    if other is not None:
        raise base.Rejected(
            'the federation has a %s %r in domain %s already (id %s): '
            'there is nothing to adopt'
            % (model.SINGULAR[kind], args['name'], args['domain_id'], other)
        )
    waiting = sum(
        1 for r in ident['adoptions'].values() if r['state'] == 'pending'
    )
    if waiting >= adoption.PENDING_MAX:
        raise base.Rejected(
            '%d adoptions are pending already: wait for their sites to '
            'carry them out' % waiting
        )


@COMMANDS.command(
    'identity.adoption.finish',
    schemas.obj(
        ['request_id', 'outcome'],
        request_id=ischemas.GLOBAL_ID,
        outcome={'enum': ['done', 'failed']},
        # done: the object's global id, the site's id and the attributes
        # read at the site; failed: the reason.
        id=ischemas.GLOBAL_ID,
        local_id=ischemas.LOCAL_ID,
        attrs=schemas.obj(
            [],
            description=ischemas.DESCRIPTION,
            enabled={'type': 'boolean'},
            email=ischemas.EMAIL,
        ),
        # The links that come with it: on a project, roles of federation
        # users and groups; in a group, federation users.
        assignments={
            'type': 'array',
            'maxItems': 1000,
            'items': schemas.obj(
                ['role', 'actor_type', 'actor_id'],
                role=ischemas.ROLE_NAME,
                actor_type={'enum': ['user', 'group']},
                actor_id=ischemas.GLOBAL_ID,
            ),
        },
        members={
            'type': 'array',
            'maxItems': 1000,
            'items': ischemas.GLOBAL_ID,
        },
        reason=ischemas.ADOPTION_TEXT,
        note=ischemas.ADOPTION_TEXT,
    ),
)
def _adoption_finish(data: dict[str, Any], cmd: dict[str, Any]) -> base.Result:
    """The site's answer: failed with a reason, or done.

    Done puts the object (the site's attributes) and its ID map entry in
    one command, so that no state has one without the other. The KB
    checks again what the site checked on an older copy of it: a name
    or id taken since makes the request fail, with the reason.
    """
    args = cmd['args']
    ident = identity.ident_section(data)
    req = ident['adoptions'].get(args['request_id'])
    if req is None:
        raise base.Rejected('unknown adoption request %s' % args['request_id'])
    if cmd['origin'] != req['site']:
        raise base.Rejected(
            'site %s cannot answer an adoption request of site %s'
            % (cmd['origin'], req['site'])
        )
    result: base.Result = {'changed': req['state'] == 'pending'}
    if not result['changed']:
        # A retry, or a second answer: the first one stands.
        return _adoption_result(result, req)
    if args['outcome'] == 'done':
        if 'id' not in args or 'local_id' not in args:
            raise base.Rejected('a done adoption names id and local_id')
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


def _adoption_result(result: base.Result, req: dict[str, Any]) -> base.Result:
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
        raise base.Rejected('only users have an email')
    if args.get('assignments') and kind != 'projects':
        raise base.Rejected('only a project comes with role assignments')
    if args.get('members') and kind != 'groups':
        raise base.Rejected('only a group comes with members')
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
    identity.store(ident, kind, gid, put, ts)
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
