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

"""The ``openstack`` Exec driver: the site's Nova, Glance and Placement.

The only module of sodos that uses the OpenStack clients. One
keystoneauth session from ``[site_auth]`` serves python-novaclient,
python-glanceclient and a keystoneauth Adapter for placement; API
versions are pinned, so a cloud upgrade cannot change what a response
means:

* compute 2.79: server tags at boot (2.52), ``nics='none'`` (2.37);
* network v2.0 (sodos.exec.networks), through an Adapter (network.py);
* placement 1.20: inventories and usages of every resource provider;
* image v2; a copy to this site may be fetched by its Glance itself
  (glance-download, as the ``[image_transfer]`` user).

Servers carry the sodos metadata keys and the server tag ``sodos``, so
one filtered list finds them all. Images and flavors are given by name
or id. An id, and a flavor name the site does not know, go to Nova as
they are, so that the error recorded is Nova's own ("Flavor X could not
be found."); an image name Glance does not know is refused here, since
Nova would only say that the name is not an id.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from typing import TYPE_CHECKING
from typing import Any

from glanceclient import client as glance_client
from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import loading as ks_loading
from keystoneauth1 import session as ks_session
from novaclient import client as nova_client
from novaclient import exceptions as nova_exc
from oslo_config import cfg
from oslo_utils import uuidutils

from sodos import exception
from sodos.conf import keystoneauth
from sodos.exec.drivers import base as driver
from sodos.exec.drivers.openstack import catalog
from sodos.exec.drivers.openstack import errors
from sodos.exec.drivers.openstack import glance_download
from sodos.exec.drivers.openstack import identity
from sodos.exec.drivers.openstack import images as glance_images
from sodos.exec.drivers.openstack import keystone_db
from sodos.exec.drivers.openstack import network
from sodos.exec.drivers.openstack import projects
from sodos.exec.images import copy as image_copy
from sodos.identity import writer

if TYPE_CHECKING:
    from sodos.exec.identity import keys as identity_keys

NOVA_MICROVERSION = '2.79'
PLACEMENT_MICROVERSION = '1.20'
GLANCE_VERSION = '2'
# Resource classes sodos plans with, and how the summary names them.
RESOURCE_CLASSES = {
    'VCPU': 'vcpu',
    'MEMORY_MB': 'ram_mb',
    'DISK_GB': 'disk_gb',
}
# Image and flavor ids by name are kept this long (seconds).
NAME_CACHE_TTL = 60.0


def session(conf: cfg.ConfigOpts) -> ks_session.Session:
    """The keystoneauth session ``[site_auth]`` describes."""
    keystoneauth.register_keystoneauth(conf, 'site_auth')
    try:
        auth = ks_loading.load_auth_from_conf_options(conf, 'site_auth')
    except Exception as exc:
        raise exception.ConfigError(
            '[site_auth]: cannot load the auth plugin: %s' % exc
        ) from exc
    if auth is None:
        raise exception.ConfigError(
            '[site_auth]auth_type is not set: the openstack Exec driver '
            "needs credentials for the site's Keystone (e.g. auth_type = "
            'password, auth_url, username, password, project_name)'
        )
    return ks_loading.load_session_from_conf_options(
        conf, 'site_auth', auth=auth
    )


class OpenStackDriver(driver.Driver):
    def __init__(self, conf: cfg.ConfigOpts) -> None:
        super().__init__(conf)
        self.session = session(conf)
        opts = conf.site_auth
        endpoint = {
            'region_name': opts.region_name,
            'interface': list(opts.valid_interfaces),
        }
        self.nova = nova_client.Client(
            NOVA_MICROVERSION, session=self.session, **_nova_endpoint(opts)
        )
        self.glance = glance_client.Client(
            GLANCE_VERSION, session=self.session, **_nova_endpoint(opts)
        )
        self.placement = ks_adapter.Adapter(
            self.session,
            service_type='placement',
            default_microversion=PLACEMENT_MICROVERSION,
            **endpoint,
        )
        self.networks = network.NeutronNetworks(self.session, endpoint)
        self._names: dict[tuple[str, str], tuple[float, str]] = {}
        self._names_lock = threading.Lock()
        self.owners = projects.OwnerProjects(
            conf, self.session, _nova_endpoint(opts), NOVA_MICROVERSION
        )
        self._pull: glance_download.Puller | None = None
        self._pull_lock = threading.Lock()

    # -- servers -----------------------------------------------------------

    def list_servers(self) -> list[driver.Server]:
        search: dict[str, Any] = {'tags': driver.SERVER_TAG}
        if self.conf.exec.servers_in_owner_project:
            # Every project's: the servers are in their owners' projects.
            search['all_tenants'] = True
        with errors.translated('listing the sodos servers'):
            found = self.nova.servers.list(search_opts=search)
        servers = [_server(s) for s in found]
        return [s for s in servers if s is not None]

    def boot(self, spec: driver.ServerSpec) -> driver.Server:
        image = self._image_id(spec.image)
        flavor = self._flavor_id(spec.flavor)
        nova = self.nova
        if spec.project_id:
            nova = self.owners.nova(spec.project_id)
        if spec.public_key:
            self.owners.ensure_key(nova, spec.key_name, spec.public_key)
        with errors.translated('creating server %s' % spec.name):
            made = nova.servers.create(
                spec.name,
                image,
                flavor,
                meta=spec.metadata(),
                nics=[{'net-id': n} for n in spec.networks] or 'none',
                security_groups=list(spec.security_groups) or None,
                tags=[driver.SERVER_TAG],
                key_name=spec.key_name or None,
                userdata=spec.user_data or None,
            )
        return driver.Server(
            id=made.id,
            name=spec.name,
            status='BUILD',
            appliance_id=spec.appliance_id,
            member=spec.member,
            action_id=spec.action_id,
        )

    def get_server(self, server_id: str) -> driver.Server | None:
        with errors.translated('reading server %s' % server_id):
            try:
                found = self.nova.servers.get(server_id)
            except nova_exc.NotFound:
                return None
        if getattr(found, 'status', '') == 'DELETED':
            return None
        return _server(found)

    def delete(self, server_id: str) -> None:
        with errors.translated('deleting server %s' % server_id):
            try:
                self.nova.servers.delete(server_id)
            except nova_exc.NotFound:
                pass

    # -- what the site has -------------------------------------------------

    def capacity(self) -> dict[str, driver.Resource]:
        """Summed over resource providers as placement counts them:
        ``(total - reserved) * allocation_ratio``, and the usages."""
        totals = {
            name: driver.Resource(0.0, 0.0)
            for name in RESOURCE_CLASSES.values()
        }
        with errors.translated('reading placement'):
            providers = self._placement_get('/resource_providers')
            for provider in providers['resource_providers']:
                uuid = provider['uuid']
                inventories = self._placement_get(
                    '/resource_providers/%s/inventories' % uuid
                )['inventories']
                usages = self._placement_get(
                    '/resource_providers/%s/usages' % uuid
                )['usages']
                for rc, name in RESOURCE_CLASSES.items():
                    inv = inventories.get(rc)
                    if inv is None:
                        continue
                    totals[name].total += (
                        inv['total'] - inv['reserved']
                    ) * inv['allocation_ratio']
                    totals[name].used += usages.get(rc, 0)
        return totals

    def images(self) -> list[str]:
        with errors.translated('listing images'):
            return sorted(
                image['name']
                for image in self.glance.images.list()
                if image.get('status') == 'active' and image.get('name')
            )

    def flavors(self) -> dict[str, dict[str, int]]:
        with errors.translated('listing flavors'):
            return {
                f.name: {'vcpus': f.vcpus, 'ram_mb': f.ram, 'disk_gb': f.disk}
                for f in self.nova.flavors.list()
            }

    def probe(self) -> None:
        with errors.translated('probing the compute API'):
            self.nova.flavors.list(limit=1)

    # -- images (.images) -------------------------------------------------

    def image_details(self) -> dict[str, dict[str, Any]]:
        return glance_images.details(self.glance)

    def open_image(
        self, image_id: str
    ) -> tuple[dict[str, Any], Iterator[bytes]]:
        return glance_images.open_image(self.glance, image_id)

    def copy_in(
        self,
        image_id: str,
        metadata: dict[str, Any],
        reader: driver.Reader,
        expected: dict[str, Any],
    ) -> dict[str, Any]:
        return glance_images.copy_in(
            self.glance,
            self.session,
            image_id,
            metadata,
            image_copy.verifying(reader, expected, image_id),
            expected,
        )

    def pull_in(
        self,
        image_id: str,
        metadata: dict[str, Any],
        expected: dict[str, Any],
        source_site: str,
        wait: Callable[[float], bool],
    ) -> dict[str, Any]:
        return self._puller().pull_in(
            image_id, metadata, expected, source_site, wait
        )

    def _puller(self) -> glance_download.Puller:
        """Made at the first pull: ``[image_transfer]`` may be unset on a
        site that never pulls (and is then read again each time)."""
        with self._pull_lock:
            if self._pull is None:
                self._pull = glance_download.Puller(
                    self.conf,
                    self.glance,
                    self.session,
                    glance_download.transfer_session(self.conf),
                )
            return self._pull

    def delete_image(self, image_id: str) -> bool:
        return glance_images.delete(self.glance, image_id)

    # -- Keystone (sodos.exec.identity, sodos.exec.catalog) ---------------

    def identity_writer(self, shared: bool) -> writer.IdentityWriter:
        if shared:
            return keystone_db.shared_writer(self.conf)
        return identity.KeystoneWriter(self.conf, self.session)

    def network_store(self) -> network.NeutronNetworks:
        return self.networks

    def catalog_store(self) -> catalog.KeystoneCatalog:
        return catalog.KeystoneCatalog(self.conf, self.session)

    def revocation_store(self) -> identity_keys.RevocationStore:
        # SQLAlchemy costs a site ~9 MB: only shared mode loads it.
        from sodos.exec.drivers.openstack import keystone_revocations

        return keystone_revocations.RevocationTable(
            self.conf.identity.keystone_database_connection
        )

    def close(self) -> None:
        self.session.session.close()
        if self._pull is not None:
            self._pull.session.session.close()

    # -- helpers -----------------------------------------------------------

    def _placement_get(self, url: str) -> dict[str, Any]:
        response = self.placement.get(url, raise_exc=True)
        body: dict[str, Any] = response.json()
        return body

    def _image_id(self, name_or_id: str) -> str:
        if uuidutils.is_uuid_like(name_or_id):
            return name_or_id

        def lookup() -> str | None:
            with errors.translated('looking up image %s' % name_or_id):
                found = list(
                    self.glance.images.list(filters={'name': name_or_id})
                )
            if not found:
                # Nova takes only an id; given a name it answers with a
                # schema error that does not say what is missing.
                raise driver.PermanentError(
                    'Image %s could not be found (no image of that name in '
                    "the site's Glance)" % name_or_id
                )
            return str(found[0]['id'])

        return self._cached('image', name_or_id, lookup)

    def _flavor_id(self, name_or_id: str) -> str:
        def lookup() -> str | None:
            with errors.translated('looking up flavor %s' % name_or_id):
                for flavor in self.nova.flavors.list():
                    if name_or_id in (flavor.name, flavor.id):
                        return str(flavor.id)
            return None

        return self._cached('flavor', name_or_id, lookup)

    def _cached(self, kind: str, name: str, lookup: Any) -> str:
        now = time.monotonic()
        with self._names_lock:
            hit = self._names.get((kind, name))
        if hit and now - hit[0] < NAME_CACHE_TTL:
            return hit[1]
        found = lookup()
        if found is None:
            # Let the service say it does not know the name.
            return name
        with self._names_lock:
            self._names[(kind, name)] = (now, found)
        return str(found)


def _nova_endpoint(opts: Any) -> dict[str, Any]:
    interfaces = list(opts.valid_interfaces)
    return {
        'region_name': opts.region_name,
        'interface': interfaces[0] if interfaces else 'public',
    }


def _server(found: Any) -> driver.Server | None:
    fault = getattr(found, 'fault', None) or {}
    return driver.Server.from_metadata(
        found.id,
        found.name,
        found.status,
        getattr(found, 'metadata', None) or {},
        fault.get('message', '') if isinstance(fault, dict) else str(fault),
        _fixed_addresses(getattr(found, 'addresses', None) or {}),
    )


def _fixed_addresses(addresses: dict[str, Any]) -> tuple[str, ...]:
    """The fixed IPs of nova's ``addresses`` ({network: [{addr, type}]})."""
    return tuple(
        entry['addr']
        for name in sorted(addresses)
        for entry in addresses[name]
        if entry.get('OS-EXT-IPS:type', 'fixed') == 'fixed'
    )
