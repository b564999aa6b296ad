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

"""A community cloud in a scenario: owners, their sites and demands.

::

    owners:
      - {name: uni-a, policy: {lend_share_pct: 50}}
      - {name: town, weight: 2}
    sites:
      - {name: a1, owner: uni-a}
    appliances:
      - {name: a-base, owner: uni-a, count: 4, members: [...]}
    events:
      - {at: 5, action: demand, owner: uni-a, extra: 6, flavor: m1.small}
      - {at: 40, action: release, owner: uni-a}

An owner is named in the scenario; the federation knows it by a
Keystone domain id made from the name (and one project of that domain,
its appliances' ``project_id``), both put in the KB's identity section
before the appliances, with the owner's policy. ``demand`` adds
``extra`` one-member appliances of the owner's project; ``release``
deletes them.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

from sodos.domain import community

OWNER_FIELDS: dict[str, Any] = {
    'type': 'object',
    'required': ['name'],
    'additionalProperties': False,
    'properties': {
        'name': {
            'type': 'string',
            'pattern': r'^[A-Za-z0-9][A-Za-z0-9_\-]{0,62}$',
        },
        'weight': {'type': 'number', 'exclusiveMinimum': 0, 'maximum': 10**6},
        'policy': {'type': 'object'},
        'note': {'type': 'string'},
    },
}


@dataclasses.dataclass
class Owner:
    name: str
    policy: dict[str, Any]  # checked; weight included when given

    @property
    def domain_id(self) -> str:
        return _hex('domain', self.name)

    @property
    def project_id(self) -> str:
        return _hex('project', self.name)


def _hex(kind: str, name: str) -> str:
    # The same ids for the same scenario, run after run (KB global ids
    # are 32 hex digits).
    return hashlib.sha256(
        ('sodos-sim %s %s' % (kind, name)).encode()
    ).hexdigest()[:32]


def parse(data: dict[str, Any], fail: Any) -> list[Owner]:
    """The scenario's owners, their policies checked (names of owners
    as the scenario spells them in ``admit_owners``)."""
    found: list[Owner] = []
    seen: dict[str, int] = {}
    entries = data.get('owners') or []
    names = {e['name'] for e in entries}
    for index, entry in enumerate(entries):
        where = ['owners', index]
        name = entry['name']
        if name in seen:
            raise fail(
                where + ['name'],
                'owner %s is already defined by owners[%d]'
                % (name, seen[name]),
            )
        seen[name] = index
        policy = dict(entry.get('policy') or {})
        if 'weight' in policy:
            raise fail(
                where + ['policy', 'weight'],
                "give the weight as the owner's own field (owners[%d]."
                'weight)' % index,
            )
        try:
            community.merged(None, policy)
            community.check_names(policy, name, names)
        except community.InvalidPolicy as exc:
            problem = str(exc).removeprefix('policy')
            field = problem.lstrip('.').split(' ', 1)[0].rstrip(':')
            raise fail(
                where + ['policy'] + ([field] if field else []),
                problem.split(' ', 1)[-1] if field else problem,
            ) from None
        if 'weight' in entry:
            policy['weight'] = entry['weight']
        found.append(Owner(name=name, policy=policy))
    return found


def check_site_owners(
    data: dict[str, Any], owners: list[Owner], fail: Any
) -> None:
    """Every ``owner`` of a site or appliance names an owner."""
    names = {o.name for o in owners}
    for kind in ('sites', 'appliances'):
        for index, entry in enumerate(data.get(kind) or []):
            name = entry.get('owner')
            if name is not None and name not in names:
                raise fail(
                    [kind, index, 'owner'],
                    'no owner named %s (owners: %s)'
                    % (name, ', '.join(sorted(names)) or 'none'),
                )


def check_demands(events: list[Any], owners: set[str], fail: Any) -> None:
    """demand and release name a scenario owner; a release follows a
    demand of the same owner."""
    asked: set[str] = set()
    for event in events:
        where = ['events', event.index]
        if event.action not in ('demand', 'release'):
            continue
        if event.owner not in owners:
            raise fail(
                where + ['owner'],
                'no owner named %s (owners: %s)'
                % (event.owner, ', '.join(sorted(owners)) or 'none'),
            )
        if event.action == 'demand':
            asked.add(event.owner)
        elif event.owner not in asked:
            raise fail(
                where, 'owner %s has no demand to release' % event.owner
            )
        else:
            asked.discard(event.owner)


def policy_for_kb(owner: Owner, owners: list[Owner]) -> dict[str, Any]:
    """``owner``'s policy with the other owners named by domain id."""
    ids = {o.name: o.domain_id for o in owners}
    policy = dict(owner.policy)
    if 'admit_owners' in policy:
        policy['admit_owners'] = [
            ids.get(n, n) for n in policy['admit_owners']
        ]
    return policy


def setup(owners: list[Owner], propose: Any) -> None:
    """Put the owners' domains, projects and policies in the KB."""
    for owner in owners:
        propose(
            'identity.domain.put',
            {'domain_id': owner.domain_id, 'name': owner.name},
        )
        propose(
            'identity.project.put',
            {
                'project_id': owner.project_id,
                'name': owner.name + '-project',
                'domain_id': owner.domain_id,
            },
        )
    for owner in owners:
        policy = policy_for_kb(owner, owners)
        if policy:
            propose(
                'owner.policy', {'owner': owner.domain_id, 'policy': policy}
            )
