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

"""Sites: their state and profile, maintenance, operator overrides."""

from __future__ import annotations

from typing import Any

import webob

from sodos import readmodel
from sodos.api import errors
from sodos.api import util
from sodos.api.policies import owner as owner_policies
from sodos.api.policies import site as policies
from sodos.api.schemas import site as schemas
from sodos.domain import community


def _site(req: webob.Request, name: str) -> dict[str, Any]:
    util.check_name(name)
    sites = util.read(req, 'sites')
    if name not in sites:
        raise errors.not_found(
            'no site named %r (known: %s)'
            % (name, ', '.join(sorted(sites)) or 'none')
        )
    row: dict[str, Any] = readmodel.site_row(
        name,
        sites[name],
        util.read(req, 'monitoring'),
        util.read(req, 'placements'),
    )
    return row


def list_sites(req: webob.Request) -> webob.Response:
    util.authorize(req, policies.LIST)
    util.query(req, {})
    rows = readmodel.site_rows(
        util.read(req, 'sites'),
        util.read(req, 'monitoring'),
        util.read(req, 'placements'),
    )
    return util.respond({'sites': rows})


def show(req: webob.Request, name: str) -> webob.Response:
    util.authorize(req, policies.GET)
    return util.respond({'site': _site(req, name)})


def _maintenance(
    req: webob.Request, name: str, state: str, args: dict[str, Any]
) -> webob.Response:
    _site(req, name)
    util.propose(req, 'site.maintenance', dict(args, site=name, state=state))
    return util.respond({'site': _site(req, name)})


def drain(req: webob.Request, name: str) -> webob.Response:
    util.authorize(req, policies.DRAIN)
    body = util.json_body(req, schemas.DRAIN)
    return _maintenance(req, name, 'draining', body)


def undrain(req: webob.Request, name: str) -> webob.Response:
    util.authorize(req, policies.UNDRAIN)
    util.json_body(req, schemas.UNDRAIN)
    return _maintenance(req, name, '', {})


def update(req: webob.Request, name: str) -> webob.Response:
    util.authorize(req, policies.UPDATE)
    body = util.json_body(req, schemas.UPDATE)
    if 'owner' in body:
        _site(req, name)
        current = community.site_owner(util.read(req, 'sites')[name])
        # The site's owner's admins (or the federation admin) give it
        # away; a site of no owner only the federation admin.
        util.authorize(
            req, owner_policies.SET_SITE_OWNER, {'owner': current or ''}
        )
    overrides = {k: v for k, v in body.items() if v is not None}
    location = overrides.get('location')
    if location is not None:
        # Stored as [site_profile]location writes it.
        overrides['location'] = '%s,%s' % (
            _degrees(location['lat']),
            _degrees(location['lon']),
        )
    _site(req, name)
    args: dict[str, Any] = {'site': name}
    if overrides:
        args['profile'] = overrides
    unset = sorted(k for k, v in body.items() if v is None)
    if unset:
        args['unset'] = unset
    util.propose(req, 'site.profile', args)
    return util.respond({'site': _site(req, name)})


def _degrees(value: float) -> str:
    return ('%.6f' % value).rstrip('0').rstrip('.')
