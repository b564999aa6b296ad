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

"""Appliances: created, shown and deleted here; placed by AnalysePlan."""

from __future__ import annotations

import uuid
from typing import Any

import webob

from sodos import readmodel
from sodos.api import errors
from sodos.api import util
from sodos.api.policies import appliance as policies
from sodos.api.schemas import appliance as schemas
from sodos.domain import appliance as appliance_mod
from sodos.domain import networks as networks_mod


def _detail(req: webob.Request, appliance_id: str) -> dict[str, Any]:
    util.check_id(appliance_id, 'appliance')
    record = util.read(req, 'appliances').get(appliance_id)
    if record is None:
        raise errors.not_found('no appliance %s' % appliance_id)
    detail: dict[str, Any] = readmodel.appliance_detail(
        appliance_id,
        record,
        util.read(req, 'placements'),
        util.read(req, 'monitoring'),
    )
    return detail


def list_appliances(req: webob.Request) -> webob.Response:
    util.authorize(req, policies.LIST)
    util.query(req, {})
    rows = readmodel.appliance_rows(
        util.read(req, 'appliances'),
        util.read(req, 'placements'),
        util.read(req, 'monitoring'),
    )
    return util.respond({'appliances': rows})


def show(req: webob.Request, appliance_id: str) -> webob.Response:
    util.authorize(req, policies.GET)
    return util.respond({'appliance': _detail(req, appliance_id)})


def create(req: webob.Request) -> webob.Response:
    """Validate, check against the federation's sites, then commit."""
    util.authorize(req, policies.CREATE)
    body = util.json_body(req, schemas.CREATE)
    try:
        spec = appliance_mod.validate(body['appliance'])
        _no_network_clash(spec, util.read(req, 'appliances'))
    except appliance_mod.InvalidAppliance as exc:
        raise errors.invalid_body(
            str(exc).replace(' data.', ' body.appliance.')
        ) from None
    problems = appliance_mod.feasibility(spec, util.read(req, 'sites'))
    if problems:
        raise errors.ApiError(
            409,
            errors.INFEASIBLE,
            'appliance %s cannot be placed in this federation: %s'
            % (spec['name'], '; '.join(problems)),
        )
    appliance_id = uuid.uuid4().hex
    util.propose(
        req, 'appliance.put', {'appliance_id': appliance_id, 'spec': spec}
    )
    return util.created(
        req,
        {'appliance': _detail(req, appliance_id)},
        'appliances/%s' % appliance_id,
    )


def _no_network_clash(
    spec: dict[str, Any], appliances: dict[str, Any]
) -> None:
    """A network name means one network in a project, federation-wide."""
    problems = networks_mod.clashes(spec, appliances)
    if problems:
        raise appliance_mod.InvalidAppliance(
            'invalid appliance spec: %s' % '; '.join(problems)
        )


def delete(req: webob.Request, appliance_id: str) -> webob.Response:
    util.authorize(req, policies.DELETE)
    _detail(req, appliance_id)
    util.propose(req, 'appliance.delete', {'appliance_id': appliance_id})
    return util.no_content()
