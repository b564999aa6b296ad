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


"""Network reconciliation rules: create, adopt, refuse, remove; each step
repeatable after a crash at any point."""

import pytest

from sodos import exception
from sodos.exec.drivers.simulator import network as simulated
from sodos.exec.networks import reconcile
from sodos.exec.networks import rules
from sodos.exec.networks import store as store_mod

P = simulated.DEFAULT_PROJECT
SSH = {
    'direction': 'ingress',
    'protocol': 'tcp',
    'ports': '22',
    'remote_cidr': '0.0.0.0/0',
}
NET = {
    'name': 'appnet',
    'cidr': '10.20.0.0/24',
    'sites': {'lyon': {'cidr': '10.21.0.0/24'}},
    'security_group': {
        'rules': [SSH, {'direction': 'ingress', 'protocol': 'icmp'}]
    },
}
SSH_RULE = rules.neutron_rule(('ingress', 'tcp', 22, 22, ''))
ICMP_RULE = rules.neutron_rule(('ingress', 'icmp', 0, 0, ''))


@pytest.fixture
def store():
    return simulated.SimulatedNetworks()


def keys(group):
    return rules.rule_keys(group)


def test_creates_network_subnet_and_group_with_its_rules(store):
    made = reconcile.ensure(store, None, 'paris', NET)
    assert made.outcome == (rules.CREATE, rules.CREATE)
    [network] = store.networks(P, 'appnet')
    assert network['id'] == made.network_id
    assert network['description'] == store_mod.MADE_BY_SODOS
    [subnet] = store.subnets(made.network_id)
    assert subnet['cidr'] == '10.20.0.0/24'
    [group] = store.security_groups(P, 'appnet')
    assert keys(group) == {
        rules.DEFAULT_EGRESS,
        ('ingress', 'tcp', 22, 22, ''),
        ('ingress', 'icmp', 0, 0, ''),
    }


def test_a_second_run_changes_nothing(store):
    first = reconcile.ensure(store, None, 'paris', NET)
    again = reconcile.ensure(store, None, 'paris', NET)
    assert again.outcome == (rules.USE, rules.USE)
    assert (again.network_id, again.subnet_id, again.security_group_id) == (
        first.network_id,
        first.subnet_id,
        first.security_group_id,
    )
    assert len(store.networks(P)) == 1
    assert len(store.subnets(first.network_id)) == 1
    assert len(store.security_groups(P)[0]['rules']) == 3


def test_a_site_override_gives_its_own_cidr(store):
    made = reconcile.ensure(store, None, 'lyon', NET)
    assert store.subnets(made.network_id)[0]['cidr'] == '10.21.0.0/24'


def test_finishes_a_run_cut_short_after_the_network(store):
    network = store.create_network(P, 'appnet')
    made = reconcile.ensure(store, None, 'paris', NET)
    assert made.network_id == network['id']
    assert [s['cidr'] for s in store.subnets(network['id'])] == [
        '10.20.0.0/24'
    ]
    assert len(store.networks(P)) == 1


def test_finishes_a_run_cut_short_after_the_group(store):
    reconcile.ensure(store, None, 'paris', dict(NET, security_group={}))
    group = store.security_groups(P, 'appnet')[0]
    assert keys(group) == {rules.DEFAULT_EGRESS}
    # A crash after the group was made, before its rules: added now.
    made = reconcile.ensure(store, None, 'paris', NET)
    assert made.security_group_id == group['id']
    assert len(keys(store.security_groups(P, 'appnet')[0])) == 3


def test_adopts_an_equal_network_and_group_and_never_removes_them(store):
    network = store.add_foreign('network', P, 'appnet')
    store.add_foreign(
        'subnet', P, 'appnet', network_id=network['id'], cidr='10.20.0.0/24'
    )
    group = store.add_foreign(
        'security_group',
        P,
        'appnet',
        rules=[
            rules.neutron_rule(rules.DEFAULT_EGRESS),
            SSH_RULE,
            ICMP_RULE,
            # IPv6 rules are not compared (the specs are IPv4).
            dict(rules.neutron_rule(rules.DEFAULT_EGRESS), ethertype='IPv6'),
        ],
    )
    made = reconcile.ensure(store, None, 'paris', NET)
    assert made.outcome == (rules.ADOPT, rules.ADOPT)
    assert (made.network_id, made.security_group_id) == (
        network['id'],
        group['id'],
    )
    assert reconcile.collect(store, None, in_use=[]) == []
    assert store.networks(P, 'appnet') and store.security_groups(P, 'appnet')


def test_refuses_a_network_with_another_cidr(store):
    network = store.add_foreign('network', P, 'appnet')
    store.add_foreign(
        'subnet', P, 'appnet', network_id=network['id'], cidr='10.99.0.0/24'
    )
    with pytest.raises(exception.PermanentError) as caught:
        reconcile.ensure(store, None, 'paris', NET)
    message = str(caught.value)
    assert 'network appnet at site paris' in message
    assert '10.99.0.0/24' in message and '10.20.0.0/24' in message
    assert store.security_groups(P) == []


def test_refuses_a_group_with_other_rules(store):
    store.add_foreign(
        'security_group',
        P,
        'appnet',
        rules=[rules.neutron_rule(rules.DEFAULT_EGRESS), SSH_RULE],
    )
    with pytest.raises(exception.PermanentError) as caught:
        reconcile.ensure(store, None, 'paris', NET)
    assert 'lacks ingress icmp' in str(caught.value)


def test_projects_are_kept_apart(store):
    other = store.add_foreign('network', 'other', 'appnet')
    store.add_foreign(
        'subnet', 'other', 'appnet', network_id=other['id'], cidr='10.9.0.0/24'
    )
    made = reconcile.ensure(store, None, 'paris', NET)
    assert made.outcome[0] == rules.CREATE
    theirs = reconcile.ensure(
        store, 'demo', 'paris', dict(NET, cidr='10.5.0.0/24')
    )
    assert store.networks('demo')[0]['id'] == theirs.network_id


def test_removes_what_it_made_once_unused(store):
    made = reconcile.ensure(store, None, 'paris', NET)
    other = reconcile.ensure(
        store, None, 'paris', dict(NET, name='other', cidr='10.30.0.0/24')
    )
    store.plug('server-1', [made.network_id], [made.security_group_id])
    # In use by a placement: kept.
    assert reconcile.collect(store, None, in_use=['appnet']) == ['other']
    assert store.networks(P, 'other') == []
    assert store.security_groups(P, 'other') == []
    assert other.network_id not in store.networks_by_id
    # No longer placed, but its port is not gone yet: kept for later.
    assert reconcile.collect(store, None, in_use=[]) == []
    assert store.networks(P, 'appnet')
    store.unplug('server-1')
    assert reconcile.collect(store, None, in_use=[]) == ['appnet']
    assert store.networks(P) == [] and store.security_groups(P) == []
    assert store.subnets(made.network_id) == []


def test_in_use_counts_members_placed_at_the_site():
    appliances = {
        'a1': {
            'spec': {
                'networks': [NET, dict(NET, name='db', cidr='10.40.0.0/24')],
                'members': [
                    {'name': 'web', 'networks': ['appnet']},
                    {'name': 'db', 'networks': ['db']},
                    {'name': 'cache'},
                ],
            }
        }
    }
    placements = {
        'a1/web-0': {'appliance_id': 'a1', 'member': 'web-0', 'site': 'paris'},
        'a1/db-0': {'appliance_id': 'a1', 'member': 'db-0', 'site': 'lyon'},
        'a1/cache-0': {
            'appliance_id': 'a1',
            'member': 'cache-0',
            'site': 'paris',
        },
    }
    assert reconcile.in_use('paris', placements, appliances) == {
        None: {'appnet'}
    }
    assert reconcile.in_use('lyon', placements, appliances) == {None: {'db'}}
    assert reconcile.in_use('berlin', placements, appliances) == {}
    # By the project each appliance's servers are built in.
    appliances['a2'] = {
        'spec': dict(appliances['a1']['spec'], project_id='p2'),
    }
    placements['a2/web-0'] = {
        'appliance_id': 'a2',
        'member': 'web-0',
        'site': 'paris',
    }
    assert reconcile.in_use(
        'paris', placements, appliances, lambda s: s.get('project_id')
    ) == {None: {'appnet'}, 'p2': {'appnet'}}
