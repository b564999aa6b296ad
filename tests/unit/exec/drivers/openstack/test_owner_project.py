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

"""The openstack driver builds in the owner's project with its key and
user data, and lists every project's sodos servers."""

from unittest import mock

import pytest
from novaclient import exceptions as nova_exc

from sodos.exec.drivers import base as driver
from sodos.exec.drivers.openstack import driver as os_driver
from sodos.exec.drivers.openstack import projects

KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB1K3j1s1h4nQeBVmYbG3bO0m0o4b8m5 me'
SPEC = driver.ServerSpec(
    appliance_id='a' * 32,
    member='web-0',
    action_id='1' * 32,
    name='web',
    image='0b3c1f6e-2c52-4f6c-8a0b-7e0f4c2d9a11',
    flavor='m1.tiny',
    project_id='p1',
    public_key=KEY,
    user_data='#cloud-config\n',
    user_metadata={'tier': 'web'},
)


@pytest.fixture
def drv(conf):
    made = os_driver.OpenStackDriver.__new__(os_driver.OpenStackDriver)
    made.conf = conf
    made.nova = mock.Mock(name='service-nova')
    made.owners = mock.Mock(spec=projects.OwnerProjects)
    made.owners.nova.return_value = mock.Mock(name='owner-nova')
    made._cached = lambda kind, name, lookup: name
    return made


def test_a_server_is_booted_in_its_owners_project(drv):
    drv.boot(SPEC)
    drv.owners.nova.assert_called_once_with('p1')
    owner_nova = drv.owners.nova.return_value
    drv.owners.ensure_key.assert_called_once_with(
        owner_nova, 'sodos-' + 'a' * 32, KEY
    )
    drv.nova.servers.create.assert_not_called()
    kwargs = owner_nova.servers.create.call_args.kwargs
    assert kwargs['key_name'] == 'sodos-' + 'a' * 32
    assert kwargs['userdata'] == '#cloud-config\n'
    assert kwargs['meta']['tier'] == 'web'
    assert kwargs['meta'][driver.TAG_MEMBER] == 'web-0'


def test_without_an_owner_the_service_project_builds(drv):
    drv.boot(driver.ServerSpec('a' * 32, 'web-0', '1' * 32, 'w', 'i', 'f'))
    drv.owners.nova.assert_not_called()
    kwargs = drv.nova.servers.create.call_args.kwargs
    assert (kwargs['key_name'], kwargs['userdata']) == (None, None)


@pytest.mark.parametrize('owners, all_tenants', [(True, True), (False, None)])
def test_the_list_spans_every_project(drv, conf, owners, all_tenants):
    conf.set_override('servers_in_owner_project', owners, 'exec')
    drv.nova.servers.list.return_value = []
    drv.list_servers()
    search = drv.nova.servers.list.call_args.kwargs['search_opts']
    assert search.get('all_tenants') == all_tenants


def _owners(conf):
    return projects.OwnerProjects(conf, mock.Mock(), {}, '2.79')


def test_a_missing_key_pair_is_made(conf):
    nova = mock.Mock()
    nova.keypairs.get.side_effect = nova_exc.NotFound(404)
    _owners(conf).ensure_key(nova, 'sodos-x', KEY)
    nova.keypairs.create.assert_called_once_with('sodos-x', public_key=KEY)


def test_the_same_key_pair_is_left_alone(conf):
    nova = mock.Mock()
    nova.keypairs.get.return_value = mock.Mock(public_key=KEY + '\n')
    _owners(conf).ensure_key(nova, 'sodos-x', KEY)
    nova.keypairs.create.assert_not_called()
    nova.keypairs.delete.assert_not_called()


def test_a_key_pair_changed_by_hand_is_made_again(conf):
    nova = mock.Mock()
    nova.keypairs.get.return_value = mock.Mock(public_key='ssh-rsa other')
    _owners(conf).ensure_key(nova, 'sodos-x', KEY)
    nova.keypairs.delete.assert_called_once_with('sodos-x')
    nova.keypairs.create.assert_called_once_with('sodos-x', public_key=KEY)
