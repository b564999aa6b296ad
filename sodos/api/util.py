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

"""What every handler needs: the request's services and context, JSON in
and out, query checks, and the KnowMon's errors as API errors."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import fastjsonschema
import webob
from oslo_config import cfg
from oslo_context import context as oslo_context
from oslo_policy import policy as oslo_policy

from sodos import exception
from sodos import jsonsafe
from sodos.analyseplan import planner as planner_mod
from sodos.analyseplan import whatif as whatif_mod
from sodos.api import errors
from sodos.api import policy
from sodos.knowmon import rpcapi
from sodos.observe import health

SERVICES_KEY = 'sodos.services'
CONTEXT_KEY = 'sodos.context'
REQUEST_ID_KEY = 'openstack.request_id'
# Set by a handler whose error statuses are not the API contract's.
AS_IS_KEY = 'sodos.as_is'
# \Z, not $: "$" also matches before a final newline ("here\n").
_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.\-]{0,62}\Z')
_UUID_HEX = re.compile(r'^[0-9a-f]{32}\Z')


@dataclasses.dataclass
class Services:
    """What the API runs against, made once per application."""

    conf: cfg.ConfigOpts
    knowmon: rpcapi.KnowMonClient
    enforcer: oslo_policy.Enforcer
    # /healthcheck, by whether the caller may see its details.
    healthchecks: dict[bool, health.SiteHealthcheck] = dataclasses.field(
        default_factory=dict
    )

    _planner: tuple[Any, planner_mod.Planner] | None = None
    _planning: threading.Lock = dataclasses.field(
        default_factory=threading.Lock
    )

    @property
    def site(self) -> str:
        return str(self.conf.site_name)

    def whatif(
        self, kb: dict[str, Any], failed: list[str], drained: list[str]
    ) -> dict[str, Any]:
        """:func:`sodos.analyseplan.whatif.ask`, one question at a time.

        The planner is made once (loading its plugins takes a while) and
        again when a reload changed ``[analyseplan]filters`` or
        ``weights``; its weighers cache per plan, hence one at a time.
        """
        options = self.conf.analyseplan
        key = (tuple(options.filters), sorted(options.weights.items()))
        with self._planning:
            if self._planner is None or self._planner[0] != key:
                self._planner = (key, planner_mod.from_conf(self.conf))
            return whatif_mod.ask(
                self._planner[1], kb, failed, drained, time.time()
            )


def services(req: webob.Request) -> Services:
    found: Services = req.environ[SERVICES_KEY]
    return found


def context(req: webob.Request) -> oslo_context.RequestContext:
    found: oslo_context.RequestContext = req.environ[CONTEXT_KEY]
    return found


def authorize(
    req: webob.Request, rule: str, target: dict[str, Any] | None = None
) -> None:
    policy.authorize(services(req).enforcer, context(req), rule, target)


def allowed(
    req: webob.Request, rule: str, target: dict[str, Any] | None = None
) -> bool:
    """Whether the caller passes ``rule`` (for a choice, not a refusal)."""
    try:
        authorize(req, rule, target)
    except errors.ApiError:
        return False
    return True


def respond(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> webob.Response:
    response = webob.Response(
        status=status, content_type='application/json', charset='utf-8'
    )
    response.text = json.dumps(body, sort_keys=True)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def created(
    req: webob.Request, body: dict[str, Any], path: str
) -> webob.Response:
    """201 with ``body``, the new resource at ``/v1/<path>``."""
    location = '%s/v1/%s' % (req.application_url.rstrip('/'), path)
    return respond(body, status=201, headers={'Location': location})


def no_content() -> webob.Response:
    response = webob.Response(status=204)
    response.content_type = None
    return response


_VALIDATORS: dict[int, Callable[[Any], Any]] = {}


def validator(schema: dict[str, Any]) -> Callable[[Any], Any]:
    """A compiled validator of a module-level ``schema`` (compiled once)."""
    found = _VALIDATORS.get(id(schema))
    if found is None:
        found = _VALIDATORS[id(schema)] = fastjsonschema.compile(schema)
    return found


def json_body(req: webob.Request, schema: dict[str, Any]) -> dict[str, Any]:
    """The request's JSON body, checked against ``schema``.

    An empty body is ``{}``. :raises ApiError: ``invalid_json`` or
    ``invalid_body`` naming the JSON path of the field that is wrong.
    """
    raw = req.body
    if not raw.strip():
        data: Any = {}
    else:
        try:
            data = jsonsafe.loads(raw, 'body')
        except exception.InvalidJson as exc:
            raise errors.ApiError(
                400, errors.INVALID_JSON, 'request body is not JSON: %s' % exc
            ) from None
    if not isinstance(data, dict):
        raise errors.invalid_body(
            'body must be a JSON object, not %s' % type(data).__name__
        )
    try:
        validator(schema)(data)
    except fastjsonschema.JsonSchemaValueException as exc:
        raise errors.invalid_body(
            'body' + exc.message.removeprefix('data')
        ) from None
    return data


def query(
    req: webob.Request, allowed: dict[str, Callable[[str], Any]]
) -> dict[str, Any]:
    """The query parameters, each converted by its function in
    ``allowed`` (which raises ValueError naming what is wrong).

    :raises ApiError: ``invalid_query`` for an unknown, repeated or bad
        parameter.
    """
    out: dict[str, Any] = {}
    for key, value in req.GET.items():
        if key not in allowed:
            raise errors.invalid_query(
                'unknown query parameter %r (known: %s)'
                % (key, ', '.join(sorted(allowed)) or 'none')
            )
        if key in out:
            raise errors.invalid_query('query parameter %s given twice' % key)
        try:
            out[key] = allowed[key](value)
        except ValueError as exc:
            raise errors.invalid_query('%s: %s' % (key, exc)) from None
    return out


def limit(value: str, maximum: int = 1000) -> int:
    if not value.isdigit() or not 1 <= int(value) <= maximum:
        raise ValueError(
            'must be an integer from 1 to %d, not %r' % (maximum, value)
        )
    return int(value)


def name(value: str) -> str:
    if not _NAME.match(value):
        raise ValueError(
            '%r is not a site name (letters, digits, "_", ".", "-"; '
            'at most 63)' % value
        )
    return value


def check_name(value: str, what: str = 'site') -> str:
    """A path's name segment; an impossible name cannot exist: 404."""
    if not _NAME.match(value):
        raise errors.not_found('no %s named %r' % (what, value))
    return value


def check_id(value: str, what: str) -> str:
    if not _UUID_HEX.match(value):
        raise errors.not_found(
            'no %s %r (ids are 32 lowercase hex digits)' % (what, value)
        )
    return value


@contextlib.contextmanager
def knowmon_errors(site: str) -> Iterator[None]:
    """KnowMon's errors as API errors: 409 for a refused command, 503
    when the KB cannot be reached or has no quorum."""
    try:
        yield
    except exception.CommandRejected as exc:
        raise errors.conflict(str(exc)) from exc
    except exception.InvalidCommand as exc:
        raise errors.invalid_body(str(exc)) from exc
    except exception.CommitTimeout as exc:
        raise errors.unavailable(
            '%s; the federation may have no quorum: check "sodos-manage '
            'federation status" (the write may still apply)' % exc
        ) from exc
    except exception.SodosError as exc:
        raise errors.unavailable(
            'the Knowledge Base of site %s cannot be reached: %s; check '
            'that its KnowMon runs and [DEFAULT]transport_url' % (site, exc)
        ) from exc


def read(req: webob.Request, section: str | None, **fields: Any) -> Any:
    """A section of the KB (``key=`` one entry of it only)."""
    svc = services(req)
    with knowmon_errors(svc.site):
        return svc.knowmon.read(section, **fields)


def propose(req: webob.Request, type_: str, args: dict[str, Any]) -> Any:
    """Commit a command; answered only once the KB committed it."""
    svc = services(req)
    with knowmon_errors(svc.site):
        return rpcapi.propose(svc.knowmon, type_, args, svc.site)
