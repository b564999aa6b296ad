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

"""What to change at a site so that its Keystone matches the KB.

Pure functions: given the desired state (the KB's identity section) and
what the site holds (:class:`Observed`), they return the operations to
apply, in dcorch's order (domains, projects, users, groups, memberships,
role assignments; deletions the other way round). A site object is
matched to its KB object by the marker sodos put on it
(:data:`model.MARKER`), else by name: an unmarked object whose name the
KB holds is adopted (marked), one whose name it does not hold is not
sodos's and is left alone. Protected names are never touched.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sodos.identity import model

# (role name, actor type, actor local id, target type, target local id)
Grant = tuple[str, str, str, str, str]


@dataclasses.dataclass
class Observed:
    """A site's identity objects, by the site's own ids.

    Each object has ``name``, ``domain_id`` (not domains), the attributes
    of :data:`model.ATTRIBUTES`, and ``sodos_id`` / ``password_version``
    when sodos put them there.
    """

    domains: dict[str, dict[str, Any]] = dataclasses.field(
        default_factory=dict
    )
    projects: dict[str, dict[str, Any]] = dataclasses.field(
        default_factory=dict
    )
    users: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    # (group id, user id), for the groups sodos manages only.
    memberships: set[tuple[str, str]] = dataclasses.field(default_factory=set)
    assignments: set[Grant] = dataclasses.field(default_factory=set)


@dataclasses.dataclass
class Op:
    """One change at a site.

    ``action``: create, update, delete (objects); add, remove
    (memberships); grant, revoke (assignments). ``key`` names what it
    is about in the KB (``users/<global id>``), so that a repeated
    repair can be told from a first one (drift). ``password`` is filled
    by the caller from the encrypted one, just before applying, and is
    never printed.
    """

    action: str
    kind: str
    key: str
    gid: str = ''
    local_id: str = ''
    attrs: dict[str, Any] = dataclasses.field(default_factory=dict)
    grant: Grant | None = None
    member: tuple[str, str] | None = None
    what: str = ''
    password: str | None = dataclasses.field(default=None, repr=False)
    password_version: int | None = None
    # When the federation set the password (KB time), filled with it.
    password_set_at: float | None = None

    def describe(self) -> str:
        text = '%s %s %s' % (self.action, model.SINGULAR[self.kind], self.what)
        if self.attrs and self.action == 'update':
            text += ' (%s)' % ', '.join(sorted(self.attrs))
        if self.password_version is not None:
            text += ' (password v%d)' % self.password_version
        return text


def _is_protected(
    kind: str, lid: str, obj: dict[str, Any], protected: dict[str, set[str]]
) -> bool:
    names = protected.get(kind, set())
    return obj.get('name') in names or (kind == 'domains' and lid in names)


def match(
    kind: str,
    desired: dict[str, dict[str, Any]],
    observed: dict[str, dict[str, Any]],
) -> dict[str, str]:
    """Global id -> the site's id, for the KB objects the site holds."""
    found: dict[str, str] = {}
    by_name: dict[tuple[Any, str], str] = {}
    for lid in sorted(observed):
        obj = observed[lid]
        marker = obj.get(model.MARKER)
        if marker in desired and marker not in found:
            found[marker] = lid
        elif not marker:
            by_name[(obj.get('domain_id'), obj['name'])] = lid
    for gid in sorted(desired):
        if gid in found:
            continue
        if kind == 'domains' and gid in observed:
            found[gid] = gid  # created with the global id, mark lost
            continue
        want = desired[gid]
        named = by_name.get((want.get('domain_id'), want['name']))
        if named is not None and named not in found.values():
            found[gid] = named
    return found


def plan_objects(
    kind: str,
    desired: dict[str, dict[str, Any]],
    observed: dict[str, dict[str, Any]],
    protected: dict[str, set[str]],
) -> tuple[list[Op], list[Op], dict[str, str]]:
    """(creates and updates, deletes, global id -> site id) for ``kind``."""
    ids = match(kind, desired, observed)
    changes: list[Op] = []
    for gid in sorted(desired):
        want = desired[gid]
        if _is_protected(kind, gid, want, protected):
            ids.pop(gid, None)
            continue
        key = '%s/%s' % (kind, gid)
        what = _label(kind, want)
        lid = ids.get(gid)
        if lid is None:
            changes.append(_create(kind, gid, key, want, what))
            continue
        have = observed[lid]
        if _is_protected(kind, lid, have, protected):
            ids.pop(gid)
            continue
        attrs = {
            a: want.get(a)
            for a in model.ATTRIBUTES[kind]
            if a != 'domain_id' and _differs(want.get(a), have.get(a))
        }
        if have.get(model.MARKER) != gid:
            attrs[model.MARKER] = gid
        version = _password_version(want, have)
        if attrs or version is not None:
            changes.append(
                Op(
                    'update',
                    kind,
                    key,
                    gid=gid,
                    local_id=lid,
                    attrs=attrs,
                    what=what,
                    password_version=version,
                )
            )
    deletes = [
        Op(
            'delete',
            kind,
            '%s/%s' % (kind, obj[model.MARKER]),
            gid=obj[model.MARKER],
            local_id=lid,
            what=_label(kind, obj),
        )
        for lid, obj in sorted(observed.items())
        if obj.get(model.MARKER)
        and obj[model.MARKER] not in desired
        and not _is_protected(kind, lid, obj, protected)
    ]
    return changes, deletes, ids


def _create(
    kind: str, gid: str, key: str, want: dict[str, Any], what: str
) -> Op:
    attrs = {a: want.get(a) for a in model.ATTRIBUTES[kind]}
    attrs[model.MARKER] = gid
    password = want.get('password') or {}
    return Op(
        'create',
        kind,
        key,
        gid=gid,
        attrs=attrs,
        what=what,
        password_version=password.get('version'),
    )


def _differs(want: Any, have: Any) -> bool:
    # An attribute the KB leaves unset (None) is the site's business;
    # Keystone gives '' and None for an empty description alike.
    if want is None or (want == '' and have in ('', None)):
        return False
    return bool(want != have)


def _password_version(
    want: dict[str, Any], have: dict[str, Any]
) -> int | None:
    """The KB password version to set at the site, None if it has it."""
    password = want.get('password')
    if not password:
        return None
    version = int(password['version'])
    if have.get(model.PASSWORD_VERSION) == version:
        return None
    return version


def _label(kind: str, obj: dict[str, Any]) -> str:
    if kind == 'domains':
        return obj['name']
    return '%s (domain %s)' % (obj['name'], obj.get('domain_id'))


def deletable_domains(
    deletes: list[Op], observed: Observed, gone: set[str]
) -> tuple[list[Op], list[str]]:
    """Domain deletions safe to do, and why the others wait.

    Deleting a domain in Keystone deletes everything in it: a domain
    that still holds an object sodos does not delete is left alone.
    """
    safe, kept = [], []
    for op in deletes:
        holds = sorted(
            obj['name']
            for kind in ('projects', 'users', 'groups')
            for lid, obj in getattr(observed, kind).items()
            if obj.get('domain_id') == op.local_id and lid not in gone
        )
        if holds:
            kept.append(
                'domain %s kept: it holds %s' % (op.what, ', '.join(holds))
            )
        else:
            safe.append(op)
    return safe, kept


def record(observed: Observed, op: Op, local_id: str | None) -> None:
    """``observed`` as the site holds it once ``op`` is applied (the
    site's id of a created object is ``local_id``)."""
    if op.grant is not None:
        if op.action == 'grant':
            observed.assignments.add(op.grant)
        else:
            observed.assignments.discard(op.grant)
        return
    if op.member is not None:
        if op.action == 'add':
            observed.memberships.add(op.member)
        else:
            observed.memberships.discard(op.member)
        return
    objects: dict[str, dict[str, Any]] = getattr(observed, op.kind)
    if op.action == 'delete':
        # Keystone takes the links that name it with it.
        lid = op.local_id
        objects.pop(lid, None)
        observed.memberships = {
            m for m in observed.memberships if lid not in m
        }
        observed.assignments = {
            a for a in observed.assignments if lid not in (a[2], a[4])
        }
        return
    made = local_id if op.action == 'create' else op.local_id
    if not made:
        return
    obj = objects.setdefault(made, {})
    obj.update(op.attrs)
    if op.password is not None:
        obj[model.PASSWORD_VERSION] = op.password_version
