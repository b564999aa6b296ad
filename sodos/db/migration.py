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

"""Schema migrations of the history store (alembic).

``sodos-manage db sync`` calls :func:`upgrade`. The revisions live in
``sodos/db/migrations/versions``, numbered ``NNNN_what.py`` with
``revision = 'NNNN'``. To write the next one, change
:mod:`sodos.db.models`, then let alembic draft it against a database at
the current head::

    from alembic import command
    from sodos.db import api, migration
    with api.get_engine(conf).begin() as connection:
        command.revision(migration.alembic_config(connection),
                         'what changed', autogenerate=True,
                         rev_id='0002')

and rename the file it writes to ``0002_what_changed.py``.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from alembic import command
from alembic import config as alembic_config_mod
from alembic import util as alembic_util
from alembic.runtime import migration as alembic_migration
from oslo_config import cfg

from sodos.db import api

MIGRATIONS_DIR = os.path.join(os.path.dirname(__file__), 'migrations')


def alembic_config(
    connection: sa.Connection | None = None,
) -> alembic_config_mod.Config:
    """An alembic configuration over ``connection``; no alembic.ini."""
    config = alembic_config_mod.Config()
    config.set_main_option('script_location', MIGRATIONS_DIR)
    config.attributes['connection'] = connection
    return config


def upgrade(conf: cfg.ConfigOpts, revision: str = 'head') -> str | None:
    """Migrate ``conf``'s database to ``revision``; returns the new one.

    :raises api.DatabaseError: the database cannot be reached or used,
        or ``revision`` is unknown.
    """
    engine = api.get_engine(conf)
    with api.translate_errors(conf):
        try:
            with engine.begin() as connection:
                command.upgrade(alembic_config(connection), revision)
        except alembic_util.CommandError as exc:
            raise api.DatabaseError(
                'revision %s: %s' % (revision, exc)
            ) from exc
    return version(conf)


def version(conf: cfg.ConfigOpts) -> str | None:
    """The revision of ``conf``'s database; None if never migrated."""
    engine = api.get_engine(conf)
    with api.translate_errors(conf):
        with engine.connect() as connection:
            context = alembic_migration.MigrationContext.configure(connection)
            return context.get_current_revision()


def head() -> str | None:
    """The newest revision this code knows."""
    from alembic import script

    scripts = script.ScriptDirectory.from_config(alembic_config())
    return scripts.get_current_head()
