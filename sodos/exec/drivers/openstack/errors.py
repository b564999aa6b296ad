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

"""The OpenStack clients' errors, sorted into transient and permanent.

Transient (a retry may work): the endpoint unreachable or timing out, a
5xx, 429, or 409 (Nova's "instance is in task state ..."). Permanent:
any other 4xx (bad image or flavor, quota, policy) and a failed login.
Messages keep the service's own text: it is what the operator searches
for, and what the KB records.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from glanceclient import exc as glance_exc
from keystoneauth1 import exceptions as ks_exc
from novaclient import exceptions as nova_exc

from sodos.exec.drivers import base as driver

RETRIABLE_STATUS = frozenset({409, 429})


def classify(exc: Exception, what: str) -> driver.TransientError | (
    driver.PermanentError
):
    """The sodos error for a client error met while doing ``what``."""
    if isinstance(exc, ks_exc.Unauthorized | nova_exc.Unauthorized):
        return driver.PermanentError(
            '%s: the site refused the credentials in [site_auth] (%s)'
            % (what, exc)
        )
    if isinstance(
        exc,
        ks_exc.ConnectionError
        | ks_exc.DiscoveryFailure
        | ks_exc.EndpointNotFound
        | glance_exc.CommunicationError,
    ):
        return driver.TransientError('%s: %s' % (what, exc))
    status = _status(exc)
    if status is None or status >= 500 or status in RETRIABLE_STATUS:
        return driver.TransientError('%s: %s' % (what, exc))
    return driver.PermanentError(str(exc))


def _status(exc: Exception) -> int | None:
    for attr in ('code', 'http_status', 'status_code'):
        value = getattr(exc, attr, None)
        if isinstance(value, int):
            return value
    return None


@contextlib.contextmanager
def translated(what: str) -> Iterator[None]:
    """Raise the clients' errors inside as sodos driver errors."""
    try:
        yield
    except (
        nova_exc.ClientException,
        glance_exc.BaseException,
        glance_exc.ClientException,
        ks_exc.ClientException,
    ) as exc:
        raise classify(exc, what) from exc
