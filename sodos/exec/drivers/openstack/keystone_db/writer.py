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

"""The ``shared`` identity writer: Keystone's tables through SQLAlchemy Core.

Everything is created with the KB's global id, so a project, user or
group has the same id at every site and a token issued by one site names
objects every other site holds. Roles are not created: a site's role ids
(made by its ``keystone-manage bootstrap``) differ, so assignments find
them by name at the site, as Keystone recomputes a token's roles from
its own assignments anyway.

Rules the writer keeps by itself, whatever operation it is given:

* one transaction per operation, after the schema gate
  (:class:`.schema.Gate`); an operation already carried out is a no-op
  (a create finding its object updates it, a delete finding nothing,
  an add or grant finding the row, a remove or revoke not finding it);
* it changes and deletes only objects it marked (``sodos_id`` in their
  ``extra``, as the API writer marks them) with the global id as their
  id, and never one with a protected name (``[identity]protected_*``);
* a password is stored as Keystone stores it (a ``password`` row with a
  bcrypt hash); one already holding the wanted password is kept.

Keystone is not told: with ``[cache]`` enabled at the site, it sees a
change once its ``[identity]``, ``[resource]`` and ``[assignment]``
cache entries expire.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from oslo_config import cfg
from sqlalchemy import exc as sa_exc

from sodos.exec.drivers import base as driver
from sodos.exec.drivers.openstack.keystone_db import delete
from sodos.exec.drivers.openstack.keystone_db import passwords
from sodos.exec.drivers.openstack.keystone_db import read
from sodos.exec.drivers.openstack.keystone_db import rows
from sodos.exec.drivers.openstack.keystone_db import rules
from sodos.exec.drivers.openstack.keystone_db import schema
from sodos.identity import converge
from sodos.identity import model
from sodos.identity import writer

_TABLES = {
    'domains': schema.PROJECT,
    'projects': schema.PROJECT,
    'users': schema.USER,
    'groups': schema.GROUP,
}
_TRANSIENT = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
)


def safe_url(url: str | None) -> str:
    """The URL without its password, for messages."""
    try:
        return sa.engine.make_url(url or '').render_as_string(
            hide_password=True
        )
    except (sa_exc.ArgumentError, ValueError, TypeError):
        return '<not a database URL>'


def _reason(exc: BaseException) -> str:
    # SQLAlchemy wraps the driver's error and appends a link: the
    # driver's first line says it best.
    cause = getattr(exc, 'orig', None) or exc
    text = str(cause).strip() or type(cause).__name__
    return text.splitlines()[0]


class KeystoneDBWriter(writer.IdentityWriter):
    # Objects get the global id at this site (identity_sync relies on it).
    same_ids = True

    def __init__(
        self, conf: cfg.ConfigOpts, engine: sa.Engine | None = None
    ) -> None:
        """:raises sqlalchemy.exc.ArgumentError, ImportError: the URL in
        ``[identity]keystone_database_connection`` cannot be used."""
        url = conf.identity.keystone_database_connection
        self.where = 'Keystone database %s' % safe_url(url)
        # No connection yet: the database may be down when Exec starts.
        self._engine = engine or sa.create_engine(
            url, pool_pre_ping=True, pool_recycle=3600
        )
        self.gate = schema.Gate()
        self.protected = model.protected_sets(conf)
        # Role name -> id at this site, refreshed by every snapshot.
        self._roles: dict[str, str] = {}

    def close(self) -> None:
        self._engine.dispose()

    @contextlib.contextmanager
    def _translated(self, what: str) -> Iterator[None]:
        """Database errors as the Exec driver's errors."""
        try:
            yield
        except _TRANSIENT as exc:
            raise driver.TransientError(
                '%s: %s: %s' % (what, self.where, _reason(exc))
            ) from exc
        except sa_exc.SQLAlchemyError as exc:
            raise driver.PermanentError(
                '%s: the %s refused it: %s' % (what, self.where, _reason(exc))
            ) from exc

    # -- reading ------------------------------------------------------------

    def snapshot(self) -> converge.Observed:
        with self._translated("reading the site's identity"):
            with self._engine.connect() as conn:
                self.gate.check(conn)
                roles = read.global_roles(conn)
                self._roles = {name: rid for rid, name in roles.items()}
                return read.snapshot(conn, roles)

    def group_members(self, group_id: str) -> set[str]:
        members = schema.USER_GROUP_MEMBERSHIP
        with self._translated('listing the members of group %s' % group_id):
            with self._engine.connect() as conn:
                self.gate.check(conn)
                return set(
                    conn.execute(
                        sa.select(members.c.user_id).where(
                            members.c.group_id == group_id
                        )
                    ).scalars()
                )

    # -- writing ------------------------------------------------------------

    def apply(self, op: converge.Op) -> str | None:
        with self._translated(op.describe()):
            with self._engine.begin() as conn:
                self.gate.check(conn)
                if op.kind not in model.KINDS:
                    if op.member is not None:
                        self._membership(conn, op)
                    else:
                        self._assignment(conn, op)
                    return None
                if op.action == 'create':
                    return self._create(conn, op)
                if op.action == 'update':
                    return self._update(conn, op, op.local_id)
                self._delete(conn, op)
                return None

    def mark(self, kind: str, local_id: str, gid: str) -> None:
        """Adoption: ``sodos_id`` set in the row's ``extra``, the one
        change sodos makes to an object it did not make; the object
        must have the global id already (shared identity)."""
        single = model.SINGULAR[kind]
        with self._translated('marking %s %s' % (single, local_id)):
            with self._engine.begin() as conn:
                self.gate.check(conn)
                have = read.find(conn, kind, local_id)
                if have is not None and local_id != gid:
                    raise driver.PermanentError(
                        "%s %s cannot be marked as the federation's %s: "
                        'shared identity needs the same id at every site'
                        % (single, local_id, gid)
                    )
                found = (
                    None if have is None else dict(have.extra, **have.columns)
                )
                if not writer.needs_mark(
                    kind, local_id, found, gid, self.protected
                ):
                    return
                assert have is not None
                extra = dict(have.extra, **{model.MARKER: gid})
                table = _TABLES[kind]
                conn.execute(
                    sa.update(table)
                    .where(table.c.id == local_id)
                    .values(extra=rows.dump_extra(extra))
                )

    def _create(self, conn: sa.Connection, op: converge.Op) -> str:
        rules.refuse_protected(
            self.protected, op.kind, op.gid, op.attrs.get('name')
        )
        if read.find(conn, op.kind, op.gid) is not None:
            # Made by an earlier try whose answer was lost (or, if sodos
            # did not make it, refused as any change would be).
            return self._update(conn, op, op.gid)
        domain_id = op.attrs.get('domain_id')
        if op.kind != 'domains' and (
            not domain_id or read.find(conn, 'domains', domain_id) is None
        ):
            raise driver.PermanentError(
                'Could not find domain: %s.' % domain_id
            )
        taken = read.name_taken(conn, op.kind, op.attrs['name'], domain_id)
        if taken is not None:
            raise driver.PermanentError(
                'a %s named %s already exists at this site with the id %s: '
                'rename or delete it (shared identity creates the '
                "federation's with the id %s)"
                % (model.SINGULAR[op.kind], op.attrs['name'], taken, op.gid)
            )
        row = rows.main_row(op.kind, op.gid, op.attrs, rows.utcnow())
        hashed = None
        if op.kind == 'users' and op.password is not None:
            hashed = rows.hash_password(op.password)
            extra = rows.load_extra(row['extra'])
            passwords.record(extra, op, hashed)
            row['extra'] = rows.dump_extra(extra)
        conn.execute(sa.insert(_TABLES[op.kind]).values(row))
        if op.kind == 'users':
            made = conn.execute(
                sa.insert(schema.LOCAL_USER).values(
                    rows.local_user_row(op.gid, op.attrs)
                )
            )
            key = made.inserted_primary_key
            assert key is not None
            if hashed is not None:
                passwords.store(conn, int(key[0]), hashed)
        return op.gid

    def _update(self, conn: sa.Connection, op: converge.Op, lid: str) -> str:
        have = read.find(conn, op.kind, lid)
        if have is None:
            raise driver.PermanentError(
                'Could not find %s: %s.' % (model.SINGULAR[op.kind], lid)
            )
        rules.refuse_unowned(op, lid, have)
        rules.refuse_protected(self.protected, op.kind, lid, have.name)
        rules.refuse_protected(
            self.protected, op.kind, lid, op.attrs.get('name')
        )
        values = rows.updated_columns(op.kind, op.attrs)
        extra = dict(have.extra, **rows.split(op.kind, op.attrs)[1])
        if op.kind == 'users':
            self._update_local_user(conn, lid, op, have)
            if op.password is not None:
                passwords.set_password(conn, op, lid, extra)
        if extra != have.extra:
            values['extra'] = rows.dump_extra(extra)
        if values:
            table = _TABLES[op.kind]
            conn.execute(
                sa.update(table).where(table.c.id == lid).values(values)
            )
        return lid

    def _update_local_user(
        self,
        conn: sa.Connection,
        uid: str,
        op: converge.Op,
        have: read.Found,
    ) -> None:
        local = schema.LOCAL_USER
        changes: dict[str, Any] = {}
        if op.attrs.get('name') not in (None, have.name):
            changes['name'] = op.attrs['name']
        if op.attrs.get('enabled') and not have.columns.get('enabled'):
            # As Keystone does when a user is enabled: a locked-out user
            # enabled again starts with a clean count.
            changes.update(failed_auth_count=0, failed_auth_at=None)
        if changes:
            conn.execute(
                sa.update(local).where(local.c.user_id == uid).values(changes)
            )

    def _delete(self, conn: sa.Connection, op: converge.Op) -> None:
        have = read.find(conn, op.kind, op.local_id)
        if have is None:
            return  # already gone
        rules.refuse_unowned(op, op.local_id, have)
        rules.refuse_protected(self.protected, op.kind, op.local_id, have.name)
        delete.delete(conn, op.kind, op.local_id, have.name)

    def _membership(self, conn: sa.Connection, op: converge.Op) -> None:
        assert op.member is not None
        group_id, user_id = op.member
        group = read.find(conn, 'groups', group_id)
        if group is None:
            raise driver.PermanentError('Could not find group: %s.' % group_id)
        rules.refuse_protected(self.protected, 'groups', group_id, group.name)
        if not group.marker:
            raise driver.PermanentError(
                "group %s was not made by sodos: its members are not sodos's "
                'to change' % group.name
            )
        user = read.find(conn, 'users', user_id)
        rules.refuse_protected(
            self.protected, 'users', user_id, user.name if user else None
        )
        members = schema.USER_GROUP_MEMBERSHIP
        match = (members.c.group_id == group_id) & (
            members.c.user_id == user_id
        )
        present = conn.execute(sa.select(members).where(match)).first()
        if op.action == 'remove':
            if present is not None:
                conn.execute(sa.delete(members).where(match))
            return
        if user is None:
            raise driver.PermanentError('Could not find user: %s.' % user_id)
        if present is None:
            conn.execute(
                sa.insert(members).values(user_id=user_id, group_id=group_id)
            )

    def _assignment(self, conn: sa.Connection, op: converge.Op) -> None:
        assert op.grant is not None
        role, actor_type, actor_id, target_type, target_id = op.grant
        actor = read.find(conn, actor_type + 's', actor_id)
        target = read.find(conn, target_type + 's', target_id)
        rules.refuse_protected(
            self.protected,
            actor_type + 's',
            actor_id,
            actor.name if actor else None,
        )
        role_id = self._role_id(conn, role, required=op.action == 'grant')
        if role_id is None:
            return  # no such role here: there is nothing to revoke
        row = rows.assignment_row(op.grant, role_id)
        table = schema.ASSIGNMENT
        match = sa.and_(*(table.c[key] == value for key, value in row.items()))
        present = conn.execute(sa.select(table).where(match)).first()
        if op.action == 'revoke':
            if target is not None and not target.marker:
                raise driver.PermanentError(
                    '%s %s was not made by sodos: its role assignments are '
                    "not sodos's to revoke" % (target_type, target.name)
                )
            if present is not None:
                conn.execute(sa.delete(table).where(match))
            return
        if actor is None:
            raise driver.PermanentError(
                'Could not find %s: %s.' % (actor_type, actor_id)
            )
        if target is None:
            raise driver.PermanentError(
                'Could not find %s: %s.' % (target_type, target_id)
            )
        if not actor.marker:
            raise driver.PermanentError(
                '%s %s was not made by sodos: sodos grants roles to its own '
                'users and groups only' % (actor_type, actor.name)
            )
        if present is None:
            conn.execute(sa.insert(table).values(row))

    def _role_id(
        self, conn: sa.Connection, name: str, required: bool
    ) -> str | None:
        if name not in self._roles:
            roles = read.global_roles(conn)
            self._roles = {rname: rid for rid, rname in roles.items()}
        if name not in self._roles and required:
            raise driver.PermanentError(
                'role %s does not exist at this site: create it in its '
                'Keystone' % name
            )
        return self._roles.get(name)
