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

"""The federation identity: domains, projects, users and groups.

The desired state lives in the KB (:mod:`sodos.kb.sections.identity`);
every site's Exec brings its Keystone in line with it. Objects are named in
paths, bodies and queries by global id or by name, a name being looked
up in ``domain`` (``default`` when not given). Everything named is
resolved and every field checked before anything is proposed; what the
KB refuses (a name taken, a domain that still holds objects) is 409 with
its reason. Passwords are taken in bodies only (the request log shows
the path and query), encrypted with ``[identity]secret``
(:class:`sodos.knowmon.identity_api.IdentityAPI`)
and never shown: a user shows ``password_version``.

Memberships and role assignments are in :mod:`.identity_links`.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import webob

from sodos.api import errors
from sodos.api import util
from sodos.api.policies import identity as policies
from sodos.api.schemas import identity as schemas
from sodos.identity import crypto
from sodos.identity import model
from sodos.identity import schemas as identity_schemas
from sodos.knowmon import identity_api

_REF = re.compile(identity_schemas.ENTITY_NAME['pattern'])
_ID_ARG = {
    'domains': 'domain_id',
    'projects': 'project_id',
    'users': 'user_id',
    'groups': 'group_id',
}
# The attributes a body may set besides the name (and the password).
_ATTRS = {
    'domains': ('description', 'enabled'),
    'projects': ('description', 'enabled'),
    'users': ('description', 'email', 'enabled'),
    'groups': ('description',),
}
DRIFT_ALERT = 'identity_drift'


# -- shared with identity_links --------------------------------------------


def identity(req: webob.Request) -> identity_api.IdentityAPI:
    """The identity proposer, as this API has it
    configured: its password box (None without ``[identity]secret``)
    and the names ``[identity]protected_*`` keep away."""
    svc = util.services(req)
    secret = svc.conf.identity.secret
    return identity_api.IdentityAPI(
        svc.knowmon,
        svc.site,
        box=crypto.PasswordBox(secret) if secret else None,
        protected=model.protected_sets(svc.conf),
    )


def state(req: webob.Request) -> dict[str, Any]:
    return model.section(util.read(req, 'identity') or {})


def name_or_id(value: str) -> str:
    """Query parameter type: a name or a global id."""
    if not _REF.match(value):
        raise ValueError(
            '%r is not a name or id (no "/", no control characters, no '
            'leading or trailing blank, at most 64 characters)' % value
        )
    return value


def domain_id(ident: dict[str, Any], name: str | None, where: str) -> str:
    """The id of domain ``name`` (None: ``default``); 404 naming
    ``where`` (the field it came from) if the federation lacks it."""
    if name in (None, model.DEFAULT_DOMAIN, 'Default'):
        return model.DEFAULT_DOMAIN
    assert name is not None
    if name in ident['domains']:
        return name
    found = model.find(ident, 'domains', name)
    if found is None:
        raise errors.not_found(
            '%sno domain %r in the federation' % (where, name)
        )
    return found


def find(
    ident: dict[str, Any],
    kind: str,
    name: str,
    domain: str | None,
    where: str = '',
) -> str:
    """The global id of ``kind`` with that id, or else named ``name`` in
    ``domain``; 404 naming ``where`` otherwise."""
    if name in ident[kind]:
        return name
    if kind == 'domains':
        gid = domain_id(ident, name, where)
        if gid == model.DEFAULT_DOMAIN:
            raise errors.not_found(
                "%sthe default domain is each site's own: the federation "
                'does not manage it' % where
            )
        return gid
    found = model.find(ident, kind, name, domain_id(ident, domain, where))
    if found is None:
        raise errors.not_found(
            '%sno %s %r in domain %s'
            % (where, model.SINGULAR[kind], name, domain or 'default')
        )
    return found


def row(ident: dict[str, Any], kind: str, gid: str) -> dict[str, Any]:
    """An object as lists show it: never its password, only which
    version of it the KB holds."""
    obj = ident[kind][gid]
    out: dict[str, Any] = {'id': gid}
    out.update({a: obj.get(a) for a in model.ATTRIBUTES[kind]})
    if kind == 'users':
        password = obj.get('password')
        out['password_version'] = password['version'] if password else None
    return out


# -- objects ---------------------------------------------------------------


def detail(ident: dict[str, Any], kind: str, gid: str) -> dict[str, Any]:
    """The row, its times, each site's own id and its group links."""
    out = row(ident, kind, gid)
    obj = ident[kind][gid]
    out['created_at'] = obj.get('created_at')
    out['updated_at'] = obj.get('updated_at')
    if kind == 'domains':
        return out
    out['site_ids'] = {
        site: ids[kind][gid]
        for site, ids in sorted(ident['idmap'].items())
        if gid in ids.get(kind, {})
    }
    if kind == 'groups':
        out['users'] = members(ident, gid)
    elif kind == 'users':
        out['groups'] = sorted(
            (
                row(ident, 'groups', m['group_id'])
                for m in ident['memberships'].values()
                if m['user_id'] == gid and m['group_id'] in ident['groups']
            ),
            key=lambda r: (r['name'], r['id']),
        )
    return out


def members(ident: dict[str, Any], group_id: str) -> list[dict[str, Any]]:
    return sorted(
        (
            row(ident, 'users', m['user_id'])
            for m in ident['memberships'].values()
            if m['group_id'] == group_id and m['user_id'] in ident['users']
        ),
        key=lambda r: (r['name'], r['id']),
    )


def refuse_protected(
    api: identity_api.IdentityAPI, kind: str, names: set[str]
) -> None:
    """409 for a name ``[identity]protected_*`` keeps from sodos."""
    guarded = api.protected.get(kind, set())
    if kind == 'domains':
        # Keystone's own default domain is "Default", id "default".
        guarded = {n.lower() for n in guarded} | {model.DEFAULT_DOMAIN}
        names = {n.lower() for n in names}
    clash = sorted(names & guarded)
    if clash:
        raise errors.conflict(
            '%s %s is protected ([identity]protected_%s): the federation '
            'does not manage it' % (model.SINGULAR[kind], clash[0], kind)
        )


def _password(api: identity_api.IdentityAPI, plain: str) -> dict[str, Any]:
    if api.box is None:
        raise errors.conflict(
            '[identity]secret is not set where this API runs (site %s): a '
            'password cannot be stored. Set the same [identity]secret at '
            'every site, or leave the password out' % api.origin
        )
    try:
        return api.box.encrypt(plain)
    except crypto.SecretError as exc:
        # The message says what is wrong with it, never what it is.
        raise errors.invalid_body('body.user.password: %s' % exc) from None


def put_args(
    api: identity_api.IdentityAPI,
    kind: str,
    gid: str,
    old: dict[str, Any],
    fields: dict[str, Any],
) -> dict[str, Any]:
    """The ``identity.<kind>.put`` args: ``old`` (the object, or ``{}``
    and its ``domain_id``) with ``fields`` applied; a null clears."""
    names = {old.get('name'), fields.get('name')}
    refuse_protected(api, kind, {n for n in names if isinstance(n, str)})
    args: dict[str, Any] = {
        _ID_ARG[kind]: gid,
        'name': fields.get('name', old.get('name')),
    }
    if kind != 'domains':
        args['domain_id'] = old['domain_id']
    for attr in _ATTRS[kind]:
        value = fields[attr] if attr in fields else old.get(attr)
        if value is not None:
            args[attr] = value
    if 'password' in fields:
        args['password'] = _password(api, fields['password'])
    return args


class Objects:
    """The routes of one kind: ``/v1/identity/<kind>[/{ref}]``."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.single = model.SINGULAR[kind]

    def _query(self, req: webob.Request, **more: Any) -> dict[str, Any]:
        allowed = dict(more)
        if self.kind != 'domains':
            allowed['domain'] = name_or_id
        return util.query(req, allowed)

    def _find(
        self, req: webob.Request, ident: dict[str, Any], name: str
    ) -> str:
        return find(ident, self.kind, name, self._query(req).get('domain'))

    def _answer(
        self, req: webob.Request, gid: str, status: int = 200
    ) -> webob.Response:
        body = {self.single: detail(state(req), self.kind, gid)}
        if status == 201:
            return util.created(req, body, 'identity/%s/%s' % (self.kind, gid))
        return util.respond(body)

    def list(self, req: webob.Request) -> webob.Response:
        util.authorize(req, policies.rule(self.single, 'list'))
        query = self._query(req, name=name_or_id)
        ident = state(req)
        wanted = None
        if 'domain' in query:
            wanted = domain_id(ident, query['domain'], 'domain: ')
        rows = [
            row(ident, self.kind, gid)
            for gid, obj in ident[self.kind].items()
            if query.get('name') in (None, obj['name'])
            and wanted in (None, obj.get('domain_id'))
        ]
        rows.sort(key=lambda r: (r['name'], r['id']))
        return util.respond({self.kind: rows})

    def show(self, req: webob.Request, ref: str) -> webob.Response:
        util.authorize(req, policies.rule(self.single, 'get'))
        return self._answer(req, self._find(req, state(req), ref))

    def create(self, req: webob.Request) -> webob.Response:
        """A new object, under a new global id: a name taken already
        is refused by the KB itself, whoever proposed it first."""
        util.authorize(req, policies.rule(self.single, 'create'))
        # The domain is in the body: a query would be silently ignored.
        util.query(req, {})
        fields = util.json_body(req, schemas.CREATE[self.kind])[self.single]
        api = identity(req)
        old: dict[str, Any] = {}
        if self.kind != 'domains':
            where = 'body.%s.domain: ' % self.single
            old['domain_id'] = domain_id(
                state(req), fields.get('domain'), where
            )
        gid = uuid.uuid4().hex
        args = put_args(api, self.kind, gid, old, fields)
        util.propose(req, 'identity.%s.put' % self.single, args)
        return self._answer(req, gid, status=201)

    def update(self, req: webob.Request, ref: str) -> webob.Response:
        util.authorize(req, policies.rule(self.single, 'update'))
        fields = util.json_body(req, schemas.UPDATE[self.kind])[self.single]
        ident = state(req)
        gid = self._find(req, ident, ref)
        args = put_args(
            identity(req), self.kind, gid, ident[self.kind][gid], fields
        )
        util.propose(req, 'identity.%s.put' % self.single, args)
        return self._answer(req, gid)

    def delete(self, req: webob.Request, ref: str) -> webob.Response:
        """Deletes the memberships and role assignments naming it too;
        a domain must be empty first (409 otherwise)."""
        util.authorize(req, policies.rule(self.single, 'delete'))
        gid = self._find(req, state(req), ref)
        util.propose(
            req,
            'identity.%s.delete' % self.single,
            {_ID_ARG[self.kind]: gid},
        )
        return util.no_content()


# The route table's entries, in the order objects are created.
OBJECTS = {kind: Objects(kind) for kind in model.KINDS}


# -- status ----------------------------------------------------------------


def status(req: webob.Request) -> webob.Response:
    """The KB's revision and counts, and per site what its ID map says.

    A site writes its own ids of the KB's projects, users and groups
    into the ID map after each pass: ``missing`` counts the objects it
    has not (yet) reported, ``stale`` the ids of objects the KB dropped
    that the site still has to delete. Attributes, memberships and
    assignments are not reported per site: a site repairs them at each
    pass and raises ``identity_drift`` alerts for hand edits."""
    util.authorize(req, policies.STATUS)
    util.query(req, {})
    ident = state(req)
    sites = util.read(req, 'sites') or {}
    alerts = util.read(req, 'alerts') or {}
    mapped_kinds = model.MAPPED_KINDS
    desired = {kind: set(ident[kind]) for kind in mapped_kinds}
    total = sum(len(gids) for gids in desired.values())
    rows = []
    for name in sorted(sites):
        if sites[name].get('status') == 'left':
            continue
        ids = ident['idmap'].get(name, {})
        held = {kind: set(ids.get(kind, {})) for kind in mapped_kinds}
        mapped = sum(len(desired[k] & held[k]) for k in mapped_kinds)
        rows.append(
            {
                'site': name,
                'status': sites[name].get('status', 'unknown'),
                'mapped': mapped,
                'missing': total - mapped,
                'stale': sum(len(held[k] - desired[k]) for k in mapped_kinds),
                'drift_alerts': sum(
                    1
                    for alert in alerts.values()
                    if alert.get('site') == name
                    and alert.get('kind') == DRIFT_ALERT
                ),
            }
        )
    counts = {part: len(ident[part]) for part in model.KINDS + model.LINKS}
    return util.respond(
        {
            'identity': {
                'revision': ident['revision'],
                'counts': counts,
                'sites': rows,
            }
        }
    )
