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

"""The federation identity's links: users in groups, and roles.

A membership is ``/v1/identity/groups/{group}/users/{user}`` (PUT, and
DELETE). A role assignment has no id of its own: it is the role, one
actor (``user`` or ``group``) and one target (``project`` or
``domain``), each a name or a global id; ``user_domain``,
``group_domain`` and ``project_domain`` say where a name is looked up
(``default`` when not given). It is given in the body of POST and in
the query of DELETE (a DELETE body is dropped by some clients and
proxies) and GET (where every field is an optional filter). Roles are
named, never created: each site's Keystone must have them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import webob

from sodos.api import errors
from sodos.api import util
from sodos.api.handlers import identity as objects
from sodos.api.policies import identity as policies
from sodos.api.schemas import common
from sodos.api.schemas import identity as schemas
from sodos.identity import model
from sodos.identity import schemas as identity_schemas

_ROLE = re.compile(identity_schemas.ROLE_NAME['pattern'])


def _role(value: str) -> str:
    """Query parameter type: a role name."""
    if not _ROLE.match(value):
        raise ValueError(
            '%r is not a role name (letters, digits, "_", ".", ":", "-"; '
            'at most 64)' % value
        )
    return value


_ASSIGNMENT_QUERY: dict[str, Callable[[str], Any]] = dict(
    {key: objects.name_or_id for key in schemas.ASSIGNMENT_FIELDS},
    role=_role,
)


# -- memberships -----------------------------------------------------------


def _pair(
    req: webob.Request, ident: dict[str, Any], group: str, user: str
) -> dict[str, str]:
    """The group and user of a membership path, found in ``domain``
    (and the user in ``user_domain``, which defaults to it)."""
    query = util.query(
        req, {'domain': objects.name_or_id, 'user_domain': objects.name_or_id}
    )
    domain = query.get('domain')
    return {
        'group_id': objects.find(ident, 'groups', group, domain),
        'user_id': objects.find(
            ident, 'users', user, query.get('user_domain', domain)
        ),
    }


def group_users(req: webob.Request, ref: str) -> webob.Response:
    util.authorize(req, policies.GROUP_USERS)
    query = util.query(req, {'domain': objects.name_or_id})
    ident = objects.state(req)
    gid = objects.find(ident, 'groups', ref, query.get('domain'))
    return util.respond({'users': objects.members(ident, gid)})


def add_user(req: webob.Request, ref: str, user: str) -> webob.Response:
    """204 once the user is in the group (it may have been already)."""
    util.authorize(req, policies.GROUP_ADD_USER)
    util.json_body(req, common.EMPTY)
    args = _pair(req, objects.state(req), ref, user)
    util.propose(req, 'identity.membership.put', args)
    return util.no_content()


def remove_user(req: webob.Request, ref: str, user: str) -> webob.Response:
    util.authorize(req, policies.GROUP_REMOVE_USER)
    ident = objects.state(req)
    args = _pair(req, ident, ref, user)
    key = model.membership_key(args['group_id'], args['user_id'])
    if key not in ident['memberships']:
        raise errors.not_found('user %s is not in group %s' % (user, ref))
    util.propose(req, 'identity.membership.delete', args)
    return util.no_content()


# -- role assignments ------------------------------------------------------


def _one_of(
    fields: dict[str, Any],
    names: tuple[str, str],
    required: bool,
    fail: Callable[[str], errors.ApiError],
) -> str | None:
    given = [n for n in names if n in fields]
    if len(given) > 1 or (required and not given):
        raise fail('give one of %s and %s' % names)
    return given[0] if given else None


def _resolve(
    ident: dict[str, Any],
    fields: dict[str, Any],
    required: bool,
    fail: Callable[[str], errors.ApiError],
    where: str,
) -> dict[str, Any]:
    """The assignment's args (for a filter: those given), every name
    looked up; ``fail`` makes the error of a bad combination."""
    actor = _one_of(fields, ('user', 'group'), required, fail)
    target = _one_of(fields, ('project', 'domain'), required, fail)
    for scope, owner in (
        ('user_domain', 'user'),
        ('group_domain', 'group'),
        ('project_domain', 'project'),
    ):
        if scope in fields and owner not in fields:
            raise fail('%s is given without %s' % (scope, owner))
    args: dict[str, Any] = {}
    if 'role' in fields:
        args['role'] = fields['role']
    if actor is not None:
        args['actor_type'] = actor
        args['actor_id'] = objects.find(
            ident,
            actor + 's',
            fields[actor],
            fields.get(actor + '_domain'),
            '%s%s: ' % (where, actor),
        )
    if target == 'domain':
        args['target_type'] = 'domain'
        args['target_id'] = objects.domain_id(
            ident, fields['domain'], '%sdomain: ' % where
        )
    elif target == 'project':
        args['target_type'] = 'project'
        args['target_id'] = objects.find(
            ident,
            'projects',
            fields['project'],
            fields.get('project_domain'),
            '%sproject: ' % where,
        )
    return args


def _name(ident: dict[str, Any], kind: str, gid: str) -> str | None:
    if kind == 'domains' and gid == model.DEFAULT_DOMAIN:
        return 'Default'
    obj = ident[kind].get(gid)
    return obj['name'] if obj else None


def assignment_row(ident: dict[str, Any], link: dict[str, Any]) -> Any:
    return {
        'role': link['role'],
        'actor_type': link['actor_type'],
        'actor_id': link['actor_id'],
        'actor_name': _name(ident, link['actor_type'] + 's', link['actor_id']),
        'target_type': link['target_type'],
        'target_id': link['target_id'],
        'target_name': _name(
            ident, link['target_type'] + 's', link['target_id']
        ),
        'created_at': link.get('created_at'),
    }


def list_assignments(req: webob.Request) -> webob.Response:
    util.authorize(req, policies.ASSIGNMENT_LIST)
    query = util.query(req, _ASSIGNMENT_QUERY)
    ident = objects.state(req)
    wanted = _resolve(ident, query, False, errors.invalid_query, '')
    rows = [
        assignment_row(ident, link)
        for link in ident['assignments'].values()
        if all(link[k] == v for k, v in wanted.items())
    ]
    rows.sort(
        key=lambda r: (
            r['target_type'],
            r['target_name'] or '',
            r['actor_type'],
            r['actor_name'] or '',
            r['role'],
        )
    )
    return util.respond({'role_assignments': rows})


def create_assignment(req: webob.Request) -> webob.Response:
    """201 with the assignment, or 200 if it was there already."""
    util.authorize(req, policies.ASSIGNMENT_CREATE)
    util.query(req, {})
    fields = util.json_body(req, schemas.ASSIGNMENT)['role_assignment']
    where = 'body.role_assignment.'
    args = _resolve(
        objects.state(req),
        fields,
        True,
        lambda text: errors.invalid_body('body.role_assignment: ' + text),
        where,
    )
    result = util.propose(req, 'identity.assignment.put', args)
    ident = objects.state(req)
    link = ident['assignments'].get(model.assignment_key(args), args)
    body = {'role_assignment': assignment_row(ident, link)}
    if result.get('created'):
        return util.respond(body, status=201)
    return util.respond(body)


def delete_assignment(req: webob.Request) -> webob.Response:
    util.authorize(req, policies.ASSIGNMENT_DELETE)
    if req.body.strip():
        raise errors.invalid_body(
            'DELETE /v1/identity/role-assignments takes the assignment in '
            'the query (?role=R&user=U&project=P...), not in a body'
        )
    query = util.query(req, _ASSIGNMENT_QUERY)
    if 'role' not in query:
        raise errors.invalid_query('role: required')
    ident = objects.state(req)
    args = _resolve(ident, query, True, errors.invalid_query, '')
    if model.assignment_key(args) not in ident['assignments']:
        raise errors.not_found(
            'no such role assignment: role %s to %s %s on %s %s'
            % (
                args['role'],
                args['actor_type'],
                query[args['actor_type']],
                args['target_type'],
                query[args['target_type']],
            )
        )
    util.propose(req, 'identity.assignment.delete', args)
    return util.no_content()
