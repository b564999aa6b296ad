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

"""A server is built in its appliance's project, as the building site
calls it, with the appliance's key, user data and metadata; a rebuild
too. An appliance from before ownership is built as before."""

import time

import pytest

from sodos.exec.drivers import base as driver
from tests.unit.exec.test_exec_role import APP
from tests.unit.exec.test_exec_role import KB
from tests.unit.exec.test_exec_role import create_params
from tests.unit.exec.test_exec_role import settle

OWNER = '5' * 32
HERE_ID = '6' * 32
KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB1K3j1s1h4nQeBVmYbG3bO0m0o4b8m5 me'
SPEC = {
    'name': 'shop',
    'project_id': OWNER,
    'public_key': KEY,
    'user_data': '#cloud-config\n',
    'metadata': {'tier': 'web'},
    'members': [{'name': 'web', 'image': 'fake-image', 'flavor': 'm1.tiny'}],
}


@pytest.fixture
def kb(knowmon, api):
    kb = KB(api, knowmon.backend)
    kb.propose(
        'identity.project.put',
        {'project_id': OWNER, 'name': 'shop', 'domain_id': 'default'},
    )
    kb.propose(
        'identity.map',
        {
            'site': 'here',
            'set': [{'kind': 'projects', 'id': OWNER, 'local_id': HERE_ID}],
        },
    )
    return kb


def place(kb, spec):
    kb.propose('appliance.put', {'appliance_id': APP, 'spec': spec})
    super(KB, kb).place(APP, 'web-0', 'here', 'fake-image', 'm1.tiny')


def booted(role, server_id):
    return role.driver.site.get(server_id)


def test_a_server_is_built_in_the_owners_project_with_its_boot_data(
    exec_for, api, kb
):
    role = exec_for(api)
    place(kb, SPEC)
    kb.action('1' * 32, **create_params('web-0'))
    done = settle(role, kb, '1' * 32)
    assert done['state'] == 'done', done
    server = booted(role, done['result']['server_id'])
    # The site's own id of the project, from the KB's ID map.
    assert server['project_id'] == HERE_ID
    assert server['key_name'] == 'sodos-' + APP
    assert server['public_key'] == KEY
    assert server['user_data'] == '#cloud-config\n'
    assert server['metadata']['tier'] == 'web'
    assert server['metadata'][driver.TAG_APPLIANCE] == APP


def test_a_rebuilt_member_boots_with_the_same_data(exec_for, api, kb):
    role = exec_for(api)
    place(kb, SPEC)
    kb.action('1' * 32, **create_params('web-0'))
    first = settle(role, kb, '1' * 32)['result']['server_id']
    role.driver.delete(first)
    role._must_reconcile = 'test'
    role.cycle()
    deadline = time.monotonic() + 10
    rebuilt = []
    while time.monotonic() < deadline and not rebuilt:
        rebuilt = [
            s
            for s in role.driver.list_servers()
            if s.id != first and s.status == 'ACTIVE'
        ]
        time.sleep(0.02)
    assert rebuilt, 'the member was not rebuilt'
    server = booted(role, rebuilt[0].id)
    assert (server['project_id'], server['key_name'], server['user_data']) == (
        HERE_ID,
        'sodos-' + APP,
        '#cloud-config\n',
    )


def test_an_appliance_from_before_ownership_is_built_as_before(
    exec_for, api, kb
):
    role = exec_for(api)
    place(kb, {})
    kb.action('1' * 32, **create_params('web-0'))
    done = settle(role, kb, '1' * 32)
    server = booted(role, done['result']['server_id'])
    assert server['project_id'] is None
    assert (server['key_name'], server['user_data']) == ('', '')
    assert set(server['metadata']) == {
        driver.TAG_APPLIANCE,
        driver.TAG_MEMBER,
        driver.TAG_ACTION,
    }


def test_the_service_project_when_the_operator_says_so(
    exec_for, exec_conf, api, kb
):
    exec_conf.set_override('servers_in_owner_project', False, 'exec')
    role = exec_for(api)
    place(kb, SPEC)
    kb.action('1' * 32, **create_params('web-0'))
    done = settle(role, kb, '1' * 32)
    server = booted(role, done['result']['server_id'])
    assert server['project_id'] is None
    assert server['key_name'] == 'sodos-' + APP
