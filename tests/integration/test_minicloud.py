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
keystoneauth1 Adapter for placement and neutron.

The session sites run the default neutron mode (minicloud's
neutron.DEFAULT_MODE); one test starts a site of the other mode.
"""

from __future__ import annotations

import configparser
import os
import re
import threading
import time

import oslo_messaging
import pytest
import sqlalchemy
from keystoneauth1 import adapter
from keystoneauth1 import exceptions as ks_exceptions
from oslo_config import cfg

from tests import minicloud
from tests.minicloud import neutron as neutron_mod
from tests.minicloud import smoke

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


def _network(site):
    return adapter.Adapter(
        site.session(),
        service_type='network',
        interface='public',
        region_name=site.region,
    )


def _real_neutron(site):
    if site.neutron != neutron_mod.REAL:
        pytest.skip('site %s runs the neutron stub' % site.name)


def _read(path, offset=0):
    with open(path, 'rb') as f:
        f.seek(offset)
        return f.read().decode(errors='replace')


def _ports_requests(site, server_id):
    """The lines of neutron's request log that list a server's ports."""
    # uwsgi's request log (real) or the stub's: one line per request.
    return [
        line
        for line in _read(site.log_file(site.neutron_daemon)).splitlines()
        if 'GET /v2.0/ports?' in line and 'device_id=%s' % server_id in line
    ]


def _wait(what, check, timeout=BOOT_TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail('timed out after %.0f s: %s' % (timeout, what))
        time.sleep(0.5)


def _boot(site, name, nics='none'):
    nova = _nova(site)
    image = next(
        i for i in _glance(site).images.list() if i.name == 'fake-image'
    )
    flavor = nova.flavors.find(name='m1.tiny')
    server = nova.servers.create(name, image.id, flavor.id, nics=nics)

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
            found = nova.servers.get(server.id)
        except nova_exceptions.NotFound:
            return True
        # A failed delete leaves the server in ERROR, not gone.
        assert found.status != 'ERROR', getattr(found, 'fault', None)
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
    assert len({s.region for s in minicloud_sites.values()}) == len(
        minicloud_sites
    )

    # Each site has its own fernet keys: a token of one is no token of
    # the other.
    a, b = list(minicloud_sites.values())[:2]
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
    # Nova's delete path asked neutron (or the stub) for the server's
    # ports; without an answer the server would have gone to ERROR.
    assert _ports_requests(site_a, server.id)


def test_network_service_in_catalog(minicloud_sites):
    for site in minicloud_sites.values():
        _real_neutron(site)
        sess = site.session()
        access = sess.auth.get_access(sess)
        network = [
            s for s in access.service_catalog.catalog if s['type'] == 'network'
        ]
        assert [s['name'] for s in network] == ['neutron']
        assert {e['url'] for e in network[0]['endpoints']} == {
            site.neutron_url
        }
        # `openstack network list`: the catalog leads to a neutron that
        # takes the token and lists from its database (empty).
        networks = _network(site).get('/v2.0/networks').json()['networks']
        assert networks == []

        keystone = keystone_client.Client(
            session=sess, region_name=site.region, interface='public'
        )
        user = keystone.users.find(name='neutron')
        project = keystone.projects.find(name='service')
        roles = {r.id: r.name for r in keystone.roles.list()}
        granted = keystone.role_assignments.list(user=user, project=project)
        assert {roles[a.role['id']] for a in granted} == {'admin', 'service'}

        # Nova finds neutron through the catalog, not an override.
        conf = configparser.ConfigParser(interpolation=None)
        conf.read(os.path.join(site.dir, 'etc', 'nova', 'nova.conf'))
        assert 'endpoint_override' not in conf['neutron']
        assert conf['neutron']['region_name'] == site.region


def test_server_delete_goes_through_real_neutron(site_a):
    _real_neutron(site_a)
    # Only what this test adds to the logs: other tests share the site.
    logs = ('neutron-app', 'nova-compute', 'nova-api-app')
    offsets = {n: os.path.getsize(site_a.log_file(n)) for n in logs}
    server = _boot(site_a, 'it-neutron-delete')
    _delete(site_a, server)
    # The delete path listed the server's ports in neutron, and neutron
    # answered every such list (an HTTP 500 there puts the server in
    # ERROR instead).
    requests = _ports_requests(site_a, server.id)
    assert requests
    assert all('(HTTP/1.1 200)' in line for line in requests), requests
    for name in logs:
        text = _read(site_a.log_file(name), offsets[name])
        errors = re.findall(r'^.* ERROR .*$', text, re.M)
        assert errors == [], '%s: %s' % (name, errors[:3])


def test_server_boots_with_a_port_on_a_network(site_b):
    # The test bed's mechanism driver binds the port with no agent, and
    # nova's fake driver waits for no vif-plugged event.
    _real_neutron(site_b)
    neutron = _network(site_b)
    network = neutron.post(
        '/v2.0/networks', json={'network': {'name': 'it-port-net'}}
    ).json()['network']
    try:
        neutron.post(
            '/v2.0/subnets',
            json={
                'subnet': {
                    'network_id': network['id'],
                    'cidr': '10.77.0.0/24',
                    'ip_version': 4,
                }
            },
        )
        server = _boot(
            site_b, 'it-port-server', nics=[{'net-id': network['id']}]
        )
        [port] = neutron.get(
            '/v2.0/ports', params={'device_id': server.id}
        ).json()['ports']
        assert port['status'] == 'ACTIVE'
        assert port['binding:host_id'] == site_b.compute_host
        assert port['binding:vif_type'] == 'ovs'
        [fixed] = port['fixed_ips']
        assert fixed['ip_address'].startswith('10.77.0.')
        assert (
            server.addresses['it-port-net'][0]['addr'] == (fixed['ip_address'])
        )
        _delete(site_b, server)
        # Nova deleted the port it made.
        assert (
            neutron.get('/v2.0/ports', params={'device_id': server.id}).json()[
                'ports'
            ]
            == []
        )
    finally:
        neutron.delete('/v2.0/networks/%s' % network['id'])


def test_other_neutron_mode_site(tmp_path_factory, minicloud_sites):
    # The session sites run the default mode; this site runs the other
    # one, so that both keep working. Depending on minicloud_sites, it
    # runs under the session's lock.
    other = next(m for m in neutron_mod.MODES if m != neutron_mod.DEFAULT_MODE)
    if minicloud.missing_packages(other):
        pytest.skip('OpenStack packages missing for neutron %s' % other)
    a = next(iter(minicloud_sites.values()))
    root = str(tmp_path_factory.mktemp('minicloud-other'))
    site = minicloud.Site(
        'sodos-it-other',
        minicloud.free_port_base(),
        root,
        transport_url=a.base_transport_url,
        database_url=a.database_url,
        neutron=other,
    )
    try:
        site.start()
        loaded = minicloud.Site.load(site.name, root)
        assert loaded.neutron == other
        assert loaded.status()[site.neutron_daemon]
        sess = site.session()
        types = {
            s['type']
            for s in sess.auth.get_access(sess).service_catalog.catalog
        }
        assert ('network' in types) == (other == neutron_mod.REAL)
        # Boots a server and deletes it, through nova's neutron path.
        smoke.run(site)
        assert 'device_id=' in _read(site.log_file(site.neutron_daemon))
    finally:
        site.destroy()
    engine = sqlalchemy.create_engine(site.database_url)
    try:
        with engine.connect() as conn:
            names = conn.exec_driver_sql('SHOW DATABASES').scalars().all()
    finally:
        engine.dispose()
    assert [n for n in names if n.startswith('sodos_it_other_')] == []


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
