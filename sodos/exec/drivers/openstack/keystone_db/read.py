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

"""Reading a site's identity from Keystone's tables.

The snapshot has the shape the API writer's has (the same attributes and
marks), so converge treats both writers alike; it also sees what the API
hides, each user's newest password hash (see :func:`rows.observed`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import sqlalchemy as sa

from sodos.exec.drivers.openstack.keystone_db import rows
from sodos.exec.drivers.openstack.keystone_db import schema
from sodos.identity import converge
from sodos.identity import model


@dataclasses.dataclass
class Found:
    """One object's columns (as :func:`rows.observed` takes them) and its
    extra."""

    columns: dict[str, Any]
    extra: dict[str, Any]

    @property
    def name(self) -> Any:
        return self.columns.get('name')

    @property
    def marker(self) -> Any:
        return self.extra.get(model.MARKER)


def columns(kind: str, row: Any) -> dict[str, Any]:
    """The attributes a ``project`` or ``group`` row holds in columns."""
    keys = ['name', 'description']
    if kind != 'groups':
        keys.append('enabled')
    if kind != 'domains':
        keys.append('domain_id')
    return {key: getattr(row, key) for key in keys}


def snapshot(conn: sa.Connection, roles: dict[str, str]) -> converge.Observed:
    """Every domain, project, user and group, and every role assignment
    of a global role (``roles``: id -> name)."""
    observed = converge.Observed()
    project = schema.PROJECT
    for row in conn.execute(
        sa.select(project).where(project.c.id != schema.ROOT_DOMAIN)
    ):
        kind = 'domains' if row.is_domain else 'projects'
        getattr(observed, kind)[row.id] = rows.observed(
            kind, columns(kind, row), rows.load_extra(row.extra)
        )
    names = user_names(conn)
    hashes = newest_hashes(conn)
    for row in conn.execute(sa.select(schema.USER)):
        observed.users[row.id] = rows.observed(
            'users',
            {
                'name': names.get(row.id),
                'domain_id': row.domain_id,
                'enabled': row.enabled,
            },
            rows.load_extra(row.extra),
            hashes.get(row.id),
        )
    for row in conn.execute(sa.select(schema.GROUP)):
        observed.groups[row.id] = rows.observed(
            'groups', columns('groups', row), rows.load_extra(row.extra)
        )
    for row in conn.execute(sa.select(schema.ASSIGNMENT)):
        grant = rows.grant_of(row, roles)
        if grant is not None:
            observed.assignments.add(grant)
    return observed


def global_roles(conn: sa.Connection) -> dict[str, str]:
    """Role id -> name, for the roles that are not domain-specific."""
    role = schema.ROLE
    return {
        row.id: row.name
        for row in conn.execute(
            sa.select(role.c.id, role.c.name).where(
                role.c.domain_id == schema.GLOBAL_ROLE_DOMAIN
            )
        )
    }


def find(conn: sa.Connection, kind: str, lid: str) -> Found | None:
    """The object ``lid`` of ``kind`` at the site, None if it has none."""
    if kind in ('domains', 'projects'):
        project = schema.PROJECT
        row = conn.execute(
            sa.select(project).where(project.c.id == lid)
        ).first()
        if (
            row is None
            or lid == schema.ROOT_DOMAIN
            or bool(row.is_domain) != (kind == 'domains')
        ):
            return None
        return Found(columns(kind, row), rows.load_extra(row.extra))
    if kind == 'groups':
        row = conn.execute(
            sa.select(schema.GROUP).where(schema.GROUP.c.id == lid)
        ).first()
        if row is None:
            return None
        return Found(columns(kind, row), rows.load_extra(row.extra))
    user, local = schema.USER, schema.LOCAL_USER
    found = conn.execute(
        sa.select(user.c.extra, user.c.enabled, user.c.domain_id, local.c.name)
        .select_from(user.outerjoin(local, local.c.user_id == user.c.id))
        .where(user.c.id == lid)
    ).first()
    if found is None:
        return None
    return Found(
        {
            'name': found.name,
            'enabled': found.enabled,
            'domain_id': found.domain_id,
        },
        rows.load_extra(found.extra),
    )


def name_taken(
    conn: sa.Connection, kind: str, name: str, domain_id: str | None
) -> str | None:
    """The id of the ``kind`` named ``name`` in ``domain_id``, if any."""
    if kind in ('domains', 'projects'):
        project = schema.PROJECT
        query = sa.select(project.c.id).where(
            (project.c.name == name)
            & (project.c.domain_id == (domain_id or schema.ROOT_DOMAIN))
        )
    elif kind == 'users':
        local = schema.LOCAL_USER
        query = sa.select(local.c.user_id).where(
            (local.c.name == name) & (local.c.domain_id == domain_id)
        )
    else:
        group = schema.GROUP
        query = sa.select(group.c.id).where(
            (group.c.name == name) & (group.c.domain_id == domain_id)
        )
    found = conn.execute(query).scalar()
    return None if found is None else str(found)


def user_names(conn: sa.Connection) -> dict[str, str]:
    """User id -> name, for local, non-local and federated users."""
    names: dict[str, str] = {}
    # Read so that Keystone's order of preference wins: local, then
    # non-local, then federated.
    for table, column in (
        (schema.FEDERATED_USER, schema.FEDERATED_USER.c.display_name),
        (schema.NONLOCAL_USER, schema.NONLOCAL_USER.c.name),
        (schema.LOCAL_USER, schema.LOCAL_USER.c.name),
    ):
        for user_id, name in conn.execute(sa.select(table.c.user_id, column)):
            if name is not None:
                names[user_id] = name
    return names


def newest_hashes(
    conn: sa.Connection, user_id: str | None = None
) -> dict[str, str | None]:
    """User id -> the hash Keystone checks (its newest password row)."""
    local, password = schema.LOCAL_USER, schema.PASSWORD
    query = (
        sa.select(local.c.user_id, password.c.password_hash)
        .select_from(
            password.join(local, local.c.id == password.c.local_user_id)
        )
        # Keystone's order: the last one seen for a user is its newest.
        .order_by(local.c.user_id, password.c.created_at_int, password.c.id)
    )
    if user_id is not None:
        query = query.where(local.c.user_id == user_id)
    return {row.user_id: row.password_hash for row in conn.execute(query)}


def local_user_id(conn: sa.Connection, user_id: str) -> int | None:
    local = schema.LOCAL_USER
    found = conn.execute(
        sa.select(local.c.id).where(local.c.user_id == user_id)
    ).scalar()
    return None if found is None else int(found)
