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

"""The owners of sites and their sharing policies (/v1/owners)."""

from __future__ import annotations

import re
from typing import Any

import webob

from sodos.api import errors
from sodos.api import util
from sodos.api.policies import owner as policies
from sodos.api.schemas import owner as schemas
from sodos.domain import community

_OWNER = re.compile(community.OWNER['pattern'])


def _known(req: webob.Request) -> tuple[dict[str, Any], set[str]]:
    """The owners section, and every owner the federation knows."""
    sites = util.read(req, 'sites')
    known = community.known_owners(sites, util.read(req, 'identity') or {})
    return util.read(req, 'owners') or {}, known


def _row(req: webob.Request, owner: str) -> dict[str, Any]:
    if not _OWNER.match(owner):
        raise errors.not_found('%r is not an owner (a domain id)' % owner)
    owners, known = _known(req)
    if owner not in known:
        raise errors.not_found(
            'no owner %r (known: %s)'
            % (owner, ', '.join(sorted(known)) or 'none')
        )
    rows = community.rows(util.read(req, 'sites'), owners, known)
    return next(r for r in rows if r['owner'] == owner)


def list_owners(req: webob.Request) -> webob.Response:
    util.authorize(req, policies.LIST)
    util.query(req, {})
    owners, known = _known(req)
    rows = community.rows(util.read(req, 'sites'), owners, known)
    return util.respond({'owners': rows})


def show(req: webob.Request, owner: str) -> webob.Response:
    util.authorize(req, policies.GET)
    return util.respond({'owner': _row(req, owner)})


def update(req: webob.Request, owner: str) -> webob.Response:
    """Change fields of the policy; null takes one back. Checked whole
    here (the field and the rule named) before anything is proposed."""
    target = {'owner': owner}
    util.authorize(req, policies.UPDATE, target)
    body = util.json_body(req, schemas.UPDATE)
    if community.FEDERATION_FIELDS & set(body):
        util.authorize(req, policies.UPDATE_WEIGHT, target)
    row = _row(req, owner)
    owners, known = _known(req)
    changes = {k: v for k, v in body.items() if v is not None}
    unset = sorted(k for k, v in body.items() if v is None)
    current = dict((owners.get(owner) or {}).get('policy') or {})
    for key in unset:
        current.pop(key, None)
    try:
        policy = community.merged(None, dict(current, **changes))
        community.check_names(policy, owner, known)
    except community.InvalidPolicy as exc:
        raise errors.invalid_body(str(exc)) from None
    args: dict[str, Any] = {'owner': row['owner']}
    if changes:
        args['policy'] = changes
    if unset:
        args['unset'] = unset
    util.propose(req, 'owner.policy', args)
    return util.respond({'owner': _row(req, owner)})
