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

"""Appliances: created, shown, changed and deleted here; placed by
AnalysePlan.

An appliance belongs to a project (:mod:`sodos.domain.ownership`): the
caller's, or the one an admin names. The caller's token gives this
site's id of its project; the KB keeps the global one. A tenant reads
sites and reasons through :class:`sodos.api.tenant_view.View`.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

import webob

from sodos import readmodel
from sodos.analyseplan import role as analyseplan_role
from sodos.api import errors
from sodos.api import tenant_view
from sodos.api import util
from sodos.api.policies import appliance as policies
from sodos.api.schemas import appliance as schemas
from sodos.domain import appliance as appliance_mod
from sodos.domain import appliance_update
from sodos.domain import networks as networks_mod
from sodos.domain import ownership


class _Owners:
    """Project ids as this site's tokens and the KB's records give them."""

    def __init__(self, req: webob.Request) -> None:
        self.site = util.services(req).site
        # The ID map only: the users (and their passwords) stay in the KB.
        self.ident: dict[str, Any] = (
            util.read(req, 'identity', key='idmap') or {}
        )
        self.caller: str | None = util.context(req).project_id

    def caller_global(self) -> str | None:
        if not self.caller:
            return None
        return ownership.global_id(self.ident, self.site, self.caller)

    def target(self, spec: dict[str, Any]) -> dict[str, Any]:
        """The policy target of an appliance: its owner, as this site
        (and so the caller's token) calls it."""
        owner = ownership.owner(spec)
        local = (
            ownership.local_id(self.ident, self.site, owner) if owner else None
        )
        return {'project_id': local}


def _head(spec: dict[str, Any]) -> dict[str, Any]:
    return {'project_id': ownership.owner(spec)}


def _detail(req: webob.Request, appliance_id: str) -> dict[str, Any]:
    record = util.read(req, 'appliances').get(appliance_id)
    if record is None:
        raise errors.not_found('no appliance %s' % appliance_id)
    detail: dict[str, Any] = readmodel.appliance_detail(
        appliance_id,
        record,
        util.read(req, 'placements'),
        util.read(req, 'monitoring'),
    )
    detail.update(_head(record.get('spec') or {}))
    refusals = _refusals(appliance_id, util.read(req, 'actions'))
    alerts = util.read(req, 'alerts')
    for member in detail['members']:
        member['refused'] = refusals.get(member['member'], [])
        key = '%s/%s' % (appliance_id, member['member'])
        alert = alerts.get(analyseplan_role.unplaced_alert_id(key))
        # A member placed at a site that refused it keeps that placement
        # while no site can take it: its open alert says why, and when
        # that site is tried again.
        if member['state'] == readmodel.UNPLACED or alert is not None:
            member['reason'] = _unplaced_reason(alert or {})
    return _as_seen(tenant_view.View(req), detail)


def _unplaced_reason(alert: dict[str, Any]) -> str:
    """Why the planner could not place a member, as its ``unplaced``
    alert says ('' before the planner has tried)."""
    message = str(alert.get('message') or '')
    return message.partition(' cannot be placed: ')[2] or message


def _as_seen(view: tenant_view.View, detail: dict[str, Any]) -> dict[str, Any]:
    """The detail with its sites and reasons as the caller may read
    them."""
    if view.shows_everything():
        return detail
    for member in detail['members']:
        member['site'] = view.site(member['site'])
        if 'reason' in member:
            member['reason'] = view.text(member['reason'])
        member['refused'] = [
            {'site': view.site(r['site']), 'reason': view.text(r['reason'])}
            for r in member['refused']
        ]
    detail['spec'] = _sites_in_spec(detail['spec'], view.site)
    return detail


def _sites_in_spec(spec: dict[str, Any], how: Any) -> dict[str, Any]:
    """``spec`` with the sites it names (``constraints.sites``, the
    networks' per-site overrides) mapped by ``how``."""
    spec = copy.deepcopy(spec)
    constraints = spec.get('constraints')
    if isinstance(constraints, dict) and isinstance(
        constraints.get('sites'), list
    ):
        constraints['sites'] = [
            how(s) if isinstance(s, str) else s for s in constraints['sites']
        ]
    for network in spec.get('networks') or []:
        if isinstance(network, dict) and isinstance(
            network.get('sites'), dict
        ):
            network['sites'] = {how(k): v for k, v in network['sites'].items()}
    return spec


def _refusals(
    appliance_id: str, actions: dict[str, Any]
) -> dict[str, list[dict[str, str]]]:
    """Member -> the sites that refused its server for good, with their
    reason (a quota, no valid host): why it runs elsewhere, or nowhere.
    A transient failure (retried in place) is not a refusal."""
    found: dict[str, list[dict[str, str]]] = {}
    for _aid, action in sorted(actions.items()):
        params = action.get('params') or {}
        result = action.get('result') or {}
        if (
            action.get('kind') != 'server.create'
            or action.get('state') != 'failed'
            or params.get('appliance_id') != appliance_id
            or result.get('transient')
        ):
            continue
        found.setdefault(str(params.get('member')), []).append(
            {'site': action['site'], 'reason': str(result.get('error', ''))}
        )
    return found


def _authorized(req: webob.Request, appliance_id: str, rule: str) -> None:
    """The caller may apply ``rule`` to the appliance; 404 when it is
    unknown or another project's and the rule refuses it."""
    util.check_id(appliance_id, 'appliance')
    record = util.read(req, 'appliances').get(appliance_id)
    if record is None:
        raise errors.not_found('no appliance %s' % appliance_id)
    owners = _Owners(req)
    target = owners.target(record.get('spec') or {})
    if target['project_id'] != owners.caller and not util.allowed(
        req, rule, target
    ):
        raise errors.not_found('no appliance %s' % appliance_id)
    util.authorize(req, rule, target)


def visible(req: webob.Request, appliances: dict[str, Any]) -> set[str]:
    """The ids of the appliances the caller may see in a view of the
    whole federation (a what-if): an admin's every one, anyone else's
    its project's."""
    if util.allowed(req, policies.LIST_ALL_PROJECTS):
        return set(appliances)
    mine = _Owners(req).caller_global()
    return {
        aid
        for aid, record in appliances.items()
        if mine and ownership.owner(record.get('spec') or {}) == mine
    }


def _all_projects(value: str) -> bool:
    if value.lower() in ('1', 'true', 'yes'):
        return True
    if value.lower() in ('0', 'false', 'no'):
        return False
    raise ValueError('must be true or false, not %r' % value)


def list_appliances(req: webob.Request) -> webob.Response:
    asked = util.query(req, {'all_projects': _all_projects})
    owners = _Owners(req)
    util.authorize(req, policies.LIST, {'project_id': owners.caller})
    # A token with no project (noauth) has no own appliances to list.
    every = asked.get('all_projects', False) or owners.caller is None
    if every:
        util.authorize(req, policies.LIST_ALL_PROJECTS)
    mine = owners.caller_global()
    appliances = {
        aid: record
        for aid, record in util.read(req, 'appliances').items()
        if every or ownership.owner(record.get('spec') or {}) == mine
    }
    rows = readmodel.appliance_rows(
        appliances,
        util.read(req, 'placements'),
        util.read(req, 'monitoring'),
    )
    for row in rows:
        row.update(_head(appliances[row['id']].get('spec') or {}))
    return util.respond({'appliances': rows})


def show(req: webob.Request, appliance_id: str) -> webob.Response:
    _authorized(req, appliance_id, policies.GET)
    return util.respond({'appliance': _detail(req, appliance_id)})


def _owner(req: webob.Request, spec: dict[str, Any]) -> dict[str, Any]:
    """The spec with its owner's global id; 403 or 400 naming
    ``body.appliance.project_id`` for a project the caller may not use
    or the federation does not know."""
    owners = _Owners(req)
    named = spec.get('project_id')
    if named is None or named in (owners.caller, owners.caller_global()):
        owner = owners.caller_global()
    else:
        if not util.allowed(req, policies.CREATE_FOR_PROJECT):
            raise errors.ApiError(
                403,
                errors.FORBIDDEN,
                'body.appliance.project_id: policy %s does not allow '
                "creating an appliance for another project than the token's"
                % policies.CREATE_FOR_PROJECT,
            )
        projects = util.read(req, 'identity', key='projects') or {}
        owner = ownership.known(
            dict(owners.ident, **projects), owners.site, named
        )
        if owner is None:
            raise errors.invalid_body(
                'body.appliance.project_id: no project %s in the '
                "federation's identity (openstack sodos identity project "
                'list): its servers could not be built at every site' % named
            )
    spec = dict(spec)
    spec.pop('project_id', None)
    if owner:
        spec['project_id'] = owner
    util.authorize(req, policies.CREATE, owners.target(spec))
    return spec


def _valid(spec: Any) -> dict[str, Any]:
    """:func:`appliance_mod.validate`, its error a 400 naming the field
    under ``body.appliance``."""
    try:
        return appliance_mod.validate(spec)
    except appliance_mod.InvalidAppliance as exc:
        raise _invalid(str(exc)) from None


def _invalid(message: str) -> errors.ApiError:
    return errors.invalid_body(
        message.replace(' data.', ' body.appliance.').replace(
            ' data ', ' body.appliance '
        )
    )


def _feasible(
    req: webob.Request, view: tenant_view.View, spec: dict[str, Any]
) -> None:
    problems = appliance_mod.feasibility(spec, util.read(req, 'sites'))
    if problems:
        raise errors.ApiError(
            409,
            errors.INFEASIBLE,
            view.text(
                'appliance %s cannot be placed in this federation: %s'
                % (spec['name'], '; '.join(problems))
            ),
        )


def create(req: webob.Request) -> webob.Response:
    """Validate, check against the federation's sites, then commit."""
    # Before the body: who may not create at all is told so first.
    util.authorize(
        req, policies.CREATE, {'project_id': util.context(req).project_id}
    )
    body = util.json_body(req, schemas.CREATE)
    view = tenant_view.View(req)
    spec = _valid(_sites_in_spec(body['appliance'], view.site_name))
    spec = _owner(req, spec)
    # A network's name is one network in its owner's project: checked
    # once the owner is known.
    problems = networks_mod.clashes(spec, util.read(req, 'appliances'))
    if problems:
        raise _invalid('invalid appliance spec: %s' % '; '.join(problems))
    _feasible(req, view, spec)
    appliance_id = uuid.uuid4().hex
    util.propose(
        req, 'appliance.put', {'appliance_id': appliance_id, 'spec': spec}
    )
    return util.created(
        req,
        {'appliance': _detail(req, appliance_id)},
        'appliances/%s' % appliance_id,
    )


def update(req: webob.Request, appliance_id: str) -> webob.Response:
    """Apply a merge patch of the spec (:mod:`sodos.domain.
    appliance_update`): checked as a new spec is, then against what may
    change while the appliance runs; committed only if the appliance is
    still as read."""
    _authorized(req, appliance_id, policies.UPDATE)
    body = util.json_body(req, schemas.UPDATE)
    record = util.read(req, 'appliances').get(appliance_id)
    if record is None:
        raise errors.not_found('no appliance %s' % appliance_id)
    view = tenant_view.View(req)
    patch = _sites_in_spec(body['appliance'], view.site_name)
    old_spec = record.get('spec') or {}
    if 'project_id' in patch and _is_owner(req, old_spec, patch['project_id']):
        # Its own project, as the token or the KB calls it: no change.
        patch.pop('project_id')
    try:
        old = appliance_mod.validate(old_spec)
    except appliance_mod.InvalidAppliance as exc:
        raise errors.conflict(
            'appliance %s: its stored spec no longer validates (%s); '
            'delete it and create it again' % (appliance_id, exc)
        ) from None
    spec = _valid(appliance_update.merged(old_spec, patch))
    problems = appliance_update.refusals(old, spec)
    if problems:
        raise _invalid('cannot change appliance: %s' % '; '.join(problems))
    _feasible(req, view, spec)
    if spec != old_spec:
        util.propose(
            req,
            'appliance.update',
            {
                'appliance_id': appliance_id,
                'spec': spec,
                'updated_at': record.get('updated_at'),
            },
        )
    return util.respond({'appliance': _detail(req, appliance_id)})


def _is_owner(req: webob.Request, spec: dict[str, Any], named: Any) -> bool:
    owner = ownership.owner(spec)
    if owner is None:
        return named is None
    owners = _Owners(req)
    return named in (
        owner,
        ownership.local_id(owners.ident, owners.site, owner),
    )


def delete(req: webob.Request, appliance_id: str) -> webob.Response:
    _authorized(req, appliance_id, policies.DELETE)
    util.propose(req, 'appliance.delete', {'appliance_id': appliance_id})
    return util.no_content()
