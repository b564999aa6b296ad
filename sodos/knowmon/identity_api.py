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

"""Changing the federation's identity: names in, committed commands out.

The proposer side of :mod:`sodos.kb.sections.identity`, for
the REST API. It resolves names to the KB's
global ids, validates (the KB checks again: two proposers may race),
encrypts passwords with ``[identity]secret`` and returns once the KB
committed the change. Domains are named by name or id; ``default`` is
the domain every Keystone has.

It lives beside :mod:`sodos.knowmon.rpcapi`, the client it proposes
through, rather than in :mod:`sodos.identity`: the identity model sits
below the Knowledge Base (whose appliers use it) and imports no role.
"""

from __future__ import annotations

import uuid
from typing import Any

from sodos.identity import adoption
from sodos.identity import crypto
from sodos.identity import model
from sodos.knowmon import rpcapi

_ID_ARG = {
    'domains': 'domain_id',
    'projects': 'project_id',
    'users': 'user_id',
    'groups': 'group_id',
}


class IdentityAPI:
    def __init__(
        self,
        client: rpcapi.KnowMonClient,
        origin: str,
        box: crypto.PasswordBox | None = None,
        protected: dict[str, set[str]] | None = None,
    ) -> None:
        self.client = client
        self.origin = origin
        self.box = box
        self.protected = protected or {}

    # -- reading ------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return model.section(self.client.read('identity') or {})

    def domain_id(self, ref: str | None, ident: dict[str, Any]) -> str:
        """The id of domain ``ref`` (a name or an id; None: default)."""
        if ref in (None, model.DEFAULT_DOMAIN, 'Default'):
            return model.DEFAULT_DOMAIN
        assert ref is not None
        if ref in ident['domains']:
            return ref
        found = model.find(ident, 'domains', ref)
        if found is None:
            raise model.InvalidIdentity('no domain %r in the federation' % ref)
        return found

    def lookup(
        self, kind: str, ref: str, domain: str | None = None
    ) -> tuple[str, dict[str, Any]]:
        """(global id, object) of ``kind`` named ``ref`` (or with that
        id)."""
        ident = self.state()
        if kind == 'domains':
            gid = self.domain_id(ref, ident)
        elif ref in ident[kind]:
            gid = ref
        else:
            found = model.find(ident, kind, ref, self.domain_id(domain, ident))
            if found is None:
                raise model.InvalidIdentity(
                    'no %s %r in domain %s'
                    % (model.SINGULAR[kind], ref, domain or 'default')
                )
            gid = found
        if gid not in ident[kind]:
            raise model.InvalidIdentity(
                'domain %s is not managed by the federation' % gid
            )
        obj = dict(ident[kind][gid], id=gid)
        obj.pop('password', None)
        if kind != 'domains':
            obj['site_ids'] = {
                site: ids[kind][gid]
                for site, ids in sorted(ident['idmap'].items())
                if gid in ids.get(kind, {})
            }
        return gid, obj

    # -- writing ------------------------------------------------------------

    def put(
        self,
        kind: str,
        name: str,
        domain: str | None = None,
        password: str | None = None,
        **attrs: Any,
    ) -> dict[str, Any]:
        """Create ``kind`` ``name``, or change the attributes given."""
        if name in self.protected.get(kind, set()):
            raise model.InvalidIdentity(
                '%s %s is protected ([identity]protected_%s): sodos does '
                'not manage it' % (model.SINGULAR[kind], name, kind)
            )
        ident = self.state()
        args: dict[str, Any] = {'name': name}
        domain_id = None
        if kind != 'domains':
            domain_id = args['domain_id'] = self.domain_id(domain, ident)
        gid = model.find(ident, kind, name, domain_id) or uuid.uuid4().hex
        old = ident[kind].get(gid, {})
        for attr in ('description', 'enabled', 'email'):
            value = attrs.get(attr)
            if value is None:
                value = old.get(attr)
            if value is not None:
                args[attr] = value
        if password is not None:
            if kind != 'users':
                raise model.InvalidIdentity('only users have a password')
            if self.box is None:
                raise crypto.SecretError(
                    '[identity]secret is not set: a password cannot be stored'
                )
            args['password'] = self.box.encrypt(password)
        args[_ID_ARG[kind]] = gid
        result = self._propose('identity.%s.put' % model.SINGULAR[kind], args)
        return dict(result, id=gid)

    def delete(
        self, kind: str, ref: str, domain: str | None = None
    ) -> dict[str, Any]:
        gid, _obj = self.lookup(kind, ref, domain)
        return self._propose(
            'identity.%s.delete' % model.SINGULAR[kind], {_ID_ARG[kind]: gid}
        )

    def membership(
        self,
        group: str,
        user: str,
        domain: str | None = None,
        add: bool = True,
    ) -> dict[str, Any]:
        args = {
            'group_id': self.lookup('groups', group, domain)[0],
            'user_id': self.lookup('users', user, domain)[0],
        }
        verb = 'put' if add else 'delete'
        return self._propose('identity.membership.' + verb, args)

    def assignment(
        self,
        role: str,
        actor: tuple[str, str],
        target: tuple[str, str],
        domain: str | None = None,
        add: bool = True,
    ) -> dict[str, Any]:
        """Grant (or revoke) ``role`` to ``actor`` on ``target``.

        ``actor`` is ('user'|'group', name), ``target`` ('project'|
        'domain', name); names are looked up in ``domain``.
        """
        actor_type, actor_ref = actor
        target_type, target_ref = target
        if target_type == 'domain':
            target_id = self.domain_id(target_ref, self.state())
        else:
            target_id = self.lookup('projects', target_ref, domain)[0]
        args = {
            'role': role,
            'actor_type': actor_type,
            'actor_id': self.lookup(actor_type + 's', actor_ref, domain)[0],
            'target_type': target_type,
            'target_id': target_id,
        }
        verb = 'put' if add else 'delete'
        return self._propose('identity.assignment.' + verb, args)

    def adopt(
        self,
        kind: str,
        name: str,
        site: str,
        domain: str | None = None,
        requested_by: str = 'sodos-manage',
    ) -> dict[str, Any]:
        """Ask ``site`` to make its ``kind`` ``name`` (in ``domain``) a
        federation object (:mod:`sodos.identity.adoption`). Returns once
        the request is committed, with its id; the site's Exec carries
        it out."""
        if kind not in adoption.KINDS:
            raise model.InvalidIdentity(
                'only projects, users and groups can be adopted, not %s' % kind
            )
        if name in self.protected.get(kind, set()):
            raise model.InvalidIdentity(
                '%s %s is protected ([identity]protected_%s): sodos does '
                'not manage it' % (model.SINGULAR[kind], name, kind)
            )
        args = {
            'request_id': uuid.uuid4().hex,
            'kind': kind,
            'name': name,
            'domain_id': self.domain_id(domain, self.state()),
            'site': site,
            'requested_by': requested_by,
        }
        result = self._propose('identity.adopt', args)
        return dict(result, id=args['request_id'])

    def _propose(self, type_: str, args: dict[str, Any]) -> dict[str, Any]:
        return rpcapi.propose(self.client, type_, args, self.origin)
