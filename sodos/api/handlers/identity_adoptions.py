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

"""Adoption: a project, user or group made by hand in one site's Keystone
becomes a federation object (:mod:`sodos.identity.adoption`).

``POST /v1/identity/adoptions`` commits a request and answers with it,
``pending``: only the named site's Exec reads that site's Keystone, so it
carries the request out (at its next look at the KB, every
``[identity]sync_interval``) and records ``done`` or ``failed`` with the
reason. ``GET /v1/identity/adoptions[/{id}]`` shows where it is.
"""

from __future__ import annotations

import uuid
from typing import Any

import webob

from sodos.api import errors
from sodos.api import util
from sodos.api.handlers import identity as objects
from sodos.api.policies import identity as policies
from sodos.api.schemas import identity as schemas
from sodos.identity import adoption
from sodos.identity import model

_KIND = {model.SINGULAR[kind]: kind for kind in adoption.KINDS}


def view(rid: str, req: dict[str, Any]) -> dict[str, Any]:
    """A request as the API shows it: ``object_id`` is the federation's
    id of the object once done, ``site_id`` its id at the site."""
    return {
        'id': rid,
        'kind': model.SINGULAR[req['kind']],
        'name': req['name'],
        'domain_id': req['domain_id'],
        'site': req['site'],
        'state': req['state'],
        'reason': req.get('reason'),
        'note': req.get('note'),
        'object_id': req.get('id'),
        'site_id': req.get('local_id'),
        'requested_by': req.get('requested_by'),
        'created_at': req.get('created_at'),
        'finished_at': req.get('finished_at'),
    }


def _kind(value: str) -> str:
    """Query parameter type: project, user or group."""
    if value not in _KIND:
        raise ValueError(
            'must be one of %s, not %r' % (', '.join(sorted(_KIND)), value)
        )
    return value


def _state(value: str) -> str:
    if value not in adoption.STATES:
        raise ValueError(
            'must be one of %s, not %r' % (', '.join(adoption.STATES), value)
        )
    return value


def list_adoptions(req: webob.Request) -> webob.Response:
    """The requests the KB keeps (every pending one, the latest
    finished ones), oldest first; ``site``, ``state`` and ``kind``
    filter."""
    util.authorize(req, policies.ADOPTION_LIST)
    query = util.query(
        req, {'site': util.name, 'state': _state, 'kind': _kind}
    )
    rows = [
        view(rid, found)
        for rid, found in objects.state(req)['adoptions'].items()
        if query.get('site') in (None, found['site'])
        and query.get('state') in (None, found['state'])
        and query.get('kind') in (None, model.SINGULAR[found['kind']])
    ]
    rows.sort(key=lambda r: (r['created_at'] or 0, r['id']))
    return util.respond({'adoptions': rows})


def _one(req: webob.Request, rid: str) -> dict[str, Any]:
    util.check_id(rid, 'adoption request')
    found = objects.state(req)['adoptions'].get(rid)
    if found is None:
        raise errors.not_found(
            'no adoption request %s (finished ones are kept for the latest '
            '%d only)' % (rid, adoption.FINISHED_KEPT)
        )
    return view(rid, found)


def show(req: webob.Request, request_id: str) -> webob.Response:
    util.authorize(req, policies.ADOPTION_GET)
    util.query(req, {})
    return util.respond({'adoption': _one(req, request_id)})


def create(req: webob.Request) -> webob.Response:
    """201 with the request, ``pending``, once the KB committed it.

    What the API can check is checked first (the site, the domain, a
    protected name, a name the federation holds already); what only the
    site can see (is there such an object, is it sodos's already) is in
    the request's ``reason`` if it fails.
    """
    util.authorize(req, policies.ADOPTION_CREATE)
    util.query(req, {})
    fields = util.json_body(req, schemas.ADOPTION)['adoption']
    kind, name = _KIND[fields['kind']], fields['name']
    objects.refuse_protected(objects.identity(req), kind, {name})
    site = (util.read(req, 'sites') or {}).get(fields['site'])
    if site is None:
        raise errors.not_found(
            'body.adoption.site: no site %r in the federation' % fields['site']
        )
    if site.get('status') == 'left':
        raise errors.conflict(
            'site %s has left the federation: it cannot adopt' % fields['site']
        )
    ident = objects.state(req)
    domain_id = objects.domain_id(
        ident, fields.get('domain'), 'body.adoption.domain: '
    )
    other = model.find(ident, kind, name, domain_id)
    if other is not None:
        raise errors.conflict(
            'the federation has a %s %r in domain %s already (id %s): there '
            'is nothing to adopt' % (fields['kind'], name, domain_id, other)
        )
    context = util.context(req)
    rid = uuid.uuid4().hex
    args = {
        'request_id': rid,
        'kind': kind,
        'name': name,
        'domain_id': domain_id,
        'site': fields['site'],
        'requested_by': (context.user_name or context.user_id or 'unknown')[
            :255
        ],
    }
    util.propose(req, 'identity.adopt', args)
    return util.created(
        req,
        {'adoption': _one(req, rid)},
        'identity/adoptions/%s' % rid,
    )
