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

"""The site's Keystone catalog, through its API.

python-keystoneclient (identity v3) over the Exec driver's keystoneauth
session. Listing services and endpoints, and every write, needs the
admin role; listing regions does not. Without the admin role the site's
own catalog is read from the ``[site_auth]`` user's token instead (what
Keystone shows every user), and the writes fail with Keystone's 403.
"""

from __future__ import annotations

from typing import Any

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneclient.v3 import client as ks_client
from oslo_config import cfg

from sodos.exec.catalog import plan as catalog_plan
from sodos.exec.drivers.openstack import errors


class KeystoneCatalog(catalog_plan.CatalogStore):
    # Exec's own clients pick the site's endpoints by region: once the
    # Keystone lists other regions, [site_auth]region_name must be set.
    region_required = True

    def __init__(
        self, conf: cfg.ConfigOpts, session: ks_session.Session
    ) -> None:
        opts = conf.site_auth
        interfaces = list(opts.valid_interfaces)
        self.session = session
        self.client = ks_client.Client(
            session=session,
            region_name=opts.region_name,
            interface=interfaces[0] if interfaces else 'public',
        )

    def regions(self) -> list[catalog_plan.Region]:
        with errors.translated("listing the site's regions"):
            return [
                catalog_plan.Region(r.id, getattr(r, 'description', '') or '')
                for r in self.client.regions.list()
            ]

    def snapshot(self) -> catalog_plan.Snapshot:
        regions = self.regions()
        with errors.translated("reading the site's catalog"):
            try:
                services = [
                    catalog_plan.Service(
                        s.id,
                        s.type,
                        getattr(s, 'name', '') or '',
                        bool(getattr(s, 'enabled', True)),
                    )
                    for s in self.client.services.list()
                ]
                endpoints = [
                    _endpoint(e) for e in self.client.endpoints.list()
                ]
            except ks_exc.Forbidden:
                services, endpoints = self._from_token()
        return catalog_plan.Snapshot(regions, services, endpoints)

    def _from_token(
        self,
    ) -> tuple[list[catalog_plan.Service], list[catalog_plan.Endpoint]]:
        """The catalog of the session's token: enabled endpoints only, as
        of the token's issue (keystoneauth renews it before it expires).
        """
        access = self.session.auth.get_access(self.session)  # type: ignore[union-attr]
        services, endpoints = [], []
        for entry in access.service_catalog.catalog or []:
            service_id = entry.get('id') or entry.get('type', '')
            services.append(
                catalog_plan.Service(
                    service_id, entry.get('type', ''), entry.get('name', '')
                )
            )
            for ep in entry.get('endpoints') or []:
                endpoints.append(
                    catalog_plan.Endpoint(
                        ep.get('id', ''),
                        service_id,
                        ep.get('interface', ''),
                        ep.get('region_id') or ep.get('region') or '',
                        ep.get('url', ''),
                    )
                )
        return services, endpoints

    def create_region(self, region_id: str, description: str) -> None:
        with errors.translated('creating region %s' % region_id):
            self.client.regions.create(id=region_id, description=description)

    def update_region(self, region_id: str, description: str) -> None:
        with errors.translated('updating region %s' % region_id):
            self.client.regions.update(region_id, description=description)

    def delete_region(self, region_id: str) -> None:
        with errors.translated('deleting region %s' % region_id):
            try:
                self.client.regions.delete(region_id)
            except ks_exc.NotFound:
                pass

    def create_endpoint(
        self, service_id: str, interface: str, region: str, url: str
    ) -> None:
        with errors.translated(
            'creating the %s endpoint of service %s in region %s'
            % (interface, service_id, region)
        ):
            # region_id, not the legacy "region", which Keystone would
            # create if it were missing.
            self.client.endpoints.create(
                service_id, url, interface=interface, region_id=region
            )

    def update_endpoint(self, endpoint_id: str, url: str) -> None:
        with errors.translated('updating endpoint %s' % endpoint_id):
            self.client.endpoints.update(endpoint_id, url=url, enabled=True)

    def delete_endpoint(self, endpoint_id: str) -> None:
        with errors.translated('deleting endpoint %s' % endpoint_id):
            try:
                self.client.endpoints.delete(endpoint_id)
            except ks_exc.NotFound:
                pass


def _endpoint(found: Any) -> catalog_plan.Endpoint:
    return catalog_plan.Endpoint(
        found.id,
        found.service_id,
        found.interface,
        getattr(found, 'region_id', None)
        or getattr(found, 'region', '')
        or '',
        found.url,
        bool(getattr(found, 'enabled', True)),
    )
