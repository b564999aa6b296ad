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

"""The history store: what no longer belongs in the Knowledge Base.

Executed actions, closed alerts, old monitoring samples and the usage of
owners and projects per site and hour, kept in a SQL
database local to each site (``[database]connection``). The KB holds the
current truth only; these tables are never read back into it.

The schema is owned by the alembic migrations in
``sodos/db/migrations/versions``: change a model here and add a revision
there (the unit tests compare both).
"""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.dialects import mysql

# Deterministic constraint names, the same on SQLite and MariaDB, so that
# later migrations can name what they alter.
NAMING_CONVENTION = {
    'ix': 'ix_%(table_name)s_%(column_0_N_name)s',
    'uq': 'uq_%(table_name)s_%(column_0_N_name)s',
    'ck': 'ck_%(table_name)s_%(constraint_name)s',
    'fk': 'fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s',
    'pk': 'pk_%(table_name)s',
}

# KB identifiers: 32 hex digits (36 leaves room for dashed UUIDs); site
# names and kinds follow sodos.domain.schemas.NAME (63 characters at most).
ID = sa.String(36)
NAME = sa.String(64)
# MySQL's DATETIME drops the fraction of a second unless told otherwise;
# samples a few hundred milliseconds apart must stay apart.
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')


# Spelled out for MariaDB: a database created with another default
# charset would refuse non-Latin text in messages and results.
MYSQL_OPTIONS = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4'}


class Base(orm.DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class ExecutedAction(Base):
    """An action that ended (done or failed) at ``site``."""

    __tablename__ = 'executed_actions'
    __table_args__ = (
        sa.Index(None, 'created_at'),
        sa.Index(None, 'site', 'created_at'),
        MYSQL_OPTIONS,
    )

    action_id: orm.Mapped[str] = orm.mapped_column(ID, primary_key=True)
    site: orm.Mapped[str] = orm.mapped_column(NAME)
    kind: orm.Mapped[str] = orm.mapped_column(NAME)
    params: orm.Mapped[dict[str, Any]] = orm.mapped_column(sa.JSON)
    state: orm.Mapped[str] = orm.mapped_column(sa.String(16))
    result: orm.Mapped[dict[str, Any] | None] = orm.mapped_column(sa.JSON)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(TIMESTAMP)
    ended_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        TIMESTAMP
    )


class ClosedAlert(Base):
    """An alert raised about ``site`` and closed since."""

    __tablename__ = 'closed_alerts'
    __table_args__ = (
        sa.Index(None, 'closed_at'),
        sa.Index(None, 'site', 'closed_at'),
        MYSQL_OPTIONS,
    )

    alert_id: orm.Mapped[str] = orm.mapped_column(ID, primary_key=True)
    site: orm.Mapped[str] = orm.mapped_column(NAME)
    kind: orm.Mapped[str] = orm.mapped_column(NAME)
    severity: orm.Mapped[str] = orm.mapped_column(sa.String(16))
    message: orm.Mapped[str] = orm.mapped_column(sa.String(1024))
    raised_at: orm.Mapped[datetime.datetime] = orm.mapped_column(TIMESTAMP)
    closed_at: orm.Mapped[datetime.datetime] = orm.mapped_column(TIMESTAMP)
    reason: orm.Mapped[str | None] = orm.mapped_column(sa.String(1024))


class MonitoringSample(Base):
    """One monitoring summary of ``site``, as it was at ``collected_at``."""

    __tablename__ = 'monitoring_history'
    # Unique: the same sample recorded twice (a retry) is kept once.
    __table_args__ = (
        sa.Index(None, 'site', 'collected_at', unique=True),
        MYSQL_OPTIONS,
    )

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True)
    site: orm.Mapped[str] = orm.mapped_column(NAME)
    collected_at: orm.Mapped[datetime.datetime] = orm.mapped_column(TIMESTAMP)
    summary: orm.Mapped[dict[str, Any]] = orm.mapped_column(sa.JSON)


class Usage(Base):
    """What one project (of one owner) used at ``site`` in the hour
    starting at ``period_start`` (sodos.domain.accounting)."""

    __tablename__ = 'usage'
    # One row per hour, site, owner and project: a sample adds to it.
    __table_args__ = (
        sa.Index(
            None, 'period_start', 'site', 'owner', 'project', unique=True
        ),
        sa.Index(None, 'owner', 'period_start'),
        sa.Index(None, 'project', 'period_start'),
        MYSQL_OPTIONS,
    )

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True)
    period_start: orm.Mapped[datetime.datetime] = orm.mapped_column(TIMESTAMP)
    site: orm.Mapped[str] = orm.mapped_column(NAME)
    # A Keystone domain id; '' for a project of no known owner.
    owner: orm.Mapped[str] = orm.mapped_column(NAME)
    # A global project id; '' for the service project.
    project: orm.Mapped[str] = orm.mapped_column(NAME)
    # Double, not FLOAT: MySQL's FLOAT keeps 7 digits, and a year of
    # hours summed would lose the last samples.
    vcpu_hours: orm.Mapped[float] = orm.mapped_column(sa.Double)
    ram_gb_hours: orm.Mapped[float] = orm.mapped_column(sa.Double)
    member_hours: orm.Mapped[float] = orm.mapped_column(sa.Double)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(TIMESTAMP)
