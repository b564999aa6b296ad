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

"""A user's password in Keystone's tables, as the ``shared`` writer sets it.

Stored as Keystone stores it (a ``password`` row with a bcrypt hash), the
KB's password version and a digest of the hash recorded in the user's
``extra``; a user already holding the wanted password keeps its row.
"""

from __future__ import annotations

import datetime
import math
from typing import Any

import sqlalchemy as sa

from sodos.exec.drivers import base as driver
from sodos.exec.drivers.openstack.keystone_db import read
from sodos.exec.drivers.openstack.keystone_db import rows
from sodos.exec.drivers.openstack.keystone_db import schema
from sodos.identity import converge
from sodos.identity import model


def set_password(
    conn: sa.Connection,
    op: converge.Op,
    uid: str,
    extra: dict[str, Any],
) -> None:
    """Make ``op``'s password the user's newest and record it in
    ``extra`` (which the caller writes)."""
    assert op.password is not None
    local_id = read.local_user_id(conn, uid)
    if local_id is None:
        raise driver.PermanentError(
            'user %s is not a local user of this Keystone: it has no '
            'password to set' % uid
        )
    newest = read.newest_hashes(conn, uid).get(uid)
    if not rows.verify_password(op.password, newest):
        if newest is not None and op.password_set_at is not None:
            revoke_tokens_before(conn, uid, op.password_set_at)
        newest = rows.hash_password(op.password)
        store(conn, local_id, newest)
    record(extra, op, newest)


def revoke_tokens_before(conn: sa.Connection, uid: str, set_at: float) -> None:
    """Revoke the user's tokens made before the federation changed its
    password, as Keystone does when a password changes. Every site writes
    the same event (the KB's time, in whole seconds as MariaDB keeps it,
    rounded up so that no token of the old password is spared), so the
    revocation copier stores it once."""
    when = datetime.datetime.fromtimestamp(
        math.ceil(set_at), datetime.UTC
    ).replace(tzinfo=None)
    event = schema.REVOCATION_EVENT
    found = conn.execute(
        sa.select(event.c.id).where(
            event.c.user_id == uid, event.c.issued_before == when
        )
    ).first()
    if found is None:
        conn.execute(
            sa.insert(event).values(
                user_id=uid, issued_before=when, revoked_at=when
            )
        )


def store(conn: sa.Connection, local_id: int, hashed: str) -> None:
    """Make ``hashed`` the local user's only password row: Keystone checks
    the newest one; older ones would only feed its password history,
    which sodos does not keep."""
    password = schema.PASSWORD
    conn.execute(
        sa.delete(password).where(password.c.local_user_id == local_id)
    )
    conn.execute(
        sa.insert(password).values(
            rows.password_row(local_id, hashed, rows.utcnow())
        )
    )


def record(extra: dict[str, Any], op: converge.Op, hashed: str | None) -> None:
    """Mark in a user's ``extra`` which KB password its hash holds."""
    extra[model.PASSWORD_VERSION] = op.password_version
    extra[rows.PASSWORD_CHECK] = rows.password_check(hashed)
