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

"""The route table of the REST API and the dispatcher that walks it.

One entry per path; one handler function per method. A path that
matches no route is 404, a method a route does not have is 405 (with an
``Allow`` header), both with the JSON error body of every other error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import webob
import webob.dec

from sodos.api import errors
from sodos.api.handlers import alerts
from sodos.api.handlers import appliances
from sodos.api.handlers import catalog
from sodos.api.handlers import dashboard
from sodos.api.handlers import federation
from sodos.api.handlers import health
from sodos.api.handlers import history
from sodos.api.handlers import identity
from sodos.api.handlers import identity_adoptions
from sodos.api.handlers import identity_links
from sodos.api.handlers import images
from sodos.api.handlers import owners
from sodos.api.handlers import root
from sodos.api.handlers import sites
from sodos.api.handlers import usage
from sodos.api.handlers import whatif

Handler = Callable[..., webob.Response]

ROUTES: dict[str, dict[str, Handler]] = {
    '/': {'GET': root.versions},
    '/v1': {'GET': root.versions},
    '/healthcheck': {'GET': health.show, 'HEAD': health.show},
    '/v1/federation': {'GET': federation.show},
    '/v1/dashboard': {'GET': dashboard.snapshot},
    dashboard.PAGE: {'GET': dashboard.page},
    dashboard.STATIC + '/{name}': {'GET': dashboard.asset},
    '/v1/sites': {'GET': sites.list_sites},
    '/v1/sites/{name}': {'GET': sites.show, 'PATCH': sites.update},
    '/v1/sites/{name}/drain': {'POST': sites.drain},
    '/v1/sites/{name}/undrain': {'POST': sites.undrain},
    '/v1/owners': {'GET': owners.list_owners},
    '/v1/owners/{owner}': {'GET': owners.show, 'PATCH': owners.update},
    '/v1/appliances': {
        'GET': appliances.list_appliances,
        'POST': appliances.create,
    },
    '/v1/appliances/{appliance_id}': {
        'GET': appliances.show,
        'PATCH': appliances.update,
        'DELETE': appliances.delete,
    },
    '/v1/images': {'GET': images.list_images, 'POST': images.create},
    '/v1/images/{image_id}': {'GET': images.show, 'DELETE': images.delete},
    '/v1/images/{image_id}/target': {'PUT': images.set_target},
    '/v1/catalog': {'GET': catalog.list_catalog},
    '/v1/alerts': {'GET': alerts.list_alerts},
    '/v1/alerts/{alert_id}': {'GET': alerts.show},
    '/v1/alerts/{alert_id}/ack': {'POST': alerts.ack},
    '/v1/whatif': {'POST': whatif.create},
    '/v1/history/actions': {'GET': history.actions},
    '/v1/history/alerts': {'GET': history.alerts},
    '/v1/history/monitoring': {'GET': history.monitoring},
    '/v1/usage': {'GET': usage.list_usage},
    '/v1/identity': {'GET': identity.status},
    '/v1/identity/domains': {
        'GET': identity.OBJECTS['domains'].list,
        'POST': identity.OBJECTS['domains'].create,
    },
    '/v1/identity/domains/{ref}': {
        'GET': identity.OBJECTS['domains'].show,
        'PATCH': identity.OBJECTS['domains'].update,
        'DELETE': identity.OBJECTS['domains'].delete,
    },
    '/v1/identity/projects': {
        'GET': identity.OBJECTS['projects'].list,
        'POST': identity.OBJECTS['projects'].create,
    },
    '/v1/identity/projects/{ref}': {
        'GET': identity.OBJECTS['projects'].show,
        'PATCH': identity.OBJECTS['projects'].update,
        'DELETE': identity.OBJECTS['projects'].delete,
    },
    '/v1/identity/users': {
        'GET': identity.OBJECTS['users'].list,
        'POST': identity.OBJECTS['users'].create,
    },
    '/v1/identity/users/{ref}': {
        'GET': identity.OBJECTS['users'].show,
        'PATCH': identity.OBJECTS['users'].update,
        'DELETE': identity.OBJECTS['users'].delete,
    },
    '/v1/identity/groups': {
        'GET': identity.OBJECTS['groups'].list,
        'POST': identity.OBJECTS['groups'].create,
    },
    '/v1/identity/groups/{ref}': {
        'GET': identity.OBJECTS['groups'].show,
        'PATCH': identity.OBJECTS['groups'].update,
        'DELETE': identity.OBJECTS['groups'].delete,
    },
    '/v1/identity/groups/{ref}/users': {'GET': identity_links.group_users},
    '/v1/identity/groups/{ref}/users/{user}': {
        'PUT': identity_links.add_user,
        'DELETE': identity_links.remove_user,
    },
    '/v1/identity/role-assignments': {
        'GET': identity_links.list_assignments,
        'POST': identity_links.create_assignment,
        'DELETE': identity_links.delete_assignment,
    },
    '/v1/identity/adoptions': {
        'GET': identity_adoptions.list_adoptions,
        'POST': identity_adoptions.create,
    },
    '/v1/identity/adoptions/{request_id}': {'GET': identity_adoptions.show},
}
# Answered without a token: version discovery.
PUBLIC = frozenset({'/', '/v1'})
# Answered without a token, and with one checked if one is given.
TOKEN_OPTIONAL = frozenset({'/healthcheck'})
# Answered without a token, with everything under them: the status
# page's shell and files, which hold no data.
PUBLIC_TREES = (dashboard.PAGE,)


def is_public(path: str, token: str | None = None) -> bool:
    """Whether a request for ``path`` is answered without a token.

    ``token``: the one the request carries; a route where a token is
    optional is public only without one (a token given is checked).
    """
    path = normalise(path)
    if path in TOKEN_OPTIONAL:
        return not token
    return path in PUBLIC or any(
        path == tree or path.startswith(tree + '/') for tree in PUBLIC_TREES
    )


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r'\{(\w+)\}', template)
    regex = ''.join(
        re.escape(part) if i % 2 == 0 else '(?P<%s>[^/]+)' % part
        for i, part in enumerate(parts)
    )
    return re.compile('^%s$' % regex)


_COMPILED = [(_pattern(t), methods) for t, methods in ROUTES.items()]


def normalise(path: str) -> str:
    """The path without a trailing slash ('/' stays '/')."""
    return path.rstrip('/') or '/'


def match(path: str) -> tuple[dict[str, Handler], dict[str, Any]] | None:
    path = normalise(path)
    for pattern, methods in _COMPILED:
        found = pattern.match(path)
        if found:
            return methods, found.groupdict()
    return None


class Dispatcher:
    """The innermost WSGI application: route, check the size, handle."""

    def __init__(self, max_body: int) -> None:
        self.max_body = max_body

    @webob.dec.wsgify
    def __call__(self, req: webob.Request) -> webob.Response:
        found = match(req.path_info)
        if found is None:
            raise errors.not_found(
                'no resource at %s (see GET / for the API versions)'
                % req.path_info
            )
        methods, params = found
        handler = methods.get(req.method)
        if handler is None:
            allowed = ', '.join(sorted(methods))
            raise errors.ApiError(
                405,
                errors.METHOD_NOT_ALLOWED,
                '%s is not allowed on %s (allowed: %s)'
                % (req.method, req.path_info, allowed),
                headers={'Allow': allowed},
            )
        if (req.content_length or 0) > self.max_body:
            raise errors.ApiError(
                413,
                errors.INVALID_BODY,
                'request body of %d bytes is larger than %d '
                '([api]max_request_body_size)'
                % (req.content_length, self.max_body),
            )
        return handler(req, **params)
