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

"""The desired identity state, as the Knowledge Base holds it.

Section ``identity`` of the KB::

    revision      bumped by every change of the desired state
    domains       {global id: {name, description, enabled}}
    projects      {global id: {name, domain_id, description, enabled}}
    users         {global id: {name, domain_id, description, email,
                               enabled, password?}}
    groups        {global id: {name, domain_id, description}}
    memberships   {key: {group_id, user_id}}
    assignments   {key: {role, actor_type, actor_id, target_type,
                         target_id}}
    idmap         {site: {kind: {global id: the site's own id}}}
    adoptions     {request id: {kind, name, domain_id, site, state, ...}}
                  requests to make an object a site holds a federation
                  one (:mod:`sodos.identity.adoption`)

A domain's global id is its id at every site too: Keystone takes an
explicit id for domains only (``explicit_domain_id``). Projects, users
and groups get the site's own ids, which each site's Exec writes into
the ID map. ``domain_id`` is ``default`` (the domain every Keystone has)
or the global id of a domain of the KB. Roles are named, never created:
every site has its own ids for them.

Everything here is pure: the KB's appliers use it, so it must give the
same answer on every member.
"""

from __future__ import annotations

from typing import Any

# The order objects are created in (dcorch's): an object's references
# exist before it. Deletions go the other way.
KINDS = ('domains', 'projects', 'users', 'groups')
LINKS = ('memberships', 'assignments')
# The kinds each site maps to its own ids (the ID map, 'idmap').
MAPPED_KINDS = ('projects', 'users', 'groups')
SINGULAR = {
    'domains': 'domain',
    'projects': 'project',
    'users': 'user',
    'groups': 'group',
    'memberships': 'membership',
    'assignments': 'assignment',
}
DEFAULT_DOMAIN = 'default'
# Attributes a site's copy of each kind must have as the KB says.
ATTRIBUTES = {
    'domains': ('name', 'description', 'enabled'),
    'projects': ('name', 'domain_id', 'description', 'enabled'),
    'users': ('name', 'domain_id', 'description', 'email', 'enabled'),
    'groups': ('name', 'domain_id', 'description'),
}
# Every part of the section but ``revision``.
PARTS = KINDS + LINKS + ('idmap', 'adoptions')
ACTOR_TYPES = ('user', 'group')
TARGET_TYPES = ('project', 'domain')
# The attribute Keystone keeps on what sodos made (an "extra" attribute,
# returned with the object): its global id. An object without it, and
# whose name the KB does not hold, is not sodos's and is left alone.
MARKER = 'sodos_id'
# On a user: the version of the KB password last set at this site.
PASSWORD_VERSION = 'sodos_password_version'


class InvalidIdentity(ValueError):
    """The identity request is wrong; the message says what to fix."""


def section(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` (the KB's identity section) with every part present."""
    out = dict(data)
    out.setdefault('revision', 0)
    for part in PARTS:
        out.setdefault(part, {})
    return out


def membership_key(group_id: str, user_id: str) -> str:
    return '%s/%s' % (group_id, user_id)


def assignment_key(args: dict[str, Any]) -> str:
    """One key per (role, actor, target): a put is idempotent."""
    return '%s/%s:%s/%s:%s' % (
        args['role'],
        args['actor_type'],
        args['actor_id'],
        args['target_type'],
        args['target_id'],
    )


def find(
    ident: dict[str, Any], kind: str, name: str, domain_id: str | None = None
) -> str | None:
    """The global id of ``kind`` named ``name`` (in ``domain_id``)."""
    for gid in sorted(ident.get(kind, {})):
        obj = ident[kind][gid]
        if obj['name'] == name and (
            kind == 'domains' or obj['domain_id'] == domain_id
        ):
            return gid
    return None


def check_domain(ident: dict[str, Any], domain_id: str) -> None:
    if domain_id != DEFAULT_DOMAIN and domain_id not in ident['domains']:
        raise InvalidIdentity('unknown domain %s' % domain_id)


def check_put(ident: dict[str, Any], kind: str, gid: str, obj: Any) -> None:
    """Refuse an object whose name is taken or whose domain is unknown."""
    if kind != 'domains':
        check_domain(ident, obj['domain_id'])
    other = find(ident, kind, obj['name'], obj.get('domain_id'))
    if other is not None and other != gid:
        raise InvalidIdentity(
            '%s %r already exists%s with id %s'
            % (
                SINGULAR[kind],
                obj['name'],
                '' if kind == 'domains' else ' in its domain',
                other,
            )
        )
    old = ident[kind].get(gid)
    if old is not None and kind != 'domains':
        if old['domain_id'] != obj['domain_id']:
            raise InvalidIdentity(
                '%s %s is in domain %s: an object cannot change domain '
                '(delete it and create it again)'
                % (SINGULAR[kind], gid, old['domain_id'])
            )


def check_link(ident: dict[str, Any], kind: str, args: dict[str, Any]) -> None:
    """Refuse a membership or assignment to something the KB lacks."""
    if kind == 'memberships':
        refs = [('groups', args['group_id']), ('users', args['user_id'])]
    else:
        refs = [
            (args['actor_type'] + 's', args['actor_id']),
            (args['target_type'] + 's', args['target_id']),
        ]
    for ref_kind, ref in refs:
        if ref_kind == 'domains' and ref == DEFAULT_DOMAIN:
            continue
        if ref not in ident[ref_kind]:
            raise InvalidIdentity('unknown %s %s' % (SINGULAR[ref_kind], ref))


def dependents(ident: dict[str, Any], kind: str, gid: str) -> dict[str, list]:
    """What refers to ``kind`` ``gid``: {part: [keys]}."""
    out: dict[str, list[str]] = {}
    if kind == 'domains':
        for part in ('projects', 'users', 'groups'):
            found = sorted(
                k for k, o in ident[part].items() if o['domain_id'] == gid
            )
            if found:
                out[part] = found
    single = SINGULAR[kind]
    links = sorted(
        key
        for key, a in ident['assignments'].items()
        if (a['actor_type'] == single and a['actor_id'] == gid)
        or (a['target_type'] == single and a['target_id'] == gid)
    )
    if links:
        out['assignments'] = links
    members = sorted(
        key
        for key, m in ident['memberships'].items()
        if m.get(single + '_id') == gid
    )
    if members:
        out['memberships'] = members
    return out


def fingerprint(kind: str, obj: dict[str, Any]) -> tuple[Any, ...]:
    """What a site's copy must match: a changed one means a new state."""
    values = tuple(obj.get(attr) for attr in ATTRIBUTES[kind])
    if kind == 'users':
        password = obj.get('password') or {}
        return values + (password.get('version'),)
    return values


def protected_sets(conf: Any) -> dict[str, set[str]]:
    """The names ``[identity]protected_*`` keep away from sodos."""
    opts = conf.identity
    users = set(opts.protected_users)
    username = getattr(conf.site_auth, 'username', None)
    if username:
        users.add(username)
    return {
        'domains': set(opts.protected_domains) | {DEFAULT_DOMAIN},
        'projects': set(opts.protected_projects),
        'users': users,
        'groups': set(opts.protected_groups),
    }
