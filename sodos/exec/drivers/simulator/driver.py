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

"""The ``simulator`` Exec driver, over a :class:`~.site.SimulatedSite`.

What the simulated site offers beyond servers and images: a simulated
Keystone (:mod:`.identity`) and catalog (:mod:`.catalog`); it has no
Keystone database, hence no token revocation events.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from oslo_config import cfg

from sodos.exec.drivers import base as driver
from sodos.exec.drivers.simulator import catalog as simulator_catalog
from sodos.exec.drivers.simulator import identity as simulator_identity
from sodos.exec.drivers.simulator import network as simulator_network
from sodos.exec.drivers.simulator import site as simulated
from sodos.exec.images import copy as image_copy


class SimulatorDriver(driver.Driver):
    """Exec driver over a :class:`~.site.SimulatedSite`."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        super().__init__(conf)
        path = conf.simulator.state_file or os.path.join(
            conf.state_path, 'simulator-%s.json' % conf.site_name
        )
        self.site = simulated.SimulatedSite(conf, path)
        # In memory: a restarted simulator has no networks (nor ports).
        self.networks = simulator_network.SimulatedNetworks()

    def list_servers(self) -> list[driver.Server]:
        return [
            s for s in map(self._server, self.site.servers()) if s is not None
        ]

    def boot(self, spec: driver.ServerSpec) -> driver.Server:
        view = self.site.create(
            spec.name,
            spec.image,
            spec.flavor,
            spec.metadata(),
            boot={
                'project_id': spec.project_id,
                'key_name': spec.key_name,
                'public_key': spec.public_key,
                'user_data': spec.user_data,
            },
        )
        if spec.networks:
            try:
                self.networks.plug(
                    view['id'],
                    list(spec.networks),
                    list(spec.security_groups),
                )
            except driver.PermanentError:
                self.site.delete(view['id'])
                raise
        made = self._server(view)
        assert made is not None  # it carries the spec's tags
        return made

    def get_server(self, server_id: str) -> driver.Server | None:
        found = self.site.get(server_id)
        if found is None or found['status'] == 'DELETED':
            return None
        return self._server(found)

    def delete(self, server_id: str) -> None:
        self.site.delete(server_id)
        # Nova deletes the ports it made with the server.
        self.networks.unplug(server_id)

    def capacity(self) -> dict[str, driver.Resource]:
        return self.site.usage()

    def images(self) -> list[str]:
        return self.site.image_names()

    def flavors(self) -> dict[str, dict[str, int]]:
        return dict(self.site.flavors)

    def image_details(self) -> dict[str, dict[str, Any]]:
        return self.site.images.details()

    def open_image(
        self, image_id: str
    ) -> tuple[dict[str, Any], Iterator[bytes]]:
        return self.site.images.open(image_id)

    def copy_in(
        self,
        image_id: str,
        metadata: dict[str, Any],
        reader: driver.Reader,
        expected: dict[str, Any],
    ) -> dict[str, Any]:
        return self.site.images.copy_in(
            image_id,
            metadata,
            image_copy.verifying(reader, expected, image_id),
            expected,
        )

    def delete_image(self, image_id: str) -> bool:
        return self.site.images.delete(image_id)

    # -- Keystone (sodos.exec.identity, sodos.exec.catalog) ---------------

    def identity_writer(
        self, shared: bool
    ) -> simulator_identity.SimulatedKeystone:
        # A Keystone of its own for the identity loop: the simulated
        # site's servers and images do not depend on it.
        return simulator_identity.SimulatedKeystone(same_ids=shared)

    def network_store(self) -> simulator_network.SimulatedNetworks:
        return self.networks

    def catalog_store(self) -> simulator_catalog.SimulatedCatalog:
        # Unreachable while the site's API is (``[simulator]api_down``).
        return simulator_catalog.SimulatedCatalog(
            self.conf.site_name, lambda: bool(self.conf.simulator.api_down)
        )

    def add_image(
        self,
        image_id: str,
        size: int,
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """An image as if uploaded here (a copy's source, say)."""
        return self.site.images.add(image_id, size, metadata)

    def _server(self, view: dict[str, Any]) -> driver.Server | None:
        if view['status'] == 'DELETED':
            return None
        return driver.Server.from_metadata(
            view['id'],
            view['name'],
            view['status'],
            view['metadata'],
            view['fault'],
            self.networks.addresses(view['id']),
        )
