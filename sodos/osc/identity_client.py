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

"""The identity calls of the sodos API v1 client.

A mixin: it relies on the client's ``_request`` and ``_quote``. ``kind``
is domains, projects, users or groups; an object is named by id or by
name, a name being looked up in ``domain``.
"""

from __future__ import annotations

from typing import Any


class IdentityCalls:
    """The ``/v1/identity`` calls."""

    _request: Any
    _quote: Any

    _SINGULAR = {
        'domains': 'domain',
        'projects': 'project',
        'users': 'user',
        'groups': 'group',
    }

    def identity_status(self) -> dict[str, Any]:
        return self._request('GET', '/identity')['identity']

    def identity_list(
        self, kind: str, **filters: str | None
    ) -> list[dict[str, Any]]:
        return self._request('GET', '/identity/' + kind, params=filters)[kind]

    def identity_get(
        self, kind: str, ref: str, domain: str | None = None
    ) -> dict[str, Any]:
        path = '/identity/%s/%s' % (kind, self._quote(ref))
        found = self._request('GET', path, params={'domain': domain})
        return found[self._SINGULAR[kind]]

    def identity_create(
        self, kind: str, fields: dict[str, Any]
    ) -> dict[str, Any]:
        single = self._SINGULAR[kind]
        body = {single: fields}
        return self._request('POST', '/identity/' + kind, body)[single]

    def identity_update(
        self,
        kind: str,
        ref: str,
        changes: dict[str, Any],
        domain: str | None = None,
    ) -> dict[str, Any]:
        single = self._SINGULAR[kind]
        path = '/identity/%s/%s' % (kind, self._quote(ref))
        found = self._request(
            'PATCH', path, {single: changes}, params={'domain': domain}
        )
        return found[single]

    def identity_delete(
        self, kind: str, ref: str, domain: str | None = None
    ) -> None:
        path = '/identity/%s/%s' % (kind, self._quote(ref))
        self._request('DELETE', path, params={'domain': domain})

    def group_users(
        self, group: str, domain: str | None = None
    ) -> list[dict[str, Any]]:
        path = '/identity/groups/%s/users' % self._quote(group)
        return self._request('GET', path, params={'domain': domain})['users']

    def group_membership(
        self,
        method: str,
        group: str,
        user: str,
        domain: str | None = None,
        user_domain: str | None = None,
    ) -> None:
        """PUT (add) or DELETE (remove) ``user`` in ``group``."""
        path = '/identity/groups/%s/users/%s' % (
            self._quote(group),
            self._quote(user),
        )
        params = {'domain': domain, 'user_domain': user_domain}
        self._request(method, path, params=params)

    def role_assignment_list(self, **filters: str | None) -> Any:
        return self._request(
            'GET', '/identity/role-assignments', params=filters
        )['role_assignments']

    def role_assignment_create(self, fields: dict[str, str]) -> Any:
        body = {'role_assignment': fields}
        return self._request('POST', '/identity/role-assignments', body)[
            'role_assignment'
        ]

    def role_assignment_delete(self, fields: dict[str, str]) -> None:
        """The assignment is named in the query: DELETE has no body."""
        self._request('DELETE', '/identity/role-assignments', params=fields)

    def adoption_create(
        self, kind: str, name: str, site: str, domain: str | None = None
    ) -> dict[str, Any]:
        """Ask ``site`` to make its ``kind`` (project, user or group)
        ``name`` a federation object; the request, once committed."""
        fields = {'kind': kind, 'name': name, 'site': site}
        if domain is not None:
            fields['domain'] = domain
        body = {'adoption': fields}
        return self._request('POST', '/identity/adoptions', body)['adoption']

    def adoption_get(self, request_id: str) -> dict[str, Any]:
        path = '/identity/adoptions/%s' % self._quote(request_id)
        return self._request('GET', path)['adoption']

    def adoption_list(self, **filters: str | None) -> list[dict[str, Any]]:
        return self._request('GET', '/identity/adoptions', params=filters)[
            'adoptions'
        ]
