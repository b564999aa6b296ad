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

"""The REST API's WSGI pipeline, from the outside in:

1. request id (oslo.middleware): ``X-OpenStack-Request-Id`` on every
   response, a new ``req-<uuid>`` per request;
2. faults: every error as the JSON body of the API contract, whoever
   made it (a handler, keystonemiddleware, webob); an unexpected
   exception is logged with its traceback and answered 500 ``internal``
   without one; one log line per request;
3. authentication: keystonemiddleware's auth_token with
   ``[api]auth_strategy = keystone`` (version discovery needs no token);
   with ``noauth`` every request acts as an admin;
4. the request context (oslo.context) the policy checks read;
5. the route table (:mod:`sodos.api.handler`); ``/healthcheck`` needs
   no token, and shows its details to a token that passes its policy.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from typing import Any

import webob
import webob.dec
from keystonemiddleware import auth_token
from oslo_config import cfg
from oslo_context import context as oslo_context
from oslo_log import log
from oslo_middleware import request_id

from sodos.api import errors
from sodos.api import handler
from sodos.api import policy
from sodos.api import util
from sodos.knowmon import rpcapi
from sodos.observe import health

LOG = log.getLogger(__name__)
WSGIApp = Any
# Printable ASCII but the space: logged as they are.
_PRINTABLE = ''.join(chr(c) for c in range(0x21, 0x7F))


class FaultWrapper:
    """Errors as JSON, whoever made them; one log line per request."""

    def __init__(self, application: WSGIApp) -> None:
        self.application = application
        self.lock = threading.Lock()
        self.requests = 0
        self.errors = 0

    @webob.dec.wsgify
    def __call__(self, req: webob.Request) -> webob.Response:
        started = time.monotonic()
        try:
            _check_url(req)
            response = req.get_response(self.application)
        except errors.ApiError as exc:
            response = error_response(req, exc)
        except Exception as exc:
            LOG.exception('%s %s failed', _loggable(req.method), _url(req))
            response = error_response(
                req,
                errors.ApiError(
                    500,
                    errors.INTERNAL,
                    'unexpected error (%s), see the API log for %s'
                    % (type(exc).__name__, _request_id(req)),
                ),
            )
        if (
            response.status_int >= 400
            and not _ours(response)
            and not req.environ.get(util.AS_IS_KEY)
        ):
            response = _rewrite(req, response)
        with self.lock:
            self.requests += 1
            self.errors += response.status_int >= 500
        LOG.info(
            '%s %s %d %.3f s',
            _loggable(req.method),
            _url(req),
            response.status_int,
            time.monotonic() - started,
        )
        return response


def _check_url(req: webob.Request) -> None:
    """A 400 for a path or query that is not UTF-8 once percent-decoded
    (``%ff``): WebOb raises UnicodeDecodeError wherever it is first read,
    which was a 500."""
    for part, read in (
        ('path', lambda: req.path_info),
        ('query string', lambda: req.GET),
    ):
        try:
            read()
        except UnicodeDecodeError as exc:
            raise errors.invalid_query(
                'the %s is not UTF-8 once percent-decoded: %s'
                % (part, exc.reason)
            ) from None


def _loggable(text: str) -> str:
    """``text`` percent-encoded but for printable ASCII: what a client
    sent cannot start a new log line (a newline) or hold a terminal
    escape."""
    return urllib.parse.quote(
        text, safe=_PRINTABLE, encoding='latin-1', errors='backslashreplace'
    )


def _url(req: webob.Request) -> str:
    """The request's path and query as sent, whether or not they decode:
    the WSGI server passes them as latin-1 text, one char a byte."""
    environ = req.environ
    url = environ.get('SCRIPT_NAME', '') + environ.get('PATH_INFO', '')
    query = environ.get('QUERY_STRING')
    return _loggable(url + ('?' + query if query else ''))


def _request_id(req: webob.Request) -> str | None:
    found: str | None = req.environ.get(util.REQUEST_ID_KEY)
    return found


def error_response(
    req: webob.Request, error: errors.ApiError
) -> webob.Response:
    return util.respond(
        errors.body(error.code, error.message, _request_id(req)),
        status=error.status,
        headers=error.headers,
    )


def _ours(response: webob.Response) -> bool:
    if response.content_type != 'application/json':
        return False
    try:
        code = json.loads(response.body)['error']['code']
    except (ValueError, KeyError, TypeError):
        return False
    return code in errors.CODES


def _rewrite(req: webob.Request, response: webob.Response) -> webob.Response:
    """An error made by middleware, in the contract's form."""
    status = response.status_int
    code = errors.BY_STATUS.get(
        status, errors.INTERNAL if status >= 500 else errors.INVALID_BODY
    )
    message = response.status
    try:
        message = json.loads(response.body)['error']['message']
    except (ValueError, KeyError, TypeError):
        pass
    rewritten = error_response(
        req, errors.ApiError(status, code, str(message))
    )
    for name in ('WWW-Authenticate', 'Allow', 'Retry-After'):
        if name in response.headers:
            rewritten.headers[name] = response.headers[name]
    return rewritten


class ContextMiddleware:
    """The request context: from keystonemiddleware's headers, or an
    admin one with noauth."""

    def __init__(self, application: WSGIApp, noauth: bool) -> None:
        self.application = application
        self.noauth = noauth

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = environ.get(util.REQUEST_ID_KEY)
        if self.noauth:
            context = oslo_context.RequestContext(
                user_id='noauth',
                user_name='noauth',
                roles=['admin'],
                is_admin=True,
                request_id=request,
            )
        else:
            context = oslo_context.RequestContext.from_environ(
                environ, request_id=request
            )
        environ[util.CONTEXT_KEY] = context
        return self.application(environ, start_response)


class AuthGate:
    """auth_token for everything but version discovery."""

    def __init__(self, application: WSGIApp, authenticated: WSGIApp) -> None:
        self.application = application
        self.authenticated = authenticated

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if handler.is_public(
            environ.get('PATH_INFO') or '/', environ.get('HTTP_X_AUTH_TOKEN')
        ):
            environ[util.CONTEXT_KEY] = oslo_context.RequestContext(
                request_id=environ.get(util.REQUEST_ID_KEY)
            )
            return self.application(environ, start_response)
        return self.authenticated(environ, start_response)


class Application:
    """The API's WSGI application, with what the "api" role reports."""

    def __init__(
        self, conf: cfg.ConfigOpts, knowmon: rpcapi.KnowMonClient
    ) -> None:
        self.services = util.Services(
            conf=conf,
            knowmon=knowmon,
            enforcer=policy.make_enforcer(conf),
            healthchecks={
                detailed: health.SiteHealthcheck(
                    conf, knowmon, database=True, detailed=detailed
                )
                for detailed in (False, True)
            },
        )
        dispatcher = handler.Dispatcher(conf.api.max_request_body_size)
        strategy = conf.api.auth_strategy
        if strategy == 'noauth':
            LOG.warning(
                '[api]auth_strategy = noauth: every request acts as an '
                'admin. Use it only for local test federations.'
            )
            app: WSGIApp = ContextMiddleware(dispatcher, noauth=True)
        else:
            authenticated = auth_token.AuthProtocol(
                ContextMiddleware(dispatcher, noauth=False),
                {'oslo_config_config': conf},
            )
            app = AuthGate(dispatcher, authenticated)
        self.faults = FaultWrapper(app)
        self.pipeline = request_id.RequestId(self.faults, conf)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        environ[util.SERVICES_KEY] = self.services
        return self.pipeline(environ, start_response)


def deploy(conf: cfg.ConfigOpts, knowmon: rpcapi.KnowMonClient) -> Application:
    """The REST API over ``knowmon``, configured by ``conf``."""
    return Application(conf, knowmon)
