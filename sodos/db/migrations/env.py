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

"""alembic's environment for the history store.

:mod:`sodos.db.migration` runs it over a connection it made from
``[database]`` (``config.attributes['connection']``); ``alembic`` run by
hand with an ``sqlalchemy.url`` works too, and ``--sql`` (offline) prints
the SQL for a DBA instead.
"""

from typing import Any

import sqlalchemy as sa
from alembic import context

from sodos.db import models

config = context.config
target_metadata = models.Base.metadata


def _configure(**kwargs: Any) -> None:
    # Batch mode lets later revisions alter SQLite tables (copy and move).
    context.configure(
        target_metadata=target_metadata, render_as_batch=True, **kwargs
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    if context.is_offline_mode():
        _configure(
            url=config.get_main_option('sqlalchemy.url'), literal_binds=True
        )
        return
    connection = config.attributes.get('connection')
    if connection is not None:
        _configure(connection=connection)
        return
    engine = sa.create_engine(
        config.get_main_option('sqlalchemy.url', ''), poolclass=sa.NullPool
    )
    with engine.connect() as connection:
        _configure(connection=connection)


run()
