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

"""Keystone's tables as the shared identity writer uses them, and the gate.

Writing another project's database couples sodos to its schema. Keystone
(since Yoga) versions it with alembic, in two branches (expand and
contract) whose heads are the rows of ``alembic_version``. The writer
writes only to a database whose heads are in :data:`KNOWN_HEADS`, the
versions it was checked against, and only once every table and column
declared here is found in it. Anything else is refused before a row is
written: an upgraded Keystone stops the writer rather than being
corrupted by it.

Only the columns sodos reads or writes are declared; the others keep
their server defaults. The declarations are also the schema of the
writer's unit tests (``METADATA.create_all`` on SQLite).
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping

import sqlalchemy as sa

from sodos.exec.drivers import base as driver

# The heads each known schema has in ``alembic_version`` (both branches).
# Keystone 30.0.0 (tools/openstack-constraints.txt) is the release the
# writer is tested with. The migrations since 2023.2 (bobcat) touch none
# of the tables below (a federation mapping column, indexes on
# project_endpoint_group and revocation_event): an older release can be
# added here once the writer's integration test has run against it.
KNOWN_HEADS: dict[frozenset[str], str] = {
    frozenset({'742c857f1dfb', 'c88cdce8f248'}): 'Keystone 30.0.0',
}

# A domain is a project row with is_domain set, whose domain_id is this.
ROOT_DOMAIN = '<<keystone.domain.root>>'
# The domain_id of a global (not domain-specific) role.
GLOBAL_ROLE_DOMAIN = '<<null>>'
FIX = 'use [identity]mode = api or upgrade sodos'

METADATA = sa.MetaData()

ALEMBIC_VERSION = sa.Table(
    'alembic_version',
    METADATA,
    sa.Column('version_num', sa.String(32), primary_key=True),
)
PROJECT = sa.Table(
    'project',
    METADATA,
    sa.Column('id', sa.String(64), primary_key=True),
    sa.Column('name', sa.String(64), nullable=False),
    sa.Column('extra', sa.Text),
    sa.Column('description', sa.Text),
    sa.Column('enabled', sa.Boolean),
    sa.Column('domain_id', sa.String(64), nullable=False),
    sa.Column('parent_id', sa.String(64)),
    sa.Column('is_domain', sa.Boolean, nullable=False),
    sa.UniqueConstraint('domain_id', 'name'),
)
USER = sa.Table(
    'user',
    METADATA,
    sa.Column('id', sa.String(64), primary_key=True),
    sa.Column('extra', sa.Text),
    sa.Column('enabled', sa.Boolean),
    sa.Column('default_project_id', sa.String(64)),
    sa.Column('created_at', sa.DateTime),
    sa.Column('domain_id', sa.String(64), nullable=False),
)
LOCAL_USER = sa.Table(
    'local_user',
    METADATA,
    sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
    sa.Column('user_id', sa.String(64), nullable=False, unique=True),
    sa.Column('domain_id', sa.String(64), nullable=False),
    sa.Column('name', sa.String(255), nullable=False),
    sa.Column('failed_auth_count', sa.Integer),
    sa.Column('failed_auth_at', sa.DateTime),
    sa.UniqueConstraint('domain_id', 'name'),
)
PASSWORD = sa.Table(
    'password',
    METADATA,
    sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
    sa.Column('local_user_id', sa.Integer, nullable=False),
    sa.Column('password_hash', sa.String(255)),
    sa.Column('created_at', sa.DateTime, nullable=False),
    sa.Column('created_at_int', sa.BigInteger, nullable=False),
    sa.Column('expires_at', sa.DateTime),
    sa.Column('expires_at_int', sa.BigInteger),
    sa.Column('self_service', sa.Boolean, nullable=False),
)
USER_OPTION = sa.Table(
    'user_option',
    METADATA,
    sa.Column('user_id', sa.String(64), primary_key=True),
    sa.Column('option_id', sa.String(4), primary_key=True),
)
# Where a user that is not local (LDAP, federated) has its name.
NONLOCAL_USER = sa.Table(
    'nonlocal_user',
    METADATA,
    sa.Column('domain_id', sa.String(64), primary_key=True),
    sa.Column('name', sa.String(255), primary_key=True),
    sa.Column('user_id', sa.String(64), nullable=False),
)
FEDERATED_USER = sa.Table(
    'federated_user',
    METADATA,
    sa.Column('id', sa.Integer, primary_key=True),
    sa.Column('user_id', sa.String(64), nullable=False),
    sa.Column('display_name', sa.String(255)),
)
GROUP = sa.Table(
    'group',
    METADATA,
    sa.Column('id', sa.String(64), primary_key=True),
    sa.Column('domain_id', sa.String(64), nullable=False),
    sa.Column('name', sa.String(64), nullable=False),
    sa.Column('description', sa.Text),
    sa.Column('extra', sa.Text),
    sa.UniqueConstraint('domain_id', 'name'),
)
USER_GROUP_MEMBERSHIP = sa.Table(
    'user_group_membership',
    METADATA,
    sa.Column('user_id', sa.String(64), primary_key=True),
    sa.Column('group_id', sa.String(64), primary_key=True),
)
EXPIRING_MEMBERSHIP = sa.Table(
    'expiring_user_group_membership',
    METADATA,
    sa.Column('user_id', sa.String(64), primary_key=True),
    sa.Column('group_id', sa.String(64), primary_key=True),
)
ASSIGNMENT = sa.Table(
    'assignment',
    METADATA,
    # An enum in Keystone: UserProject, GroupProject, UserDomain,
    # GroupDomain.
    sa.Column('type', sa.String(64), primary_key=True),
    sa.Column('actor_id', sa.String(64), primary_key=True),
    sa.Column('target_id', sa.String(64), primary_key=True),
    sa.Column('role_id', sa.String(64), primary_key=True),
    sa.Column('inherited', sa.Boolean, primary_key=True),
)
SYSTEM_ASSIGNMENT = sa.Table(
    'system_assignment',
    METADATA,
    sa.Column('type', sa.String(64), primary_key=True),
    sa.Column('actor_id', sa.String(64), primary_key=True),
    sa.Column('target_id', sa.String(64), primary_key=True),
    sa.Column('role_id', sa.String(64), primary_key=True),
    sa.Column('inherited', sa.Boolean, primary_key=True),
)
ROLE = sa.Table(
    'role',
    METADATA,
    sa.Column('id', sa.String(64), primary_key=True),
    sa.Column('name', sa.String(255), nullable=False),
    sa.Column('domain_id', sa.String(64), nullable=False),
)
# What Keystone deletes with a project and sodos therefore does too.
PROJECT_TAG = sa.Table(
    'project_tag',
    METADATA,
    sa.Column('project_id', sa.String(64), primary_key=True),
    sa.Column('name', sa.Unicode(255), primary_key=True),
)
PROJECT_OPTION = sa.Table(
    'project_option',
    METADATA,
    sa.Column('project_id', sa.String(64), primary_key=True),
    sa.Column('option_id', sa.String(4), primary_key=True),
)
PROJECT_ENDPOINT = sa.Table(
    'project_endpoint',
    METADATA,
    sa.Column('endpoint_id', sa.String(64), primary_key=True),
    sa.Column('project_id', sa.String(64), primary_key=True),
)
PROJECT_ENDPOINT_GROUP = sa.Table(
    'project_endpoint_group',
    METADATA,
    sa.Column('endpoint_group_id', sa.String(64), primary_key=True),
    sa.Column('project_id', sa.String(64), primary_key=True),
)
# Written when the federation changes a password, as Keystone's own
# password change does (revoke_by_user): the tokens made before it.
REVOCATION_EVENT = sa.Table(
    'revocation_event',
    METADATA,
    sa.Column('id', sa.Integer, primary_key=True),
    sa.Column('user_id', sa.String(64)),
    sa.Column('issued_before', sa.DateTime),
    sa.Column('revoked_at', sa.DateTime),
)
LIMIT = sa.Table(
    'limit',
    METADATA,
    sa.Column('internal_id', sa.Integer, primary_key=True),
    sa.Column('project_id', sa.String(64)),
    sa.Column('domain_id', sa.String(64)),
)


class SchemaRefused(driver.PermanentError):
    """The Keystone database is not one the writer may write."""


def describe(heads: Iterable[str]) -> str:
    return '+'.join(sorted(heads)) or '(none)'


def known() -> str:
    return ', '.join(
        '%s (%s)' % (describe(heads), label)
        for heads, label in sorted(KNOWN_HEADS.items(), key=lambda i: i[1])
    )


def check_heads(heads: frozenset[str]) -> str:
    """The label of a known schema version.

    :raises SchemaRefused: for any other.
    """
    label = KNOWN_HEADS.get(heads)
    if label is None:
        raise SchemaRefused(
            'Keystone database schema %s is not one sodos knows (known: '
            '%s): shared identity mode refuses to write it; %s'
            % (describe(heads), known(), FIX)
        )
    return label


def missing_columns(found: Mapping[str, Iterable[str] | None]) -> list[str]:
    """``table`` or ``table.column`` for each of :data:`METADATA`'s that
    ``found`` (table name -> its column names, None if absent) lacks."""
    missing = []
    for table in METADATA.sorted_tables:
        columns = found.get(table.name)
        if columns is None:
            missing.append(table.name)
            continue
        have = set(columns)
        missing.extend(
            '%s.%s' % (table.name, column.name)
            for column in table.columns
            if column.name not in have
        )
    return missing


def check_columns(found: Mapping[str, Iterable[str] | None]) -> None:
    missing = missing_columns(found)
    if missing:
        raise SchemaRefused(
            'the Keystone database lacks %s, which the shared identity '
            'writer needs: shared identity mode refuses to write it; %s'
            % (', '.join(missing), FIX)
        )


def read_heads(conn: sa.Connection) -> frozenset[str]:
    """The alembic heads of the database.

    :raises SchemaRefused: there is no ``alembic_version`` table.
    """
    if not sa.inspect(conn).has_table(ALEMBIC_VERSION.name):
        raise SchemaRefused(
            'the database has no alembic_version table: it is not a '
            'Keystone database, or one older than Yoga, or one never '
            'synced (keystone-manage db_sync); shared identity mode '
            'refuses to write it; %s' % FIX
        )
    return frozenset(
        conn.execute(sa.select(ALEMBIC_VERSION.c.version_num)).scalars()
    )


def reflect(conn: sa.Connection) -> dict[str, list[str] | None]:
    """Table name -> its column names, for the tables of METADATA."""
    inspector = sa.inspect(conn)
    tables = set(inspector.get_table_names())
    return {
        table.name: (
            [c['name'] for c in inspector.get_columns(table.name)]
            if table.name in tables
            else None
        )
        for table in METADATA.sorted_tables
    }


class Gate:
    """Checks, once per schema version met, that the database may be
    written; then only that its version did not change."""

    def __init__(self) -> None:
        self.accepted: frozenset[str] | None = None
        self.label = ''

    def check(self, conn: sa.Connection) -> None:
        """:raises SchemaRefused: the database may not be written."""
        if self.accepted is None:
            heads = read_heads(conn)
        else:
            heads = frozenset(
                conn.execute(
                    sa.select(ALEMBIC_VERSION.c.version_num)
                ).scalars()
            )
        if heads == self.accepted:
            return
        # Keystone was upgraded (or this is the first look): all again.
        self.accepted = None
        label = check_heads(heads)
        check_columns(reflect(conn))
        self.accepted, self.label = heads, label
