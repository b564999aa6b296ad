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

"""Owners of sites and their sharing policies: the community cloud.

An *owner* is an organisation, named by the id of its Keystone domain
(the KB's identity section keeps a domain's id the same at every site).
A site names its owner in ``[site_profile]owner``; a project belongs to
the owner of its domain. Each owner may set one sharing policy, kept in
the KB's ``owners`` section::

    owners  {owner: {policy: {...}, updated_at, updated_by}}

A policy says who may use the owner's sites besides its own projects
(``admit_owners``, ``admit_projects``), how much of each site it lends
to them (``lend_share_pct`` of the capacity, and at most ``lend_vcpus``
and ``lend_ram_mb``: the rest is reserved for its own projects), whether
guests may be preempted and with how much notice, and the owner's
``weight`` in the fair share (set by the federation admin only).

An owner without a policy lends everything to everyone: a federation
that names no owner plans as it did before owners existed.

Pure functions, used alike by the KB's appliers, the API and the
planner, so that they all give the same answer.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

import fastjsonschema

EVERYONE = '*'
# A Keystone domain id: 32 hex digits, 'default', or what an operator
# chose when it made the domain by hand.
OWNER: dict[str, Any] = {
    'type': 'string',
    'pattern': r'^[A-Za-z0-9_\-]{1,64}$',
}
_PROJECT: dict[str, Any] = {
    'type': 'string',
    'pattern': r'^[A-Za-z0-9_\-]{1,64}$',
}
# Bounded so that one policy stays small in the Raft log.
_MAX_LISTED = 256
_MAX_NOTICE_S = 7 * 86400

POLICY_SCHEMA: dict[str, Any] = {
    'type': 'object',
    'additionalProperties': False,
    'properties': {
        'admit_owners': {
            'type': 'array',
            'items': {'anyOf': [OWNER, {'const': EVERYONE}]},
            'uniqueItems': True,
            'maxItems': _MAX_LISTED,
        },
        'admit_projects': {
            'type': 'array',
            'items': _PROJECT,
            'uniqueItems': True,
            'maxItems': _MAX_LISTED,
        },
        'lend_share_pct': {'type': 'number', 'minimum': 0, 'maximum': 100},
        'lend_vcpus': {
            'type': ['integer', 'null'],
            'minimum': 0,
            'maximum': 10**9,
        },
        'lend_ram_mb': {
            'type': ['integer', 'null'],
            'minimum': 0,
            'maximum': 10**12,
        },
        'preemptible': {'type': 'boolean'},
        'preempt_notice_s': {
            'type': 'integer',
            'minimum': 0,
            'maximum': _MAX_NOTICE_S,
        },
        'weight': {
            'type': ['number', 'null'],
            'exclusiveMinimum': 0,
            'maximum': 10**6,
        },
    },
}
# What an owner that never set a policy gets: everything lent to all.
DEFAULT_POLICY: dict[str, Any] = {
    'admit_owners': [EVERYONE],
    'admit_projects': [],
    'lend_share_pct': 100,
    'lend_vcpus': None,
    'lend_ram_mb': None,
    'preemptible': False,
    'preempt_notice_s': 0,
    'weight': None,
}
# Only the federation admin may set these: they weigh one owner against
# the others, not the owner's own sites.
FEDERATION_FIELDS = frozenset({'weight'})
FIELDS = tuple(DEFAULT_POLICY)

_CHECK = fastjsonschema.compile(POLICY_SCHEMA)


class InvalidPolicy(ValueError):
    """The policy is wrong; the message names the field and the rule."""


def check_schema(changes: Any) -> None:
    """:raises InvalidPolicy: ``changes`` breaks the policy's schema."""
    try:
        _CHECK(changes)
    except fastjsonschema.JsonSchemaValueException as exc:
        raise InvalidPolicy(
            'policy' + exc.message.removeprefix('data')
        ) from None


def merged(current: Mapping[str, Any] | None, changes: Any) -> dict[str, Any]:
    """The policy ``changes`` make of ``current`` (the defaults when
    None), checked.

    :raises InvalidPolicy: naming the field and the rule.
    """
    check_schema(changes)
    policy = copy.deepcopy(dict(current or DEFAULT_POLICY))
    for key, value in DEFAULT_POLICY.items():
        policy.setdefault(key, copy.deepcopy(value))
    policy.update(copy.deepcopy(changes))
    return policy


def check_names(
    policy: Mapping[str, Any], owner: str, known: Iterable[str]
) -> None:
    """:raises InvalidPolicy: ``admit_owners`` names an owner the
    federation does not know, or the owner itself."""
    names = set(known)
    for name in policy.get('admit_owners') or ():
        if name == EVERYONE:
            continue
        if name == owner:
            raise InvalidPolicy(
                'policy.admit_owners: %s is the owner itself; its own '
                'projects are always admitted' % name
            )
        if name not in names:
            raise InvalidPolicy(
                'policy.admit_owners: unknown owner %r (known: %s)'
                % (name, ', '.join(sorted(names)) or 'none')
            )


def known_owners(
    sites: Mapping[str, Any], identity: Mapping[str, Any]
) -> set[str]:
    """Owners the federation knows: those of its sites, and the domains
    of its identity section."""
    found = {
        owner
        for site in sites.values()
        if site.get('status') != 'left'
        and (owner := site_owner(site)) is not None
    }
    found.update((identity or {}).get('domains') or {})
    return found


def site_owner(site: Mapping[str, Any]) -> str | None:
    """The owner a ``sites`` entry names; None: the site has none."""
    profile = (site.get('info') or {}).get('profile') or {}
    owner = profile.get('owner')
    return str(owner) if owner else None


def project_owner(identity: Mapping[str, Any], project: str | None) -> str:
    """The owner of the project of global id ``project``: its domain.

    A project the KB does not know (or an appliance of the service
    project, ``None``) belongs to no owner: the empty string, which no
    policy names, so it goes only where an owner lends to everyone.
    """
    if not project:
        return ''
    found = ((identity or {}).get('projects') or {}).get(project)
    return str(found.get('domain_id') or '') if found else ''


def policy_of(owners: Mapping[str, Any], owner: str) -> dict[str, Any]:
    """The policy ``owner`` set, with the defaults for what it did not."""
    found = (owners.get(owner) or {}).get('policy') or {}
    return dict(DEFAULT_POLICY, **found)


def admits(
    policy: Mapping[str, Any], host: str, guest: str, project: str | None
) -> bool:
    """Whether ``host``'s sites may run a server of ``guest``'s project
    ``project`` under ``policy`` (``host``'s)."""
    if guest and guest == host:
        return True
    if project and project in (policy.get('admit_projects') or ()):
        return True
    admitted = policy.get('admit_owners') or ()
    return EVERYONE in admitted or bool(guest and guest in admitted)


def lent(
    policy: Mapping[str, Any], total_vcpu: float, total_ram_mb: float
) -> tuple[float, float]:
    """(vCPUs, MB of RAM) of a site of these totals its owner lends:
    its share, capped by the absolute limits. The rest is reserved for
    the owner's own projects."""
    share = float(policy.get('lend_share_pct', 100)) / 100.0
    vcpu, ram = total_vcpu * share, total_ram_mb * share
    if policy.get('lend_vcpus') is not None:
        vcpu = min(vcpu, float(policy['lend_vcpus']))
    if policy.get('lend_ram_mb') is not None:
        ram = min(ram, float(policy['lend_ram_mb']))
    return vcpu, ram


def rows(
    sites: Mapping[str, Any], owners: Mapping[str, Any], known: Iterable[str]
) -> list[dict[str, Any]]:
    """What the API shows of each owner of ``known``, by owner: its
    sites, its policy (defaults filled in), its recorded usage and the
    guests it reclaims room from."""
    owned: dict[str, list[str]] = {}
    for name in sorted(sites):
        owner = site_owner(sites[name])
        if owner and sites[name].get('status') != 'left':
            owned.setdefault(owner, []).append(name)
    out = []
    for owner in sorted(set(known) | set(owned) | set(owners)):
        record = owners.get(owner) or {}
        out.append(
            {
                'owner': owner,
                'sites': owned.get(owner, []),
                'policy': policy_of(owners, owner),
                'usage': record.get('usage'),
                # Guests its projects reclaim room from, moved or under
                # notice (sodos.analyseplan.reclaim): member -> record.
                'reclaims': record.get('reclaims') or {},
                'updated_at': record.get('updated_at'),
            }
        )
    return out
