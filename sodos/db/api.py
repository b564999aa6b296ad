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

"""Reading and writing the history store.

Every function takes the caller's ``ConfigOpts`` and reads its
``[database]`` group. Each config object gets its own oslo.db
enginefacade (engine, pool, sessionmaker), made on first use: nothing
is configured on the global ``cfg.CONF`` (enginefacade only registers
oslo.db's options there, and every value it uses is passed explicitly).

Times are given and returned as the KB gives them, seconds since the
epoch (a ``datetime`` is accepted too, naive ones taken as UTC), and
stored as UTC. A database that cannot be reached, or refuses a
statement, raises :class:`DatabaseError`.
"""

from __future__ import annotations

import contextlib
import datetime
import threading
import weakref
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from oslo_config import cfg
from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import enginefacade
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from sodos import exception
from sodos.db import models

Time = float | datetime.datetime

_LOCK = threading.Lock()
_MANAGERS: dict[int, Any] = {}


class DatabaseError(exception.SodosError):
    """The history database cannot be reached, or refused a statement."""


@enginefacade.transaction_context_provider
class _Context:
    """What enginefacade keeps its per-thread transaction state on."""


def _manager(conf: cfg.ConfigOpts) -> Any:
    key = id(conf)
    with _LOCK:
        manager = _MANAGERS.get(key)
        if manager is None:
            manager = enginefacade.transaction_context()
            manager.configure(**dict(conf.database.items()))
            _MANAGERS[key] = manager
            weakref.finalize(conf, _MANAGERS.pop, key, None)
    return manager


def dispose(conf: cfg.ConfigOpts) -> None:
    """Close the connections of ``conf``'s engine and forget it."""
    with _LOCK:
        manager = _MANAGERS.pop(id(conf), None)
    if manager is not None:
        manager.dispose_pool()


def safe_url(conf: cfg.ConfigOpts) -> str:
    """``[database]connection`` without its password, for messages."""
    try:
        url = sa.engine.make_url(conf.database.connection)
    except (sa_exc.ArgumentError, ValueError, TypeError):
        return '<not a database URL>'
    return url.render_as_string(hide_password=True)


def _reason(exc: BaseException) -> str:
    # oslo.db wraps SQLAlchemy's error, which wraps the driver's: the
    # driver's says it best, and SQLAlchemy's adds lines of links.
    inner = getattr(exc, 'inner_exception', None) or exc
    cause = getattr(inner, 'orig', None) or inner
    text = str(cause).strip() or type(cause).__name__
    return text.splitlines()[0]


@contextlib.contextmanager
def translate_errors(conf: cfg.ConfigOpts) -> Iterator[None]:
    """Turn "cannot reach or use the database" into one clear error."""
    try:
        yield
    except db_exc.DBDuplicateEntry:
        raise  # an answer, for the caller to handle
    except sa_exc.ArgumentError as exc:  # bad URL, unknown dialect
        raise DatabaseError(
            '[database]connection: %s: %s' % (safe_url(conf), _reason(exc))
        ) from exc
    except ImportError as exc:  # the URL's driver is not installed
        raise DatabaseError(
            '[database]connection: %s: driver not installed: %s'
            % (safe_url(conf), exc)
        ) from exc
    except (db_exc.DBError, sa_exc.OperationalError) as exc:
        raise DatabaseError(
            'database %s: %s' % (safe_url(conf), _reason(exc))
        ) from exc


def get_engine(conf: cfg.ConfigOpts) -> sa.Engine:
    """The writer engine of ``conf``'s database (made on first use)."""
    with translate_errors(conf):
        engine: sa.Engine = _manager(conf).writer.get_engine()
    return engine


@contextlib.contextmanager
def _session(conf: cfg.ConfigOpts, write: bool) -> Iterator[orm.Session]:
    manager = _manager(conf)
    mode = manager.writer if write else manager.reader
    with translate_errors(conf), mode.using(_Context()) as session:
        yield session


def _replace(
    conf: cfg.ConfigOpts, column: orm.InstrumentedAttribute[str], row: Any
) -> None:
    with _session(conf, write=True) as session:
        # Delete, then insert, rather than session.merge(): on SQLite a
        # transaction that reads before it writes fails at once when
        # another thread writes, where one that writes first waits.
        session.execute(
            sa.delete(column.class_).where(column == getattr(row, column.key))
        )
        session.add(row)


def _utc(value: Time | None) -> datetime.datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.UTC)
        return value.replace(tzinfo=None)
    return datetime.datetime.fromtimestamp(value, datetime.UTC).replace(
        tzinfo=None
    )


def _epoch(value: datetime.datetime | None) -> float | None:
    if value is None:
        return None
    return value.replace(tzinfo=datetime.UTC).timestamp()


def _as_dict(row: models.Base) -> dict[str, Any]:
    out = {}
    for column in row.__table__.columns:
        value = getattr(row, column.key)
        if isinstance(value, datetime.datetime):
            value = _epoch(value)
        out[column.key] = value
    return out


def record_action(
    conf: cfg.ConfigOpts,
    *,
    action_id: str,
    site: str,
    kind: str,
    params: dict[str, Any],
    state: str,
    created_at: Time,
    ended_at: Time | None = None,
    result: dict[str, Any] | None = None,
) -> None:
    """Keep an executed action; recording it again replaces it."""
    row = models.ExecutedAction(
        action_id=action_id,
        site=site,
        kind=kind,
        params=params,
        state=state,
        result=result,
        created_at=_utc(created_at),
        ended_at=_utc(ended_at),
    )
    _replace(conf, models.ExecutedAction.action_id, row)


def record_alert(
    conf: cfg.ConfigOpts,
    *,
    alert_id: str,
    site: str,
    kind: str,
    severity: str,
    message: str,
    raised_at: Time,
    closed_at: Time,
    reason: str | None = None,
) -> None:
    """Keep a closed alert; recording it again replaces it."""
    row = models.ClosedAlert(
        alert_id=alert_id,
        site=site,
        kind=kind,
        severity=severity,
        message=message,
        raised_at=_utc(raised_at),
        closed_at=_utc(closed_at),
        reason=reason,
    )
    _replace(conf, models.ClosedAlert.alert_id, row)


def record_monitoring(
    conf: cfg.ConfigOpts,
    *,
    site: str,
    collected_at: Time,
    summary: dict[str, Any],
) -> bool:
    """Keep a monitoring sample; False if it was already kept."""
    row = models.MonitoringSample(
        site=site, collected_at=_utc(collected_at), summary=summary
    )
    try:
        with _session(conf, write=True) as session:
            session.add(row)
    except db_exc.DBDuplicateEntry:
        return False
    return True


def recent_actions(
    conf: cfg.ConfigOpts, limit: int = 50, site: str | None = None
) -> list[dict[str, Any]]:
    """The latest executed actions (of ``site``), newest first."""
    query = sa.select(models.ExecutedAction)
    if site is not None:
        query = query.where(models.ExecutedAction.site == site)
    query = query.order_by(
        models.ExecutedAction.created_at.desc(),
        models.ExecutedAction.action_id,
    ).limit(limit)
    with _session(conf, write=False) as session:
        return [_as_dict(row) for row in session.scalars(query)]


def alerts(
    conf: cfg.ConfigOpts,
    site: str | None = None,
    since: Time | None = None,
    severity: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Closed alerts (of ``site``, closed at or after ``since``), newest
    first."""
    model = models.ClosedAlert
    query = sa.select(model)
    if site is not None:
        query = query.where(model.site == site)
    if since is not None:
        query = query.where(model.closed_at >= _utc(since))
    if severity is not None:
        query = query.where(model.severity == severity)
    query = query.order_by(model.closed_at.desc(), model.alert_id)
    with _session(conf, write=False) as session:
        return [_as_dict(row) for row in session.scalars(query.limit(limit))]


def monitoring_history(
    conf: cfg.ConfigOpts,
    site: str,
    since: Time | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """The samples of ``site`` collected at or after ``since``, oldest
    first; with ``limit``, the latest ``limit`` of them."""
    model = models.MonitoringSample
    query = sa.select(model).where(model.site == site)
    if since is not None:
        query = query.where(model.collected_at >= _utc(since))
    query = query.order_by(model.collected_at.desc())
    if limit is not None:
        query = query.limit(limit)
    with _session(conf, write=False) as session:
        rows = [_as_dict(row) for row in session.scalars(query)]
    return rows[::-1]


def add_usage(
    conf: cfg.ConfigOpts,
    rows: dict[tuple[float, str, str, str], dict[str, float]],
    at: Time,
) -> int:
    """Add usage to its rows, keyed ``(hour start, site, owner,
    project)`` (sodos.domain.accounting.accrue); returns rows touched."""
    model = models.Usage
    metrics = ('vcpu_hours', 'ram_gb_hours', 'member_hours')
    with _session(conf, write=True) as session:
        for (hour, site, owner, project), used in sorted(rows.items()):
            period = _utc(hour)
            # Update first (a write, see _replace); insert what is new.
            done = session.execute(
                sa.update(model)
                .where(
                    model.period_start == period,
                    model.site == site,
                    model.owner == owner,
                    model.project == project,
                )
                .values(
                    updated_at=_utc(at),
                    **{
                        m: getattr(model, m) + float(used.get(m, 0.0))
                        for m in metrics
                    },
                )
            )
            if not done.rowcount:  # type: ignore[attr-defined]
                session.add(
                    model(
                        period_start=period,
                        site=site,
                        owner=owner,
                        project=project,
                        updated_at=_utc(at),
                        **{m: float(used.get(m, 0.0)) for m in metrics},
                    )
                )
    return len(rows)


def usage(
    conf: cfg.ConfigOpts,
    *,
    owner: str | None = None,
    project: str | None = None,
    site: str | None = None,
    start: Time | None = None,
    end: Time | None = None,
) -> list[dict[str, Any]]:
    """Usage rows (one per hour, site, owner, project) of the hours
    that start at or after ``start`` and before ``end``, oldest first."""
    model = models.Usage
    query = sa.select(model)
    for column, value in (
        (model.owner, owner),
        (model.project, project),
        (model.site, site),
    ):
        if value is not None:
            query = query.where(column == value)
    if start is not None:
        query = query.where(model.period_start >= _utc(start))
    if end is not None:
        query = query.where(model.period_start < _utc(end))
    query = query.order_by(
        model.period_start, model.site, model.owner, model.project
    )
    with _session(conf, write=False) as session:
        rows = [_as_dict(row) for row in session.scalars(query)]
    for row in rows:
        del row['id']
    return rows
