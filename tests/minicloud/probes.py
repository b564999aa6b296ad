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

"""Waiting for a site's parts to be ready.

Each probe answers "ready yet?" and is polled until a deadline. A wait
also fails early when the daemon it waits for has died, and names that
daemon's log.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from keystoneauth1 import adapter
from keystoneauth1 import session as ks_session

from tests.minicloud import errors

PLACEMENT_MICROVERSION = '1.14'


def wait_until(
    phase: str,
    what: str,
    check: Callable[[], Any],
    timeout: float,
    *,
    log_file: str | None = None,
    alive: Callable[[], bool] | None = None,
    abort: threading.Event | None = None,
    interval: float = 0.5,
) -> Any:
    """Poll `check` until it returns something true; return that."""
    deadline = time.monotonic() + timeout
    last_error = ''
    while True:
        if abort is not None and abort.is_set():
            raise errors.MinicloudError(phase, 'aborted')
        if alive is not None and not alive():
            raise errors.MinicloudError(
                phase, 'exited while waiting for %s' % what, log_file
            )
        try:
            result = check()
        except errors.MinicloudError:
            raise
        except Exception as e:
            # Anything else (refused, 503, 401 while keystone warms up)
            # only means "not yet".
            result = None
            last_error = '%s: %s' % (type(e).__name__, e)
        if result:
            return result
        if time.monotonic() > deadline:
            message = 'timed out after %.0f s waiting for %s' % (timeout, what)
            if last_error:
                message += ' (last error: %s)' % last_error[:300]
            raise errors.MinicloudError(phase, message, log_file)
        time.sleep(interval)


def http_answers(url: str) -> bool:
    """True once anything answers HTTP below 500 at url."""
    try:
        with urllib.request.urlopen(url, timeout=5):
            return True
    except urllib.error.HTTPError as e:
        return e.code < 500
    except OSError:
        return False


def placement(sess: ks_session.Session, region: str) -> adapter.Adapter:
    return adapter.Adapter(
        sess,
        service_type='placement',
        interface='public',
        region_name=region,
        default_microversion=PLACEMENT_MICROVERSION,
    )


def network(sess: ks_session.Session, region: str) -> adapter.Adapter:
    return adapter.Adapter(
        sess, service_type='network', interface='public', region_name=region
    )


def lists_networks(network_api: adapter.Adapter) -> bool:
    """True once neutron answers a network list (an HTTP error raises)."""
    return 'networks' in network_api.get('/v2.0/networks').json()


def compute(sess: ks_session.Session, region: str) -> Any:
    from novaclient import client

    from tests.minicloud import seed

    return client.Client(
        seed.COMPUTE_MICROVERSION, session=sess, region_name=region
    )


def compute_service_up(nova: Any, host: str) -> bool:
    services = nova.services.list(host=host, binary='nova-compute')
    return any(s.state == 'up' for s in services)


def provider_inventory(
    placement_api: adapter.Adapter, host: str
) -> dict[str, Any] | None:
    """The inventory of the host's resource provider, once it has one."""
    providers = placement_api.get(
        '/resource_providers', params={'name': host}
    ).json()['resource_providers']
    if not providers:
        return None
    inventories = placement_api.get(
        '/resource_providers/%s/inventories' % providers[0]['uuid']
    ).json()['inventories']
    # update_available_resource reports the inventory after creating the
    # provider; a provider without VCPU cannot take a server yet.
    return inventories if 'VCPU' in inventories else None


def hypervisor_listed(nova: Any, host: str) -> bool:
    return any(h.hypervisor_hostname == host for h in nova.hypervisors.list())
