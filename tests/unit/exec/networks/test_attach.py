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


"""The server actions with networks, on a simulated site: a member whose
spec names networks boots with a port on each; removing the last member
of a network removes it; members without networks boot as before."""

import pytest

from sodos import exception
from sodos.exec import actions
from sodos.exec import monitor
from sodos.exec.drivers.simulator import driver as simulator
from sodos.exec.drivers.simulator import network as simulated

A = 'a' * 32
P = simulated.DEFAULT_PROJECT
NET = {
    'name': 'appnet',
    'cidr': '10.20.0.0/24',
    'security_group': {
        'rules': [{'direction': 'ingress', 'protocol': 'tcp', 'ports': '22'}]
    },
}
SPEC = {
    'name': 'shop',
    'networks': [NET],
    'members': [
        {
            'name': 'web',
            'image': 'fake-image',
            'flavor': 'm1.small',
            'networks': ['appnet'],
        },
        {'name': 'batch', 'image': 'fake-image', 'flavor': 'm1.small'},
    ],
}


@pytest.fixture
def sim(conf):
    conf.set_override('boot_seconds', 0.0, 'simulator')
    conf.set_override('delete_seconds', 0.0, 'simulator')
    conf.set_override('poll_interval', 0.01, 'exec')
    return simulator.SimulatorDriver(conf)


class KB:
    """The sections the actions read, as KnowMon answers."""

    def __init__(self, site):
        self.site = site
        self.sections = {
            'appliances': {A: {'spec': SPEC}},
            'placements': {},
            'identity': {},
        }

    def place(self, member, site=None):
        self.sections['placements'][A + '/' + member] = {
            'appliance_id': A,
            'member': member,
            'site': site or self.site,
        }

    def read(self, section, key):
        found = self.sections[section]
        return (
            found
            if key is None
            else {k: v for k, v in found.items() if k == key}
        )


def run(kind, conf, drv, kb, params, action_id='1' * 32):
    ctx = actions.Context(
        conf=conf,
        driver=drv,
        site=conf.site_name,
        stopping=lambda s: False,
        placement=lambda key: kb.read('placements', key).get(key),
        appliance=lambda aid: (kb.read('appliances', aid).get(aid) or {}).get(
            'spec'
        ),
        identity=lambda: {'idmap': {}},
        read=kb.read,
    )
    handler = {'create': actions.CreateServer, 'delete': actions.DeleteServer}
    return handler[kind]()(ctx, {'action_id': action_id, 'params': params})


def create(member):
    return {
        'appliance_id': A,
        'member': member,
        'image': 'fake-image',
        'flavor': 'm1.small',
    }


def test_a_member_boots_on_its_network_and_shows_its_address(conf, sim):
    kb = KB(conf.site_name)
    kb.place('web-0')
    result = run('create', conf, sim, kb, create('web-0'))
    assert result['status'] == 'ACTIVE'
    [network] = sim.networks.networks(P, 'appnet')
    [group] = sim.networks.security_groups(P, 'appnet')
    [port] = sim.networks.ports[result['server_id']]
    assert port[:2] == (network['id'], [group['id']])
    [server] = sim.list_servers()
    assert server.addresses == ('10.20.0.2',)
    # What the site reports, and appliance show gives.
    reported = monitor.collect(sim)['servers'][A + '/web-0']
    assert reported['addresses'] == ['10.20.0.2']


def test_a_member_without_networks_boots_with_none(conf, sim):
    kb = KB(conf.site_name)
    kb.place('batch-0')
    result = run('create', conf, sim, kb, create('batch-0'))
    assert result['status'] == 'ACTIVE'
    assert sim.networks.networks(P) == []
    assert sim.list_servers()[0].addresses == ()


def test_an_appliance_unknown_to_the_kb_boots_with_no_network(conf, sim):
    kb = KB(conf.site_name)
    kb.sections['appliances'] = {}
    kb.place('web-0')
    assert run('create', conf, sim, kb, create('web-0'))['created']
    assert sim.networks.networks(P) == []


def test_a_refused_network_boots_nothing(conf, sim):
    kb = KB(conf.site_name)
    kb.place('web-0')
    theirs = sim.networks.add_foreign('network', P, 'appnet')
    sim.networks.add_foreign(
        'subnet', P, 'appnet', network_id=theirs['id'], cidr='10.9.0.0/24'
    )
    with pytest.raises(exception.PermanentError, match='10.9.0.0/24'):
        run('create', conf, sim, kb, create('web-0'))
    assert sim.list_servers() == []


def test_a_driver_without_networks_refuses_a_member_on_one(conf, sim):
    kb = KB(conf.site_name)
    kb.place('web-0')
    sim.network_store = lambda: None
    with pytest.raises(exception.PermanentError, match='no network service'):
        run('create', conf, sim, kb, create('web-0'))


def test_the_last_member_gone_removes_the_network(conf, sim):
    kb = KB(conf.site_name)
    kb.place('web-0')
    run('create', conf, sim, kb, create('web-0'))
    # The member moved to another site: its server here is deleted.
    kb.place('web-0', site='elsewhere')
    params = {'appliance_id': A, 'member': 'web-0'}
    assert len(run('delete', conf, sim, kb, params)['deleted']) == 1
    assert sim.networks.networks(P) == []
    assert sim.networks.security_groups(P) == []


def test_networks_are_made_and_removed_in_the_owners_project(conf, sim):
    # Servers are built in the appliance's project: so are the networks
    # its members attach to, and they go once its last member is gone,
    # even with the appliance itself gone from the KB.
    kb = KB(conf.site_name)
    kb.sections['appliances'][A]['spec'] = dict(SPEC, project_id='owner')
    kb.place('web-0')
    result = run('create', conf, sim, kb, create('web-0'))
    [server] = [
        s for s in sim.site.servers() if s['id'] == result['server_id']
    ]
    [network] = sim.networks.networks('owner', 'appnet')
    assert sim.networks.networks(P) == []
    assert sim.networks.ports[result['server_id']][0][0] == network['id']
    del kb.sections['appliances'][A]
    del kb.sections['placements'][A + '/web-0']
    params = {'appliance_id': A, 'member': 'web-0'}
    assert len(run('delete', conf, sim, kb, params)['deleted']) == 1
    assert sim.networks.networks('owner') == []
    assert sim.networks.security_groups('owner') == []
