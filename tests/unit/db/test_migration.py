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

import os

import pytest
import sqlalchemy as sa
from alembic import autogenerate
from alembic import command
from alembic.runtime import migration as alembic_migration

from sodos.db import api
from sodos.db import migration
from sodos.db import models


def schema_diff(conf):
    """What alembic would change to make the database match the models."""
    with api.get_engine(conf).connect() as connection:
        context = alembic_migration.MigrationContext.configure(
            connection,
            opts={'compare_type': True, 'compare_server_default': True},
        )
        return autogenerate.compare_metadata(context, models.Base.metadata)


def table_names(conf):
    return set(sa.inspect(api.get_engine(conf)).get_table_names())


def test_a_new_database_has_no_revision(empty_db):
    assert migration.version(empty_db) is None


def test_upgrade_reaches_head(empty_db):
    assert migration.head() == '0002'
    assert migration.upgrade(empty_db) == '0002'
    assert migration.version(empty_db) == '0002'
    assert table_names(empty_db) == {
        'alembic_version',
        'executed_actions',
        'closed_alerts',
        'monitoring_history',
        'usage',
    }


def test_the_usage_table_comes_with_0002_and_goes_with_it(empty_db):
    assert migration.upgrade(empty_db, '0001') == '0001'
    assert 'usage' not in table_names(empty_db)
    assert migration.upgrade(empty_db) == '0002'
    assert 'usage' in table_names(empty_db)
    with api.get_engine(empty_db).begin() as connection:
        command.downgrade(migration.alembic_config(connection), '0001')
    assert 'usage' not in table_names(empty_db)
    assert migration.version(empty_db) == '0001'


def test_the_migrations_make_the_schema_of_the_models(db):
    assert schema_diff(db) == []


def test_the_comparison_sees_a_model_the_migrations_lack(db):
    # The check above would catch a forgotten revision.
    extra = sa.Table(
        'not_migrated', models.Base.metadata, sa.Column('x', sa.Integer)
    )
    try:
        assert [d[0] for d in schema_diff(db)] == ['add_table']
    finally:
        models.Base.metadata.remove(extra)


def test_upgrade_twice_changes_nothing(db):
    assert migration.upgrade(db) == '0002'
    assert schema_diff(db) == []


def test_downgrade_to_base_removes_the_tables(db):
    with api.get_engine(db).begin() as connection:
        command.downgrade(migration.alembic_config(connection), 'base')
    assert table_names(db) == {'alembic_version'}
    assert migration.version(db) is None
    assert migration.upgrade(db) == '0002'


def test_an_unknown_revision_is_refused(empty_db):
    with pytest.raises(api.DatabaseError, match="revision nope: Can't"):
        migration.upgrade(empty_db, 'nope')


def test_the_migrations_ship_with_the_package():
    # pbr packages these files only when git tracks them.
    names = set(os.listdir(migration.MIGRATIONS_DIR))
    assert {'env.py', 'script.py.mako', 'versions'} <= names
    versions = os.listdir(os.path.join(migration.MIGRATIONS_DIR, 'versions'))
    assert {'0001_initial.py', '0002_usage.py'} <= set(versions)
