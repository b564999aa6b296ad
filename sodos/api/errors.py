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

"""Error codes of the REST API: stable, part of the API contract.

Every error response is ``{"error": {"code", "message", "request_id"}}``
with one of these codes; clients branch on the code, people read the
message.
"""

from __future__ import annotations

INVALID_BODY = 'invalid_body'
INVALID_JSON = 'invalid_json'
INVALID_QUERY = 'invalid_query'
NOT_FOUND = 'not_found'
UNAUTHORIZED = 'unauthorized'
FORBIDDEN = 'forbidden'
CONFLICT = 'conflict'
INFEASIBLE = 'infeasible'
METHOD_NOT_ALLOWED = 'method_not_allowed'
UNAVAILABLE = 'unavailable'
INTERNAL = 'internal'

CODES = frozenset(
    {
        INVALID_BODY,
        INVALID_JSON,
        INVALID_QUERY,
        NOT_FOUND,
        UNAUTHORIZED,
        FORBIDDEN,
        CONFLICT,
        INFEASIBLE,
        METHOD_NOT_ALLOWED,
        UNAVAILABLE,
        INTERNAL,
    }
)

# The code of an error response made by something other than sodos
# (keystonemiddleware, webob), by its status.
BY_STATUS = {
    400: INVALID_BODY,
    401: UNAUTHORIZED,
    403: FORBIDDEN,
    404: NOT_FOUND,
    405: METHOD_NOT_ALLOWED,
    409: CONFLICT,
    413: INVALID_BODY,
    503: UNAVAILABLE,
}


class ApiError(Exception):
    """An answer other than success: status, stable code, message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def invalid_body(message: str) -> ApiError:
    return ApiError(400, INVALID_BODY, message)


def invalid_query(message: str) -> ApiError:
    return ApiError(400, INVALID_QUERY, message)


def not_found(message: str) -> ApiError:
    return ApiError(404, NOT_FOUND, message)


def conflict(message: str) -> ApiError:
    return ApiError(409, CONFLICT, message)


def unavailable(message: str) -> ApiError:
    return ApiError(503, UNAVAILABLE, message)


def body(code: str, message: str, request_id: str | None) -> dict:
    return {
        'error': {
            'code': code,
            'message': message,
            'request_id': request_id,
        }
    }
