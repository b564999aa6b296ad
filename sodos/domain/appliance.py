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

"""Appliances: named groups of servers with placement constraints.

A spec, as a user gives it (JSON or YAML)::

    name: shop
    project_id: 6f1c...       # the owner; set from the caller's token
    priority: 70            # 0..100, higher is placed and kept first
    members:
      - {name: web, image: cirros, flavor: m1.small, count: 3,
         role: frontend}
      - {name: db, image: cirros, flavor: m1.medium}
    constraints:
      sites: [paris, lyon, berlin]   # allowed sites
      regions: [eu-west]             # allowed site regions
      labels: {jurisdiction: eu}     # site labels required
      spread: 2          # at least 2 sites (anti-affinity, for HA)
      affinity: false    # all members on one site
      headroom_pct: 10   # leave 10 % of a site's capacity free
    public_key: ssh-ed25519 AAAA... me@laptop   # never a private key
    user_data: |                 # cloud-init, at most 32 KiB
      #cloud-config
    metadata: {tier: web}        # server metadata, on every member
    networks:            # what members attach to (sodos.domain.networks)
      - {name: shopnet, cidr: 10.20.0.0/24}

``project`` (free text) is kept as a label from before ownership; the
owner is ``project_id`` (:mod:`sodos.domain.ownership`). A member
re-placed elsewhere boots with the same key, user data and metadata.

:func:`validate` checks a spec and returns it with its defaults filled
in, or raises naming the field that is wrong; :func:`feasibility`
checks it against the federation as the KB knows it. Both run before
anything is committed.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from typing import Any

import fastjsonschema

from sodos import exception
from sodos.domain import networks as networks_mod
from sodos.domain import schemas

MAX_INSTANCES = 256
_MEMBER_NAME = {
    'type': 'string',
    'pattern': r'^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$',
}
_TEXT = {'type': 'string', 'minLength': 1, 'maxLength': 255}
# Nova takes at most 65535 characters of base64 (49149 bytes); a round
# figure below it leaves room for the encoding.
MAX_USER_DATA = 32 * 1024
# Nova's default metadata quota is 128 items; sodos puts its own keys on
# every server too.
MAX_METADATA = 100
RESERVED_METADATA_PREFIX = 'sodos:'
# The OpenSSH public key types Nova's keypairs accept.
KEY_TYPES = (
    'ssh-rsa',
    'ssh-dss',
    'ssh-ed25519',
    'ecdsa-sha2-nistp256',
    'ecdsa-sha2-nistp384',
    'ecdsa-sha2-nistp521',
)
PROJECT_ID = {'type': 'string', 'pattern': r'^[A-Za-z0-9_\-]{1,64}$'}

SCHEMA: dict[str, Any] = {
    'type': 'object',
    'required': ['name', 'members'],
    'additionalProperties': False,
    'properties': {
        'name': schemas.NAME,
        'project': _TEXT,
        'project_id': PROJECT_ID,
        'public_key': {'type': 'string', 'minLength': 1, 'maxLength': 16384},
        'user_data': {'type': 'string'},
        'metadata': {
            'type': 'object',
            'maxProperties': MAX_METADATA,
            'propertyNames': {'minLength': 1, 'maxLength': 255},
            'additionalProperties': {'type': 'string', 'maxLength': 255},
        },
        'priority': {'type': 'integer', 'minimum': 0, 'maximum': 100},
        'members': {
            'type': 'array',
            'minItems': 1,
            'maxItems': 64,
            'items': {
                'type': 'object',
                'required': ['name', 'image', 'flavor'],
                'additionalProperties': False,
                'properties': {
                    'name': _MEMBER_NAME,
                    'image': _TEXT,
                    'flavor': _TEXT,
                    'count': {'type': 'integer', 'minimum': 1, 'maximum': 100},
                    'role': schemas.NAME,
                    'networks': networks_mod.MEMBER_NETWORKS,
                },
            },
        },
        'networks': networks_mod.NETWORKS,
        'constraints': {
            'type': 'object',
            'additionalProperties': False,
            'properties': {
                'sites': {
                    'type': 'array',
                    'minItems': 1,
                    'items': schemas.NAME,
                },
                'regions': {'type': 'array', 'minItems': 1, 'items': _TEXT},
                'labels': {
                    'type': 'object',
                    'additionalProperties': {'type': 'string'},
                },
                'spread': {'type': 'integer', 'minimum': 1, 'maximum': 100},
                'affinity': {'type': 'boolean'},
                'headroom_pct': {
                    'type': 'number',
                    'minimum': 0,
                    'maximum': 90,
                },
            },
        },
    },
}
_validate = fastjsonschema.compile(SCHEMA)


class InvalidAppliance(exception.SodosError):
    """The spec is malformed or cannot be satisfied; nothing committed."""


@dataclasses.dataclass(frozen=True)
class Instance:
    """One server of an appliance: member ``web`` with count 3 gives
    ``web-0``, ``web-1`` and ``web-2``."""

    appliance_id: str
    name: str
    image: str
    flavor: str
    role: str
    priority: int

    @property
    def key(self) -> str:
        return '%s/%s' % (self.appliance_id, self.name)


def validate(spec: Any) -> dict[str, Any]:
    """The spec with its defaults, or :class:`InvalidAppliance`."""
    try:
        _validate(spec)
    except fastjsonschema.JsonSchemaException as exc:
        raise InvalidAppliance('invalid appliance spec: %s' % exc) from None
    spec = _copy(spec)
    _check_boot_data(spec)
    spec.setdefault('priority', 50)
    constraints = spec.setdefault('constraints', {})
    constraints.setdefault('spread', 1)
    constraints.setdefault('affinity', False)
    constraints.setdefault('headroom_pct', 0)
    names = [m['name'] for m in spec['members']]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidAppliance(
            'invalid appliance spec: data.members: name %s used twice'
            % duplicates[0]
        )
    problems = networks_mod.check(spec)
    if problems:
        raise InvalidAppliance(
            'invalid appliance spec: %s' % '; '.join(problems)
        )
    for member in spec['members']:
        member.setdefault('count', 1)
    total = sum(m['count'] for m in spec['members'])
    if total > MAX_INSTANCES:
        raise InvalidAppliance(
            'invalid appliance spec: %d servers in all, at most %d'
            % (total, MAX_INSTANCES)
        )
    spread = constraints['spread']
    if spread > total:
        raise InvalidAppliance(
            'invalid appliance spec: data.constraints.spread %d needs at '
            'least %d servers, the members have %d' % (spread, spread, total)
        )
    if constraints['affinity'] and spread > 1:
        raise InvalidAppliance(
            'invalid appliance spec: data.constraints: affinity (one site) '
            'and spread %d (at least %d sites) exclude each other'
            % (spread, spread)
        )
    allowed = constraints.get('sites')
    if allowed and spread > len(set(allowed)):
        raise InvalidAppliance(
            'invalid appliance spec: data.constraints.spread %d is more '
            'than the %d allowed site(s)' % (spread, len(set(allowed)))
        )
    return spec


def _copy(value: Any) -> Any:
    """A copy of JSON data: a leader validates every spec when it takes
    over, and copy.deepcopy (memo, dispatch) took half of that."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_copy(v) for v in value)
    return value


def _check_boot_data(spec: dict[str, Any]) -> None:
    """The key, user data and metadata a server boots with."""
    if 'public_key' in spec:
        spec['public_key'] = check_public_key(spec['public_key'])
    size = len(spec.get('user_data', '').encode('utf-8'))
    if size > MAX_USER_DATA:
        raise InvalidAppliance(
            'invalid appliance spec: data.user_data is %d bytes, at most %d'
            % (size, MAX_USER_DATA)
        )
    reserved = sorted(
        k
        for k in spec.get('metadata') or {}
        if k.startswith(RESERVED_METADATA_PREFIX)
    )
    if reserved:
        raise InvalidAppliance(
            'invalid appliance spec: data.metadata: key %s: keys starting '
            "with %r are sodos's own" % (reserved[0], RESERVED_METADATA_PREFIX)
        )


def check_public_key(text: str) -> str:
    """An OpenSSH public key line, stripped; :class:`InvalidAppliance`
    for anything else, a private key above all (never kept)."""
    what = 'invalid appliance spec: data.public_key'
    if 'PRIVATE KEY' in text:
        raise InvalidAppliance(
            '%s is a private key: give the public one (e.g. the .pub '
            'file); the private key was not kept' % what
        )
    parts = text.strip().split()
    if len(parts) < 2 or parts[0] not in KEY_TYPES:
        raise InvalidAppliance(
            '%s is not an OpenSSH public key ("TYPE BASE64 [COMMENT]", '
            'TYPE one of %s)' % (what, ', '.join(KEY_TYPES))
        )
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidAppliance(
            '%s: the key data is not base64' % what
        ) from None
    length = int.from_bytes(blob[:4], 'big')
    if len(blob) < 4 + length or blob[4 : 4 + length] != parts[0].encode():
        raise InvalidAppliance(
            '%s: the key data is not a %s key' % (what, parts[0])
        )
    return ' '.join(parts)


def instances(appliance_id: str, spec: dict[str, Any]) -> list[Instance]:
    """Every server of a validated spec, in a stable order."""
    found = []
    for member in spec['members']:
        count = member.get('count', 1)
        for index in range(count):
            found.append(
                Instance(
                    appliance_id=appliance_id,
                    name='%s-%d' % (member['name'], index),
                    image=member['image'],
                    flavor=member['flavor'],
                    role=member.get('role', ''),
                    priority=spec.get('priority', 50),
                )
            )
    return found


def feasibility(spec: dict[str, Any], sites: dict[str, Any]) -> list[str]:
    """What makes a validated spec impossible in this federation.

    ``sites`` is the KB's sites section. Capacity is not checked here (it
    changes); the planner reports what it could not place, and why.
    """
    problems = []
    constraints = spec['constraints']
    known = {n for n, s in sites.items() if s.get('status') != 'left'}
    unknown = sorted(set(constraints.get('sites') or []) - known)
    if unknown:
        problems.append(
            'constraints.sites: no site named %s in the federation (known: '
            '%s)' % (', '.join(unknown), ', '.join(sorted(known)) or 'none')
        )
    eligible = [
        name
        for name in sorted(known)
        if allows(constraints, name, _profile(sites[name]))
    ]
    if not eligible:
        problems.append(
            'no site of the federation meets the constraints (sites, '
            'regions, labels)'
        )
    elif constraints['spread'] > len(eligible):
        problems.append(
            'constraints.spread %d: only %d site(s) meet the constraints '
            '(%s)'
            % (constraints['spread'], len(eligible), ', '.join(eligible))
        )
    return problems


def allows(constraints: dict[str, Any], site: str, profile: dict) -> bool:
    """Whether a site's name and profile meet the static constraints."""
    if constraints.get('sites') and site not in constraints['sites']:
        return False
    regions = constraints.get('regions')
    if regions and profile.get('region', site) not in regions:
        return False
    labels = constraints.get('labels') or {}
    have = profile.get('labels') or {}
    return all(have.get(k) == v for k, v in labels.items())


def _profile(site: dict[str, Any]) -> dict[str, Any]:
    profile: dict[str, Any] = (site.get('info') or {}).get('profile') or {}
    return profile
