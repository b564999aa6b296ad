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

"""What each driver says its site offers beyond servers and images."""

from sodos.exec.drivers import base as exec_driver
from sodos.exec.drivers.openstack import catalog as ks_catalog
from sodos.exec.drivers.openstack import identity as ks_identity
from sodos.exec.drivers.openstack import keystone_revocations
from sodos.exec.drivers.simulator import catalog as simulator_catalog
from sodos.exec.drivers.simulator import identity as simulator_identity
from tests.unit import helpers


class ServersOnly(exec_driver.Driver):
    """A driver that implements only what every driver must."""

    def list_servers(self):
        return []

    def boot(self, spec):
        raise exec_driver.PermanentError('no')

    def get_server(self, server_id):
        return None

    def delete(self, server_id):
        return None

    def capacity(self):
        return {}

    def images(self):
        return []

    def flavors(self):
        return {}


def test_a_driver_offers_none_unless_it_says_so(conf):
    drv = ServersOnly(conf)
    assert drv.identity_writer(shared=False) is None
    assert drv.identity_writer(shared=True) is None
    assert drv.catalog_store() is None
    assert drv.revocation_store() is None


def test_the_simulator_offers_a_keystone_and_a_catalog(conf):
    drv = helpers.site_driver(conf)
    api = drv.identity_writer(shared=False)
    shared = drv.identity_writer(shared=True)
    assert isinstance(api, simulator_identity.SimulatedKeystone)
    assert not api.same_ids and shared.same_ids
    assert isinstance(drv.catalog_store(), simulator_catalog.SimulatedCatalog)
    assert drv.revocation_store() is None


def test_openstack_offers_all_three(conf, tmp_path):
    conf.set_override('driver', 'openstack', 'exec')
    url = 'sqlite:///%s' % (tmp_path / 'keystone.db')
    conf.set_override('keystone_database_connection', url, 'identity')
    drv = helpers.site_driver(conf)
    assert isinstance(
        drv.identity_writer(shared=False), ks_identity.KeystoneWriter
    )
    assert isinstance(drv.catalog_store(), ks_catalog.KeystoneCatalog)
    table = drv.revocation_store()
    assert isinstance(table, keystone_revocations.RevocationTable)
    table.close()
