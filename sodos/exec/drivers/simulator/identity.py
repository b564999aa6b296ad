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

"""A simulated Keystone: the identity writer of the simulator driver.

It keeps what a Keystone would (domains with explicit ids, projects,
users, groups and role assignments with ids of its own, extra attributes
kept as given) in memory, for the unit tests, ``sodos-sim`` and plugin
authors. Hand edits at a site are made with its plain methods
(:meth:`SimulatedKeystone.update`, :meth:`revoke`,
:meth:`set_password`...), and a user's password is checked with
:meth:`authenticate`.

With ``same_ids`` it plays the ``shared`` writer (Keystone's database):
every object is created with its global id, and a password changed by
hand is seen (the user's password version then reads as unset, as the
database writer reports it).
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from typing import Any

from sodos.exec.drivers import base as driver
from sodos.identity import converge
from sodos.identity import model
from sodos.identity import writer

DEFAULT_ROLES = ('admin', 'member', 'reader', 'manager', 'service')


def _hash(password: str) -> str:
    return hashlib.sha256(password.encode('utf-8')).hexdigest()


class SimulatedKeystone(writer.IdentityWriter):
    def __init__(
        self, roles: tuple[str, ...] = DEFAULT_ROLES, same_ids: bool = False
    ) -> None:
        self.same_ids = same_ids
        self._lock = threading.Lock()
        self.store: dict[str, dict[str, dict[str, Any]]] = {
            kind: {} for kind in model.KINDS
        }
        self.store['domains']['default'] = {
            'name': 'Default',
            'description': 'The default domain',
            'enabled': True,
        }
        self.roles = set(roles)
        self.members: set[tuple[str, str]] = set()
        self.assignments: set[converge.Grant] = set()
        self._passwords: dict[str, str] = {}
        # The hashes sodos set: another one was set by hand.
        self._set_by_sodos: dict[str, str] = {}
        self.calls = 0
        # The names mark() refuses, as [identity]protected_* would.
        self.protected: dict[str, set[str]] = {}
        # Set to make the next calls fail as a site's API down would.
        self.down = False

    # -- the writer interface ---------------------------------------------

    def snapshot(self) -> converge.Observed:
        self._call()
        with self._lock:
            copies = {
                kind: {lid: dict(obj) for lid, obj in self.store[kind].items()}
                for kind in model.KINDS
            }
            if self.same_ids:
                for lid, user in copies['users'].items():
                    if self._passwords.get(lid) != self._set_by_sodos.get(lid):
                        user.pop(model.PASSWORD_VERSION, None)
            return converge.Observed(
                domains=copies['domains'],
                projects=copies['projects'],
                users=copies['users'],
                groups=copies['groups'],
                assignments=set(self.assignments),
            )

    def group_members(self, group_id: str) -> set[str]:
        self._call()
        with self._lock:
            return {u for g, u in self.members if g == group_id}

    def apply(self, op: converge.Op) -> str | None:
        self._call()
        with self._lock:
            if op.kind in model.KINDS:
                return self._apply_object(op)
            if op.member is not None:
                if op.action == 'add':
                    self.members.add(op.member)
                else:
                    self.members.discard(op.member)
            elif op.grant is not None:
                if op.grant[0] not in self.roles:
                    raise driver.PermanentError(
                        'Could not find role: %s.' % op.grant[0]
                    )
                if op.action == 'grant':
                    self.assignments.add(op.grant)
                else:
                    self.assignments.discard(op.grant)
            return None

    def mark(self, kind: str, local_id: str, gid: str) -> None:
        self._call()
        with self._lock:
            obj = self.store[kind].get(local_id)
            if self.same_ids and obj is not None and local_id != gid:
                raise driver.PermanentError(
                    '%s %s has another id than %s' % (kind, local_id, gid)
                )
            if writer.needs_mark(kind, local_id, obj, gid, self.protected):
                self.store[kind][local_id][model.MARKER] = gid

    def _apply_object(self, op: converge.Op) -> str | None:
        store = self.store[op.kind]
        if op.action == 'delete':
            store.pop(op.local_id, None)
            self._forget(op.local_id)
            return None
        if op.action == 'create':
            if op.kind == 'domains' or self.same_ids:
                lid = op.gid
            else:
                lid = uuid.uuid4().hex
            for other in store.values():
                if other['name'] == op.attrs['name'] and other.get(
                    'domain_id'
                ) == op.attrs.get('domain_id'):
                    raise driver.PermanentError(
                        'Conflict occurred attempting to store %s - '
                        'Duplicate entry.' % model.SINGULAR[op.kind]
                    )
            store[lid] = dict(op.attrs)
        else:
            lid = op.local_id
            if lid not in store:
                raise driver.PermanentError(
                    'Could not find %s: %s.' % (model.SINGULAR[op.kind], lid)
                )
            store[lid].update(op.attrs)
        if op.password is not None:
            self._passwords[lid] = self._set_by_sodos[lid] = _hash(op.password)
            store[lid][model.PASSWORD_VERSION] = op.password_version
        return lid

    def _forget(self, lid: str) -> None:
        self.members = {m for m in self.members if lid not in m}
        self.assignments = {
            a for a in self.assignments if lid not in (a[2], a[4])
        }
        self._passwords.pop(lid, None)
        self._set_by_sodos.pop(lid, None)

    def _call(self) -> None:
        self.calls += 1
        if self.down:
            raise driver.TransientError('identity API unreachable')

    # -- what an operator at the site would do ----------------------------

    def find(self, kind: str, name: str) -> str | None:
        with self._lock:
            for lid, obj in self.store[kind].items():
                if obj['name'] == name:
                    return lid
        return None

    def update(self, kind: str, lid: str, **attrs: Any) -> None:
        with self._lock:
            self.store[kind][lid].update(attrs)

    def delete(self, kind: str, lid: str) -> None:
        with self._lock:
            del self.store[kind][lid]
            self._forget(lid)

    def create(self, kind: str, **attrs: Any) -> str:
        lid = uuid.uuid4().hex
        with self._lock:
            self.store[kind][lid] = dict(attrs)
        return lid

    def grant(self, grant: converge.Grant) -> None:
        with self._lock:
            self.assignments.add(grant)

    def revoke(self, grant: converge.Grant) -> None:
        with self._lock:
            self.assignments.discard(grant)

    def set_password(self, lid: str, password: str) -> None:
        """Change a user's password by hand, as a site's admin would."""
        with self._lock:
            self._passwords[lid] = _hash(password)

    def authenticate(self, name: str, domain_id: str, password: str) -> bool:
        """True if the user exists, is enabled and has this password."""
        with self._lock:
            for lid, obj in self.store['users'].items():
                if obj['name'] == name and obj.get('domain_id') == domain_id:
                    return bool(obj.get('enabled', True)) and (
                        self._passwords.get(lid) == _hash(password)
                    )
        return False
