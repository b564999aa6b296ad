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

"""Behaviour of the minicloud sites, through the official clients.

Each test talks to a site only through keystoneauth1 and the OpenStack
client libraries, as sodos itself will: python-keystoneclient,
python-glanceclient, python-novaclient (explicit microversion) and a
keystoneauth1 Adapter for placement.
"""

from __future__ import annotations

import os
import threading
import time

import oslo_messaging
import pytest
from keystoneauth1 import adapter
from keystoneauth1 import exceptions as ks_exceptions
from oslo_config import cfg

from sodos.testing import minicloud

try:
    from glanceclient import client as glance_client
    from keystoneclient.v3 import client as keystone_client
    from novaclient import client as nova_client
    from novaclient import exceptions as nova_exceptions
except ImportError as e:
    if os.environ.get('CI') == 'true':
        raise
    pytest.skip(
        'OpenStack clients missing (%s): %s' % (e, minicloud.INSTALL_HINT),
        allow_module_level=True,
    )

NOVA_MICROVERSION = '2.79'
PLACEMENT_MICROVERSION = '1.14'
BOOT_TIMEOUT = 120.0


def _nova(site):
    return nova_client.Client(
        NOVA_MICROVERSION, session=site.session(), region_name=site.region
    )


def _glance(site):
    return glance_client.Client(
        '2', session=site.session(), region_name=site.region
    )


def _placement(site):
    return adapter.Adapter(
        site.session(),
        service_type='placement',
        interface='public',
        region_name=site.region,
        default_microversion=PLACEMENT_MICROVERSION,
    )


def _wait(what, check, timeout=BOOT_TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail('timed out after %.0f s: %s' % (timeout, what))
        time.sleep(0.5)


def _boot(site, name):
    nova = _nova(site)
    image = next(
        i for i in _glance(site).images.list() if i.name == 'fake-image'
    )
    flavor = nova.flavors.find(name='m1.tiny')
    server = nova.servers.create(name, image.id, flavor.id, nics='none')

    def active():
        found = nova.servers.get(server.id)
        assert found.status != 'ERROR', getattr(found, 'fault', None)
        return found if found.status == 'ACTIVE' else None

    return _wait('server %s ACTIVE on %s' % (name, site.name), active)


def _delete(site, server):
    nova = _nova(site)
    nova.servers.delete(server.id)

    def gone():
        try:
            nova.servers.get(server.id)
        except nova_exceptions.NotFound:
            return True
        return False

    _wait('server %s deleted on %s' % (server.id, site.name), gone)


def test_token_and_catalog_per_site(minicloud_sites):
    tokens = {}
    for site in minicloud_sites.values():
        sess = site.session()
        tokens[site.name] = sess.get_token()
        access = sess.auth.get_access(sess)
        catalog = access.service_catalog.catalog
        assert {s['type'] for s in catalog} >= {
            'identity',
            'image',
            'placement',
            'compute',
        }
        regions = {e['region'] for s in catalog for e in s['endpoints']}
        assert regions == {site.region}
        keystone = keystone_client.Client(
            session=sess, region_name=site.region, interface='public'
        )
        assert [r.id for r in keystone.regions.list()] == [site.region]
    assert len({s.region for s in minicloud_sites.values()}) == 2

    # Each site has its own fernet keys: a token of one is no token of
    # the other.
    a, b = minicloud_sites.values()
    keystone_b = keystone_client.Client(
        session=b.session(), region_name=b.region, interface='public'
    )
    assert keystone_b.tokens.validate(tokens[b.name]).user_id
    with pytest.raises(ks_exceptions.NotFound):
        keystone_b.tokens.validate(tokens[a.name])


def test_fake_image_is_listed(minicloud_sites):
    for site in minicloud_sites.values():
        images = [
            i for i in _glance(site).images.list() if i.name == 'fake-image'
        ]
        assert len(images) == 1
        image = images[0]
        assert image.status == 'active'
        assert image.visibility == 'public'
        assert image.disk_format == 'raw'
        assert image.size == 1024 * 1024


def test_placement_inventory_of_compute_node(minicloud_sites):
    for site in minicloud_sites.values():
        placement = _placement(site)
        providers = placement.get(
            '/resource_providers', params={'name': site.compute_host}
        ).json()['resource_providers']
        assert len(providers) == 1
        inventories = placement.get(
            '/resource_providers/%s/inventories' % providers[0]['uuid']
        ).json()['inventories']
        assert {'VCPU', 'MEMORY_MB', 'DISK_GB'} <= set(inventories)
        # fake.MediumFakeDriver: 10 VCPU, 8192 MB, 1028 GB.
        assert inventories['VCPU']['total'] == 10
        assert inventories['MEMORY_MB']['total'] == 8192


def test_server_lives_on_one_site_and_deletes(site_a, site_b):
    server = _boot(site_a, 'it-one-site')
    try:
        assert getattr(server, 'OS-EXT-SRV-ATTR:host') == site_a.compute_host
        nova_b = _nova(site_b)
        with pytest.raises(nova_exceptions.NotFound):
            nova_b.servers.get(server.id)
        listed_b = nova_b.servers.list(search_opts={'all_tenants': True})
        assert server.id not in [s.id for s in listed_b]
    finally:
        _delete(site_a, server)
    # Nova's delete path asked the neutron stub for the server's ports;
    # without an answer the server would have gone to ERROR instead.
    with open(site_a.log_file('neutron-stub')) as f:
        assert 'device_id=%s' % server.id in f.read()


class _Collector:
    def __init__(self, event_type):
        self.event_type = event_type
        self.seen = {}
        self.event = threading.Event()

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        if event_type == self.event_type:
            uuid = payload.get('nova_object.data', {}).get('uuid')
            self.seen[uuid] = publisher_id
            self.event.set()


def test_versioned_notification_on_site_vhost(site_a):
    transport = oslo_messaging.get_notification_transport(
        cfg.ConfigOpts(), url=site_a.transport_url
    )
    collector = _Collector('instance.create.end')
    listener = oslo_messaging.get_notification_listener(
        transport,
        [oslo_messaging.Target(topic='versioned_notifications')],
        [collector],
        executor='threading',
    )
    listener.start()
    try:
        server = _boot(site_a, 'it-notify')
        try:
            _wait(
                'instance.create.end for %s' % server.id,
                lambda: server.id in collector.seen,
                timeout=60,
            )
            assert collector.seen[server.id].startswith('nova-compute:')
        finally:
            _delete(site_a, server)
    finally:
        listener.stop()
        listener.wait()
        transport.cleanup()
