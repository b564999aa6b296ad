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

"""A simulated Keystone catalog: the catalog store of the simulator driver.

The site's own catalog is fixed and derived from its name, as a small
OpenStack site would have it: one region named after the site, and
identity, compute, image and placement services with a public and an
internal endpoint each, on hosts under the reserved ``.test`` domain.
Regions and endpoints made for the other sites are kept in memory, like
a Keystone would keep them, for the tests, ``sodos-sim`` and plugin
authors. While ``[simulator]api_down`` is set every call fails, as the
rest of the simulated site's API does.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

from sodos.exec.catalog import plan as catalog_plan
from sodos.exec.drivers import base as driver

# (type, name, port, path) of the services of a simulated site.
SERVICES = (
    ('identity', 'keystone', 5000, '/v3'),
    ('compute', 'nova', 8774, '/v2.1'),
    ('image', 'glance', 9292, ''),
    ('placement', 'placement', 8778, ''),
)
DOMAIN = 'sodos-sim.test'


def url(site: str, interface: str, port: int, path: str = '') -> str:
    """The URL of a simulated site's service on ``interface``."""
    host = '%s.%s' % (site.lower(), DOMAIN)
    if interface != 'public':
        host = '%s.%s' % (interface, host)
    return 'http://%s:%d%s' % (host, port, path)


class SimulatedCatalog(catalog_plan.CatalogStore):
    def __init__(
        self, site: str, down: Callable[[], bool] | None = None
    ) -> None:
        self.site = site
        self._down = down or (lambda: False)
        self._lock = threading.Lock()
        self._regions = {site: catalog_plan.Region(site, '')}
        self._services = {
            'svc-' + stype: catalog_plan.Service('svc-' + stype, stype, name)
            for stype, name, _, _ in SERVICES
        }
        self._endpoints: dict[str, catalog_plan.Endpoint] = {}
        for stype, _, port, path in SERVICES:
            for interface in ('public', 'internal'):
                self._add(
                    'svc-' + stype,
                    interface,
                    site,
                    url(site, interface, port, path),
                )
        self.calls = 0

    def _call(self) -> None:
        self.calls += 1
        if self._down():
            raise driver.TransientError(
                'simulated site %s: API unreachable ([simulator]api_down)'
                % self.site
            )

    def _add(
        self, service_id: str, interface: str, region: str, url: str
    ) -> None:
        endpoint_id = uuid.uuid4().hex
        self._endpoints[endpoint_id] = catalog_plan.Endpoint(
            endpoint_id, service_id, interface, region, url
        )

    # -- reads ---------------------------------------------------------------

    def regions(self) -> list[catalog_plan.Region]:
        with self._lock:
            self._call()
            return sorted(self._regions.values(), key=lambda r: r.id)

    def snapshot(self) -> catalog_plan.Snapshot:
        with self._lock:
            self._call()
            return catalog_plan.Snapshot(
                regions=sorted(self._regions.values(), key=lambda r: r.id),
                services=sorted(self._services.values(), key=lambda s: s.id),
                endpoints=sorted(self._endpoints.values(), key=lambda e: e.id),
            )

    # -- writes, with Keystone's checks --------------------------------------

    def create_region(self, region_id: str, description: str) -> None:
        with self._lock:
            self._call()
            if region_id in self._regions:
                raise driver.PermanentError(
                    'Conflict occurred attempting to store region - '
                    'Duplicate ID, %s.' % region_id
                )
            self._regions[region_id] = catalog_plan.Region(
                region_id, description
            )

    def update_region(self, region_id: str, description: str) -> None:
        with self._lock:
            self._call()
            self._region(region_id)
            self._regions[region_id] = catalog_plan.Region(
                region_id, description
            )

    def delete_region(self, region_id: str) -> None:
        with self._lock:
            self._call()
            self._region(region_id)
            del self._regions[region_id]

    def create_endpoint(
        self, service_id: str, interface: str, region: str, url: str
    ) -> None:
        with self._lock:
            self._call()
            if service_id not in self._services:
                raise driver.PermanentError(
                    'Could not find service: %s.' % service_id
                )
            self._region(region)
            self._add(service_id, interface, region, url)

    def update_endpoint(self, endpoint_id: str, url: str) -> None:
        with self._lock:
            self._call()
            found = self._endpoint(endpoint_id)
            self._endpoints[endpoint_id] = catalog_plan.Endpoint(
                found.id, found.service_id, found.interface, found.region, url
            )

    def delete_endpoint(self, endpoint_id: str) -> None:
        with self._lock:
            self._call()
            self._endpoint(endpoint_id)
            del self._endpoints[endpoint_id]

    def _region(self, region_id: str) -> catalog_plan.Region:
        found = self._regions.get(region_id)
        if found is None:
            raise driver.PermanentError(
                'Could not find region: %s.' % region_id
            )
        return found

    def _endpoint(self, endpoint_id: str) -> catalog_plan.Endpoint:
        found = self._endpoints.get(endpoint_id)
        if found is None:
            raise driver.PermanentError(
                'Could not find endpoint: %s.' % endpoint_id
            )
        return found

    # -- hand edits, as an operator would make them at the site ---------------

    def add_endpoint(
        self, service_id: str, interface: str, region: str, url: str
    ) -> None:
        """An endpoint made by hand (a region made as needed)."""
        with self._lock:
            self._regions.setdefault(region, catalog_plan.Region(region))
            self._add(service_id, interface, region, url)

    def set_enabled(self, endpoint_id: str, enabled: bool) -> None:
        with self._lock:
            found = self._endpoint(endpoint_id)
            self._endpoints[endpoint_id] = catalog_plan.Endpoint(
                found.id,
                found.service_id,
                found.interface,
                found.region,
                found.url,
                enabled,
            )

    def catalog(self) -> dict[str, dict[str, dict[str, str]]]:
        """Region -> service type -> interface -> url, as a token's
        catalog would show it (enabled endpoints only)."""
        out: dict[str, dict[str, dict[str, str]]] = {}
        with self._lock:
            for ep in self._endpoints.values():
                if not ep.enabled:
                    continue
                stype = self._services[ep.service_id].type
                out.setdefault(ep.region, {}).setdefault(stype, {})[
                    ep.interface
                ] = ep.url
        return out
