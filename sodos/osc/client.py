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

"""A thin client of the sodos REST API v1, over a keystoneauth1 Adapter.

One method per API call, returning the decoded body with its envelope
removed. Every failure (an error answer, an unreachable endpoint) is raised
as a :class:`osc_lib.exceptions.CommandError` whose text is what the user
should read: the API's own message, its stable code and the request id to
quote to an operator. Nothing here imports the rest of sodos but its strict
JSON reader (jsonsafe), so the client works where only the CLI is installed.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

from keystoneauth1 import adapter
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from osc_lib import exceptions

from sodos import jsonsafe
from sodos.osc.identity_client import IdentityCalls

SERVICE_TYPE = 'sodos'
API_PATH = '/v1'
REQUEST_ID_HEADER = 'X-OpenStack-Request-Id'
# Codes used when an error body is not the API's own (a proxy, or
# keystonemiddleware answering before the API sees the request).
_CODE_BY_STATUS = {
    400: 'invalid_body',
    401: 'unauthorized',
    403: 'forbidden',
    404: 'not_found',
    405: 'method_not_allowed',
    409: 'conflict',
    503: 'unavailable',
}


# Times a read is sent again when its connection fails (a write is not:
# it may have been applied).
READ_RETRIES = 2


class ApiError(exceptions.CommandError):
    """The API answered with an error; ``code`` is its stable code."""

    def __init__(
        self, status: int, code: str, message: str, request_id: str | None
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id
        text = '%s (HTTP %d %s' % (message, status, code)
        if request_id:
            text += ', request %s' % request_id
        super().__init__(text + ')')


def versioned_endpoint(endpoint: str) -> str:
    """``endpoint`` with the ``/v1`` path the API's calls are under.

    Catalogs list the service either unversioned (``http://h:8787``) or
    versioned (``http://h:8787/v1``): both work.
    """
    parts = urllib.parse.urlsplit(endpoint.strip())
    if parts.scheme not in ('http', 'https') or not parts.netloc:
        raise exceptions.CommandError(
            'the sodos endpoint %r is not an http(s) URL' % endpoint
        )
    path = parts.path.rstrip('/')
    if not path.endswith(API_PATH):
        path += API_PATH
    return urllib.parse.urlunsplit(parts._replace(path=path))


def _reason(exc: Exception) -> str:
    """The useful end of a connection error ("Connection refused")."""
    found = re.search(r'\[Errno -?\d+\] ([^"\')]+)', str(exc))
    return found.group(1).strip() if found else str(exc)


def _error_from(response: Any) -> ApiError:
    status = response.status_code
    request_id = response.headers.get(REQUEST_ID_HEADER)
    code = _CODE_BY_STATUS.get(status, 'internal' if status >= 500 else '')
    message = ''
    try:
        error = jsonsafe.loads(response.content)['error']
    except (ValueError, KeyError, TypeError):
        error = None
    if isinstance(error, dict):
        if isinstance(error.get('code'), str):
            code = error['code']
        message = str(error.get('message') or error.get('title') or '')
        request_id = error.get('request_id') or request_id
    if not message:
        text = (response.text or '').strip().replace('\n', ' ')
        message = '%s %s answered %s' % (
            response.request.method if response.request else 'request',
            response.url,
            text[:200] or response.reason or 'nothing',
        )
    return ApiError(status, code or 'http_%d' % status, message, request_id)


class Client(IdentityCalls):
    """Calls of the sodos API v1. ``endpoint`` is its base URL."""

    def __init__(
        self,
        session: ks_session.Session,
        endpoint: str,
        region_name: str | None = None,
        interface: str | None = None,
    ) -> None:
        self.endpoint = versioned_endpoint(endpoint)
        self._adapter = adapter.Adapter(
            session,
            service_type=SERVICE_TYPE,
            endpoint_override=self.endpoint,
            region_name=region_name,
            interface=interface,
        )

    def _request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        kwargs: dict[str, Any] = {
            'raise_exc': False,
            'headers': {'Accept': 'application/json'},
        }
        if body is not None:
            kwargs['json'] = body
        if method == 'GET':
            # A read is safe to send again. The API under uwsgi may close a
            # connection after each answer; a request sent on it just as
            # it closes is reset, and keystoneauth reuses connections.
            kwargs['connect_retries'] = READ_RETRIES
        if params:
            kwargs['params'] = {
                k: v for k, v in params.items() if v is not None
            }
        try:
            response = self._adapter.request(path, method, **kwargs)
        except ks_exc.ConnectionError as exc:
            raise exceptions.CommandError(
                'cannot reach the sodos API at %s: %s'
                % (self.endpoint, _reason(exc))
            ) from exc
        if response.status_code >= 400:
            raise _error_from(response)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return jsonsafe.loads(response.content, 'reply')
        except ValueError as exc:
            raise exceptions.CommandError(
                '%s %s%s answered something that is not JSON'
                % (method, self.endpoint, path)
            ) from exc

    @staticmethod
    def _quote(name: str) -> str:
        return urllib.parse.quote(name, safe='')

    # -- federation and sites ---------------------------------------------

    def federation(self) -> dict[str, Any]:
        return self._request('GET', '/federation')['federation']

    def site_list(self) -> list[dict[str, Any]]:
        return self._request('GET', '/sites')['sites']

    def site_get(self, name: str) -> dict[str, Any]:
        return self._request('GET', '/sites/%s' % self._quote(name))['site']

    def site_drain(self, name: str, reason: str | None = None) -> Any:
        body = {'reason': reason} if reason else {}
        path = '/sites/%s/drain' % self._quote(name)
        return self._request('POST', path, body)['site']

    def site_undrain(self, name: str) -> dict[str, Any]:
        path = '/sites/%s/undrain' % self._quote(name)
        return self._request('POST', path, {})['site']

    def site_update(self, name: str, changes: dict[str, Any]) -> Any:
        path = '/sites/%s' % self._quote(name)
        return self._request('PATCH', path, changes)['site']

    # -- owners -------------------------------------------------------------

    def owner_list(self) -> list[dict[str, Any]]:
        return self._request('GET', '/owners')['owners']

    def owner_get(self, owner: str) -> dict[str, Any]:
        return self._request('GET', '/owners/%s' % self._quote(owner))['owner']

    def owner_update(self, owner: str, changes: dict[str, Any]) -> Any:
        path = '/owners/%s' % self._quote(owner)
        return self._request('PATCH', path, changes)['owner']

    # -- appliances --------------------------------------------------------

    def appliance_list(self, every: bool = False) -> list[dict[str, Any]]:
        params = {'all_projects': 'true'} if every else None
        return self._request('GET', '/appliances', None, params)['appliances']

    def appliance_get(self, appliance_id: str) -> dict[str, Any]:
        path = '/appliances/%s' % self._quote(appliance_id)
        return self._request('GET', path)['appliance']

    def appliance_create(self, spec: dict[str, Any]) -> dict[str, Any]:
        body = {'appliance': spec}
        return self._request('POST', '/appliances', body)['appliance']

    def appliance_update(self, appliance_id: str, changes: Any) -> Any:
        path = '/appliances/%s' % self._quote(appliance_id)
        return self._request('PATCH', path, {'appliance': changes})[
            'appliance'
        ]

    def appliance_delete(self, appliance_id: str) -> None:
        self._request('DELETE', '/appliances/%s' % self._quote(appliance_id))

    # -- images ------------------------------------------------------------

    def image_list(self) -> list[dict[str, Any]]:
        return self._request('GET', '/images')['images']

    def image_get(self, image_id: str) -> dict[str, Any]:
        return self._request('GET', '/images/%s' % self._quote(image_id))[
            'image'
        ]

    def image_register(
        self,
        image_id: str,
        target: dict[str, Any],
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        image: dict[str, Any] = {'id': image_id, 'target': target}
        if metadata:
            image['metadata'] = metadata
        return self._request('POST', '/images', {'image': image})['image']

    def image_set_target(
        self, image_id: str, target: dict[str, Any]
    ) -> dict[str, Any]:
        path = '/images/%s/target' % self._quote(image_id)
        return self._request('PUT', path, {'target': target})['image']

    def image_delete(self, image_id: str) -> None:
        self._request('DELETE', '/images/%s' % self._quote(image_id))

    # -- catalog -----------------------------------------------------------

    def catalog_list(
        self,
        region: str | None = None,
        service_type: str | None = None,
        site: str | None = None,
    ) -> list[dict[str, Any]]:
        params = {'region': region, 'service_type': service_type, 'site': site}
        return self._request('GET', '/catalog', params=params)['catalog']

    # -- alerts ------------------------------------------------------------

    def alert_list(self, state: str = 'open') -> list[dict[str, Any]]:
        return self._request('GET', '/alerts', params={'state': state})[
            'alerts'
        ]

    def alert_get(self, alert_id: str) -> dict[str, Any]:
        return self._request('GET', '/alerts/%s' % self._quote(alert_id))[
            'alert'
        ]

    def alert_ack(self, alert_id: str, comment: str | None = None) -> Any:
        body = {'comment': comment} if comment else {}
        path = '/alerts/%s/ack' % self._quote(alert_id)
        return self._request('POST', path, body)['alert']

    # -- what-if and history -----------------------------------------------

    def whatif(
        self, fail_sites: list[str], drain_sites: list[str]
    ) -> dict[str, Any]:
        body = {'fail_sites': fail_sites, 'drain_sites': drain_sites}
        return self._request('POST', '/whatif', body)['whatif']

    def history(
        self,
        kind: str,
        site: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """``kind``: actions, alerts or monitoring (its rows are
        under ``samples``)."""
        key = 'samples' if kind == 'monitoring' else kind
        params = {'site': site, 'limit': limit}
        return self._request('GET', '/history/%s' % kind, params=params)[key]

    def usage(self, **params: str | None) -> dict[str, Any]:
        """GET /v1/usage (owner, project, site, start, end, by)."""
        return dict(self._request('GET', '/usage', params=params))
