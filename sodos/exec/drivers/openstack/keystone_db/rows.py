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

"""Keystone rows from identity operations, and objects from rows: pure.

How Keystone 30 stores what sodos writes:

* a domain is a ``project`` row with ``is_domain`` set, under the root
  pseudo-domain; a project's ``parent_id`` is its domain;
* a user is a ``user`` row (enabled, domain), a ``local_user`` row (its
  name) and ``password`` rows, the newest of which Keystone checks;
* what a table has no column for (a user's description and email,
  sodos's marks) is in the row's ``extra``, a JSON object, which the API
  returns as attributes: sodos's marks read the same as the API writer's;
* a password hash is bcrypt's (Keystone's default): Keystone checks it
  by its prefix whatever its own ``[identity]password_hash_algorithm``.

Besides the marks of the API writer, a user made here carries
:data:`PASSWORD_CHECK`, a digest of the hash sodos wrote: a newest hash
that does not match it was set by someone else (by hand at the site).
"""

from __future__ import annotations

import datetime
import hashlib
import json
from typing import Any

import bcrypt

from sodos.exec.drivers.openstack.keystone_db import schema
from sodos.identity import converge
from sodos.identity import model

PASSWORD_CHECK = 'sodos_password_check'
# Keystone's bcrypt defaults: 12 rounds, and the password cut to the 72
# bytes bcrypt uses (Keystone cuts it the same way before checking it).
BCRYPT_ROUNDS = 12
BCRYPT_MAX_BYTES = 72

# The attributes of each kind that are columns of its main table; the
# others (but a user's name, in local_user) go to ``extra``.
COLUMNS = {
    'domains': frozenset({'name', 'description', 'enabled'}),
    'projects': frozenset({'name', 'description', 'enabled', 'domain_id'}),
    'users': frozenset({'enabled', 'domain_id'}),
    'groups': frozenset({'name', 'description', 'domain_id'}),
}
# The extra attributes read back, as the API writer reads them.
_READ_EXTRA = ('description', 'email', model.MARKER)
ASSIGNMENT_TYPES = {
    ('user', 'project'): 'UserProject',
    ('group', 'project'): 'GroupProject',
    ('user', 'domain'): 'UserDomain',
    ('group', 'domain'): 'GroupDomain',
}
_TYPES = {value: key for key, value in ASSIGNMENT_TYPES.items()}


# -- passwords ---------------------------------------------------------------


def _password_bytes(plain: str) -> bytes:
    return plain.encode('utf-8')[:BCRYPT_MAX_BYTES]


def hash_password(plain: str) -> str:
    """A bcrypt hash of ``plain`` that Keystone verifies."""
    salt = bcrypt.gensalt(BCRYPT_ROUNDS)
    return bcrypt.hashpw(_password_bytes(plain), salt).decode('ascii')


def verify_password(plain: str, hashed: str | None) -> bool:
    """True if ``hashed`` is a bcrypt hash of ``plain``; False for any
    other hash (sodos then writes its own)."""
    if not hashed or not hashed.startswith('$2'):
        return False
    try:
        return bcrypt.checkpw(_password_bytes(plain), hashed.encode('ascii'))
    except ValueError:
        return False


def password_check(hashed: str | None) -> str:
    """The digest kept in a user's extra of the hash sodos wrote."""
    return hashlib.sha256((hashed or '').encode('utf-8')).hexdigest()[:16]


def password_row(
    local_user_id: int, hashed: str, now: datetime.datetime
) -> dict[str, Any]:
    """A ``password`` row as Keystone writes one: never expiring."""
    return {
        'local_user_id': local_user_id,
        'password_hash': hashed,
        'created_at': now,
        'created_at_int': micros(now),
        'expires_at': None,
        'expires_at_int': None,
        'self_service': False,
    }


# -- rows from an operation --------------------------------------------------


def utcnow() -> datetime.datetime:
    """Now, naive UTC, as Keystone stores times."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def micros(when: datetime.datetime) -> int:
    """Keystone's ``DateTimeInt``: microseconds since the epoch (UTC)."""
    delta = when - datetime.datetime(1970, 1, 1)
    return (delta.days * 86400 + delta.seconds) * 1000000 + delta.microseconds


def load_extra(text: str | None) -> dict[str, Any]:
    """A row's ``extra``; a damaged one reads as empty."""
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def dump_extra(extra: dict[str, Any]) -> str:
    return json.dumps(extra, sort_keys=True)


def split(
    kind: str, attrs: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(columns, extra) of ``attrs``; None values are left out: the KB
    leaves those attributes to the site."""
    columns: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in attrs.items():
        if value is None:
            continue
        if key in COLUMNS[kind] or (kind == 'users' and key == 'name'):
            columns[key] = value
        else:
            extra[key] = value
    return columns, extra


def main_row(
    kind: str, gid: str, attrs: dict[str, Any], now: datetime.datetime
) -> dict[str, Any]:
    """The row of ``kind``'s main table for a new object with id ``gid``."""
    columns, extra = split(kind, attrs)
    row: dict[str, Any] = {'id': gid, 'extra': dump_extra(extra)}
    if kind == 'domains':
        row.update(
            name=columns['name'],
            description=columns.get('description', ''),
            enabled=columns.get('enabled', True),
            domain_id=schema.ROOT_DOMAIN,
            parent_id=None,
            is_domain=True,
        )
    elif kind == 'projects':
        row.update(
            name=columns['name'],
            description=columns.get('description', ''),
            enabled=columns.get('enabled', True),
            domain_id=columns['domain_id'],
            parent_id=columns['domain_id'],
            is_domain=False,
        )
    elif kind == 'users':
        row.update(
            enabled=columns.get('enabled', True),
            domain_id=columns['domain_id'],
            created_at=now.replace(microsecond=0),
        )
    else:
        row.update(
            name=columns['name'],
            description=columns.get('description'),
            domain_id=columns['domain_id'],
        )
    return row


def local_user_row(gid: str, attrs: dict[str, Any]) -> dict[str, Any]:
    return {
        'user_id': gid,
        'domain_id': attrs['domain_id'],
        'name': attrs['name'],
    }


def updated_columns(kind: str, attrs: dict[str, Any]) -> dict[str, Any]:
    """The main table's columns an update changes (the name of a user is
    in local_user; a domain_id never changes)."""
    columns, _extra = split(kind, attrs)
    columns.pop('domain_id', None)
    if kind == 'users':
        columns.pop('name', None)
    return columns


def assignment_row(grant: converge.Grant, role_id: str) -> dict[str, Any]:
    _role, actor_type, actor, target_type, target = grant
    return {
        'type': ASSIGNMENT_TYPES[(actor_type, target_type)],
        'actor_id': actor,
        'target_id': target,
        'role_id': role_id,
        'inherited': False,
    }


# -- objects from rows -------------------------------------------------------


def observed(
    kind: str,
    columns: dict[str, Any],
    extra: dict[str, Any],
    newest_hash: str | None = None,
) -> dict[str, Any]:
    """An object as the API writer's snapshot gives it.

    A user's password version is given only if its newest hash is the
    one sodos wrote: a password changed by hand then reads as not set,
    and converge sets the KB's again.
    """
    obj: dict[str, Any] = {}
    for key in ('name', 'domain_id', 'description', 'enabled'):
        if key in columns:
            obj[key] = bool(columns[key]) if key == 'enabled' else columns[key]
    for key in _READ_EXTRA:
        if key in extra:
            obj[key] = extra[key]
    if kind == 'users' and model.PASSWORD_VERSION in extra:
        if extra.get(PASSWORD_CHECK) == password_check(newest_hash):
            obj[model.PASSWORD_VERSION] = extra[model.PASSWORD_VERSION]
    return obj


def grant_of(row: Any, roles: dict[str, str]) -> converge.Grant | None:
    """An ``assignment`` row as a grant; None for what sodos does not
    manage (inherited ones, domain-specific roles)."""
    if row.inherited or row.role_id not in roles:
        return None
    types = _TYPES.get(row.type)
    if types is None:
        return None
    actor_type, target_type = types
    return (
        roles[row.role_id],
        actor_type,
        row.actor_id,
        target_type,
        row.target_id,
    )
