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

"""The ``api`` identity writer: a site's Keystone through its public API.

python-keystoneclient (identity v3) over the Exec driver's keystoneauth
session, so the ``[site_auth]`` user needs the admin role. What Keystone
30 allows shapes it:

* a domain takes an explicit id (``explicit_domain_id``): the KB's
  global id, the same at every site; a project, user or group always
  gets an id of the site's own, kept in the KB's ID map;
* Keystone keeps unknown attributes of an object (its ``extra``) and
  returns them: sodos marks what it made with ``sodos_id`` (the global
  id), and a user with ``sodos_password_version``, the version of the
  KB password last set, in the same PATCH as the password;
* a password is given in clear and hashed by Keystone: there is no way
  to read it back, so a password changed by hand cannot be detected.
"""

from __future__ import annotations

from typing import Any

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneclient.v3 import client as ks_client
from oslo_config import cfg

from sodos.exec.drivers import base as driver
from sodos.exec.drivers.openstack import errors
from sodos.identity import converge
from sodos.identity import model
from sodos.identity import writer

_MANAGERS = {
    'domains': 'domains',
    'projects': 'projects',
    'users': 'users',
    'groups': 'groups',
}
# The attributes read back, besides the marker and the password version.
_READ = ('name', 'domain_id', 'description', 'enabled', 'email')


class KeystoneWriter(writer.IdentityWriter):
    def __init__(
        self, conf: cfg.ConfigOpts, session: ks_session.Session
    ) -> None:
        opts = conf.site_auth
        interfaces = list(opts.valid_interfaces)
        self.client = ks_client.Client(
            session=session,
            region_name=opts.region_name,
            interface=interfaces[0] if interfaces else 'public',
        )
        # Role name -> id at this site, refreshed by every snapshot.
        self._roles: dict[str, str] = {}
        self.protected = model.protected_sets(conf)

    def snapshot(self) -> converge.Observed:
        observed = converge.Observed()
        with errors.translated("reading the site's identity"):
            for kind, manager in _MANAGERS.items():
                found = getattr(self.client, manager).list()
                getattr(observed, kind).update(
                    {obj.id: _attributes(obj) for obj in found}
                )
            roles = {r.id: r.name for r in self.client.roles.list()}
            self._roles = {name: rid for rid, name in roles.items()}
            for item in self.client.role_assignments.list():
                grant = _grant(item, roles)
                if grant is not None:
                    observed.assignments.add(grant)
        return observed

    def group_members(self, group_id: str) -> set[str]:
        with errors.translated('listing the members of group %s' % group_id):
            return {u.id for u in self.client.users.list(group=group_id)}

    def apply(self, op: converge.Op) -> str | None:
        with errors.translated(op.describe()):
            if op.kind in model.KINDS:
                return self._apply_object(op)
            if op.member is not None:
                group, user = op.member
                if op.action == 'add':
                    self.client.users.add_to_group(user, group)
                else:
                    self.client.users.remove_from_group(user, group)
                return None
            assert op.grant is not None
            role, actor_type, actor, target_type, target = op.grant
            call = (
                self.client.roles.grant
                if op.action == 'grant'
                else self.client.roles.revoke
            )
            call(
                self._role_id(role),
                **{actor_type: actor, target_type: target},
            )
            return None

    def _apply_object(self, op: converge.Op) -> str | None:
        manager = getattr(self.client, _MANAGERS[op.kind])
        attrs = _outgoing(op)
        if op.action == 'delete':
            if op.kind == 'domains':
                # Keystone deletes a disabled domain only.
                manager.update(op.local_id, enabled=False)
            manager.delete(op.local_id)
            return None
        if op.action == 'update':
            manager.update(op.local_id, **attrs)
            return op.local_id
        name = attrs.pop('name')
        if op.kind == 'domains':
            made = manager.create(name, explicit_domain_id=op.gid, **attrs)
        else:
            domain = attrs.pop('domain_id')
            made = manager.create(name, domain=domain, **attrs)
        return str(made.id)

    def mark(self, kind: str, local_id: str, gid: str) -> None:
        """Adoption: ``sodos_id`` set in the object's ``extra``, after
        a look at it (what is marked already is left as it is)."""
        manager = getattr(self.client, _MANAGERS[kind])
        single = model.SINGULAR[kind]
        with errors.translated('marking %s %s' % (single, local_id)):
            try:
                found = _attributes(manager.get(local_id))
            except ks_exc.NotFound:
                found = None
            if writer.needs_mark(kind, local_id, found, gid, self.protected):
                manager.update(local_id, **{model.MARKER: gid})

    def _role_id(self, name: str) -> str:
        if name not in self._roles:
            self._roles = {r.name: r.id for r in self.client.roles.list()}
        try:
            return self._roles[name]
        except KeyError:
            raise driver.PermanentError(
                'role %s does not exist at this site: create it in its '
                'Keystone' % name
            ) from None


def _outgoing(op: converge.Op) -> dict[str, Any]:
    """The request's attributes: the password with its version, and no
    None (keystoneclient drops them)."""
    attrs = {k: v for k, v in op.attrs.items() if v is not None}
    if op.password is not None:
        attrs['password'] = op.password
        attrs[model.PASSWORD_VERSION] = op.password_version
    return attrs


def _attributes(obj: Any) -> dict[str, Any]:
    info = obj.to_dict()
    out = {attr: info.get(attr) for attr in _READ if attr in info}
    for extra in (model.MARKER, model.PASSWORD_VERSION):
        if extra in info:
            out[extra] = info[extra]
    return out


def _grant(item: Any, roles: dict[str, str]) -> converge.Grant | None:
    """A role assignment as a tuple; None for what sodos does not manage
    (system and inherited assignments, unknown roles)."""
    scope = getattr(item, 'scope', None) or {}
    if 'OS-INHERIT:inherited_to' in scope:
        return None
    role = roles.get((getattr(item, 'role', None) or {}).get('id', ''))
    if role is None:
        return None
    for actor_type in ('user', 'group'):
        actor = getattr(item, actor_type, None)
        if actor:
            break
    else:
        return None
    for target_type in ('project', 'domain'):
        if target_type in scope:
            return (
                role,
                actor_type,
                actor['id'],
                target_type,
                scope[target_type]['id'],
            )
    return None
