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

"""Deleting an object from Keystone's tables with what Keystone deletes
with it.

Keystone's API deletes a project's role assignments, tags, options,
endpoint filters and limits with it, and a user's or group's role
assignments and memberships; the rows are deleted here in the same
transaction, children first, so that the foreign keys (and a SQLite
without them) see no orphan. What Keystone would cascade further (a
domain's contents, a project's sub-projects) is refused instead: sodos
deletes only what it can see is empty.

Credentials, application credentials and trusts of a deleted user or
project are left: they name a user or project that no longer exists and
no token can be had from them.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from sodos.exec.drivers import base as driver
from sodos.exec.drivers.openstack.keystone_db import schema

_USER_TYPES = ('UserProject', 'UserDomain')
_GROUP_TYPES = ('GroupProject', 'GroupDomain')


def delete(conn: sa.Connection, kind: str, lid: str, name: str | None) -> None:
    """Delete ``kind`` ``lid`` (named ``name``) and what goes with it.

    :raises PermanentError: it is a domain that is not empty or a
        project with sub-projects.
    """
    _DELETERS[kind](conn, lid, name or lid)


def _domain(conn: sa.Connection, lid: str, name: str) -> None:
    held = []
    for label, table in (
        ('project', schema.PROJECT),
        ('user', schema.USER),
        ('group', schema.GROUP),
        ('role', schema.ROLE),
    ):
        count = conn.execute(
            sa.select(sa.func.count())
            .select_from(table)
            .where(table.c.domain_id == lid)
        ).scalar()
        if count:
            held.append('%d %s(s)' % (count, label))
    if held:
        raise driver.PermanentError(
            'domain %s still holds %s: Keystone would delete them with it, '
            'sodos deletes an empty domain only' % (name, ', '.join(held))
        )
    _target_rows(conn, lid, ('UserDomain', 'GroupDomain'))
    conn.execute(
        sa.delete(schema.LIMIT).where(schema.LIMIT.c.domain_id == lid)
    )
    _project_row(conn, lid)


def _project(conn: sa.Connection, lid: str, name: str) -> None:
    project = schema.PROJECT
    children = sorted(
        conn.execute(
            sa.select(project.c.name).where(project.c.parent_id == lid)
        ).scalars()
    )
    if children:
        raise driver.PermanentError(
            'project %s has sub-projects (%s): delete them first'
            % (name, ', '.join(children))
        )
    _target_rows(conn, lid, ('UserProject', 'GroupProject'))
    for table in (
        schema.PROJECT_ENDPOINT,
        schema.PROJECT_ENDPOINT_GROUP,
        schema.LIMIT,
    ):
        conn.execute(sa.delete(table).where(table.c.project_id == lid))
    user = schema.USER
    conn.execute(
        sa.update(user)
        .where(user.c.default_project_id == lid)
        .values(default_project_id=None)
    )
    _project_row(conn, lid)


def _user(conn: sa.Connection, lid: str, name: str) -> None:
    local, password = schema.LOCAL_USER, schema.PASSWORD
    local_ids = sa.select(local.c.id).where(local.c.user_id == lid)
    conn.execute(
        sa.delete(password).where(password.c.local_user_id.in_(local_ids))
    )
    conn.execute(sa.delete(local).where(local.c.user_id == lid))
    conn.execute(
        sa.delete(schema.USER_OPTION).where(
            schema.USER_OPTION.c.user_id == lid
        )
    )
    for table in (schema.USER_GROUP_MEMBERSHIP, schema.EXPIRING_MEMBERSHIP):
        conn.execute(sa.delete(table).where(table.c.user_id == lid))
    _actor_rows(conn, lid, _USER_TYPES, 'UserSystem')
    conn.execute(sa.delete(schema.USER).where(schema.USER.c.id == lid))


def _group(conn: sa.Connection, lid: str, name: str) -> None:
    for table in (schema.USER_GROUP_MEMBERSHIP, schema.EXPIRING_MEMBERSHIP):
        conn.execute(sa.delete(table).where(table.c.group_id == lid))
    _actor_rows(conn, lid, _GROUP_TYPES, 'GroupSystem')
    conn.execute(sa.delete(schema.GROUP).where(schema.GROUP.c.id == lid))


def _target_rows(
    conn: sa.Connection, lid: str, types: tuple[str, ...]
) -> None:
    assignment = schema.ASSIGNMENT
    conn.execute(
        sa.delete(assignment).where(
            (assignment.c.target_id == lid) & assignment.c.type.in_(types)
        )
    )


def _actor_rows(
    conn: sa.Connection, lid: str, types: tuple[str, ...], system: str
) -> None:
    assignment, system_table = schema.ASSIGNMENT, schema.SYSTEM_ASSIGNMENT
    conn.execute(
        sa.delete(assignment).where(
            (assignment.c.actor_id == lid) & assignment.c.type.in_(types)
        )
    )
    conn.execute(
        sa.delete(system_table).where(
            (system_table.c.actor_id == lid) & (system_table.c.type == system)
        )
    )


def _project_row(conn: sa.Connection, lid: str) -> None:
    for table in (schema.PROJECT_TAG, schema.PROJECT_OPTION):
        conn.execute(sa.delete(table).where(table.c.project_id == lid))
    conn.execute(sa.delete(schema.PROJECT).where(schema.PROJECT.c.id == lid))


_DELETERS: dict[str, Callable[[sa.Connection, str, str], None]] = {
    'domains': _domain,
    'projects': _project,
    'users': _user,
    'groups': _group,
}
