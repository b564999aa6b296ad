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

"""This site's Keystone revocation events, read and written in its database.

Keystone offers no API to add a revocation event made elsewhere, and
checks only its own ``revocation_event`` table when it validates a
token: a token revoked at one site stays valid at the others until the
row is there too. This module reads and
inserts those rows with SQLAlchemy Core on
``[identity]keystone_database_connection``, by content, never by the
per-site autoincrement id.

Times are naive UTC, as Keystone stores them. With ``[revoke]caching``
and memcached, Keystone sees a new row only when its cache entry
expires; the services' keystonemiddleware caches validations for
``token_cache_time`` (300 s) in any case.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy
from sqlalchemy import exc as sa_exc

from sodos.exec.identity.keys import RevocationError
from sodos.kb import identity_keys

TABLE = 'revocation_event'


def to_event(row: Any) -> dict[str, Any]:
    """A table row as the KB stores an event (no id, no nulls)."""
    event = {}
    for field in identity_keys.EVENT_FIELDS:
        value = row[field]
        if value is None:
            continue
        if field in identity_keys.TIME_FIELDS:
            value = identity_keys.format_time(value)
        event[field] = value
    return event


def to_row(event: dict[str, Any]) -> dict[str, Any]:
    """An event of the KB as a row to insert (Keystone numbers it)."""
    row: dict[str, Any] = {}
    for field in identity_keys.EVENT_FIELDS:
        value = event.get(field)
        if value is not None and field in identity_keys.TIME_FIELDS:
            value = identity_keys.parse_time(value)
        row[field] = value
    return row


class RevocationTable:
    """Keystone's ``revocation_event`` table at one site."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._engine: sqlalchemy.engine.Engine | None = None
        self._table: sqlalchemy.Table | None = None

    def __repr__(self) -> str:
        # Never the URL: it holds the database password.
        return '<RevocationTable>'

    def _ready(self) -> tuple[sqlalchemy.engine.Engine, sqlalchemy.Table]:
        if self._engine is None or self._table is None:
            try:
                engine = sqlalchemy.create_engine(
                    self._url, pool_pre_ping=True
                )
            except (sa_exc.ArgumentError, ImportError) as exc:
                raise RevocationError(
                    '[identity]keystone_database_connection is not usable: '
                    '%s' % exc
                ) from None
            try:
                table = sqlalchemy.Table(
                    TABLE, sqlalchemy.MetaData(), autoload_with=engine
                )
            except sa_exc.NoSuchTableError:
                engine.dispose()
                raise RevocationError(
                    'no %s table in the Keystone database: is '
                    '[identity]keystone_database_connection the database '
                    "of this site's Keystone?" % TABLE
                ) from None
            except sa_exc.SQLAlchemyError as exc:
                engine.dispose()
                raise _error('cannot reach', exc) from None
            missing = sorted(
                set(identity_keys.EVENT_FIELDS) - set(table.columns.keys())
            )
            if missing:
                engine.dispose()
                raise RevocationError(
                    'the Keystone %s table lacks column(s) %s: this Keystone '
                    'release is not supported' % (TABLE, ', '.join(missing))
                )
            self._engine, self._table = engine, table
        return self._engine, self._table

    def list_events(self, since: str) -> list[dict[str, Any]]:
        """The events revoked at ``since`` (a KB time) or later."""
        engine, table = self._ready()
        query = sqlalchemy.select(
            *[table.c[f] for f in identity_keys.EVENT_FIELDS]
        ).where(table.c.revoked_at >= identity_keys.parse_time(since))
        try:
            with engine.connect() as conn:
                rows = conn.execute(query).mappings().all()
        except sa_exc.SQLAlchemyError as exc:
            raise _error('cannot read', exc) from None
        return [to_event(row) for row in rows]

    def insert(self, events: list[dict[str, Any]]) -> int:
        """Add ``events`` in one transaction; the number added."""
        if not events:
            return 0
        engine, table = self._ready()
        try:
            with engine.begin() as conn:
                conn.execute(table.insert(), [to_row(e) for e in events])
        except sa_exc.SQLAlchemyError as exc:
            raise _error('cannot write', exc) from None
        return len(events)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
        self._engine = self._table = None


def _error(what: str, exc: sa_exc.SQLAlchemyError) -> RevocationError:
    # The DBAPI's own message, without SQLAlchemy's statement and
    # parameters (the events) around it.
    detail = getattr(exc, 'orig', None) or exc
    return RevocationError(
        '%s the Keystone %s table: %s' % (what, TABLE, detail)
    )
