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

"""Idempotent server operations, the same for every driver.

A create first looks for the member's tagged server, so running the same
action twice (a retry, a replay after Exec restarted, a reconcile) never
makes a second server. A server that ends in ERROR is deleted again, so a
failed create leaves nothing behind that holds quota, and the failure is
raised with the site's own fault text.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sodos.exec.drivers import base as driver


def find(drv: driver.Driver, key: str) -> list[driver.Server]:
    return [s for s in drv.list_servers() if s.key == key]


def ensure(
    drv: driver.Driver,
    spec: driver.ServerSpec,
    timeout: float,
    poll: float,
    stopping: Callable[[float], bool] | None = None,
) -> tuple[driver.Server, bool]:
    """The member's server, ACTIVE; and whether this call created it.

    :raises PermanentError: the server went to ERROR (its fault given).
    :raises TransientError: the site's API failed, or the server was not
        ACTIVE within ``timeout`` (a retry waits for the same server).
    """
    stopping = stopping or _sleep
    existing = find(drv, spec.key)
    for server in existing:
        if server.status == driver.Driver.ERROR:
            drv.delete(server.id)
    alive = [s for s in existing if s.status != driver.Driver.ERROR]
    created = not alive
    server = alive[0] if alive else drv.boot(spec)
    server = wait_active(drv, server.id, timeout, poll, stopping)
    if server.status == driver.Driver.ERROR:
        drv.delete(server.id)
        raise driver.PermanentError(
            server.fault or 'server %s went to ERROR' % server.id
        )
    return server, created


def wait_active(
    drv: driver.Driver,
    server_id: str,
    timeout: float,
    poll: float,
    stopping: Callable[[float], bool],
) -> driver.Server:
    """The server once ACTIVE or ERROR."""
    deadline = time.monotonic() + timeout
    while True:
        server = drv.get_server(server_id)
        if server is None:
            raise driver.PermanentError(
                'server %s was deleted while it was being built' % server_id
            )
        if server.status in (driver.Driver.ACTIVE, driver.Driver.ERROR):
            return server
        if time.monotonic() >= deadline:
            raise driver.TransientError(
                'server %s still %s after %.0f s'
                % (server_id, server.status, timeout)
            )
        if stopping(poll):
            raise driver.TransientError(
                'Exec is stopping; server %s left in %s'
                % (server_id, server.status)
            )


def remove(
    drv: driver.Driver,
    key: str,
    timeout: float,
    poll: float,
    stopping: Callable[[float], bool] | None = None,
) -> list[str]:
    """Delete every server of the member and wait until they are gone."""
    stopping = stopping or _sleep
    doomed = [s.id for s in find(drv, key)]
    for server_id in doomed:
        drv.delete(server_id)
    deadline = time.monotonic() + timeout
    waiting = list(doomed)
    while waiting:
        waiting = [sid for sid in waiting if drv.get_server(sid) is not None]
        if not waiting:
            break
        if time.monotonic() >= deadline or stopping(poll):
            raise driver.TransientError(
                'server(s) %s not gone after %.0f s'
                % (', '.join(waiting), timeout)
            )
    return doomed


def _sleep(seconds: float) -> bool:
    time.sleep(seconds)
    return False
