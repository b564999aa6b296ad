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


"""Appliance specs with networks through the REST API: the bad ones are a
400 naming the field and commit nothing."""

import copy

import pytest

from sodos.domain import appliance as appliance_mod
from tests.unit.api.test_api import assert_error

NET = {
    'name': 'appnet',
    'cidr': '10.20.0.0/24',
    'security_group': {
        'rules': [
            {
                'direction': 'ingress',
                'protocol': 'tcp',
                'ports': '22',
                'remote_cidr': '0.0.0.0/0',
            }
        ]
    },
}
SPEC = {
    'name': 'shop',
    'members': [
        {
            'name': 'web',
            'image': 'cirros',
            'flavor': 'm1.small',
            'count': 2,
            'networks': ['appnet'],
        }
    ],
    'networks': [NET],
    'constraints': {'spread': 2},
}


def spec_with(**changes):
    spec = copy.deepcopy(SPEC)
    spec.update(changes)
    return spec


def net_with(**changes):
    net = copy.deepcopy(NET)
    net.update(changes)
    return net


def rules(*rules):
    return {'rules': list(rules)}


def test_an_appliance_with_networks_is_created(client, fed):
    status, body, _ = client.post('/v1/appliances', {'appliance': SPEC})
    assert status == 201, body
    assert body['appliance']['spec']['networks'] == [NET]


@pytest.mark.parametrize(
    'spec, words',
    [
        (
            spec_with(networks=[net_with(cidr='10.20.0.0/33')]),
            ['body.appliance.networks[0].cidr', '10.20.0.0/33'],
        ),
        (
            spec_with(networks=[net_with(cidr='10.20.0.1/24')]),
            ['body.appliance.networks[0].cidr', 'host bits'],
        ),
        (
            spec_with(networks=[net_with(cidr='fd00::/64')]),
            ['body.appliance.networks[0].cidr', 'IPv4'],
        ),
        (
            spec_with(networks=[net_with(cidr='10.0.0.0/30')]),
            ['body.appliance.networks[0].cidr', '/29'],
        ),
        (
            spec_with(
                networks=[
                    NET,
                    net_with(name='other', cidr='10.20.0.128/25'),
                ]
            ),
            ['body.appliance.networks[1].cidr', 'overlaps', '10.20.0.0/24'],
        ),
        (
            spec_with(
                networks=[
                    NET,
                    net_with(
                        name='other',
                        cidr='10.30.0.0/24',
                        sites={'s2': {'cidr': '10.20.0.0/16'}},
                    ),
                ]
            ),
            ['body.appliance.networks[1].cidr', 'overlaps', 'at site s2'],
        ),
        (
            spec_with(networks=[NET, net_with(cidr='10.30.0.0/24')]),
            ['body.appliance.networks[1].name', 'defined twice'],
        ),
        (
            spec_with(networks=[net_with(sites={'s2': {'cidr': 'nonsense'}})]),
            ['body.appliance.networks[0].sites.s2.cidr', 'nonsense'],
        ),
        (
            spec_with(
                networks=[
                    net_with(
                        security_group=rules(
                            {'direction': 'sideways', 'protocol': 'tcp'}
                        )
                    )
                ]
            ),
            ['body.appliance.networks[0].security_group.rules[0]'],
        ),
        (
            spec_with(
                networks=[
                    net_with(
                        security_group=rules(
                            {
                                'direction': 'ingress',
                                'protocol': 'icmp',
                                'ports': '22',
                            }
                        )
                    )
                ]
            ),
            [
                'body.appliance.networks[0].security_group.rules[0].ports',
                'tcp or udp',
            ],
        ),
        (
            spec_with(
                networks=[
                    net_with(
                        security_group=rules(
                            {
                                'direction': 'ingress',
                                'protocol': 'tcp',
                                'ports': '80-70000',
                            }
                        )
                    )
                ]
            ),
            ['rules[0].ports', '80-70000'],
        ),
        (
            spec_with(
                networks=[
                    net_with(
                        security_group=rules(
                            {
                                'direction': 'ingress',
                                'remote_cidr': '10.0.0.0/99',
                            }
                        )
                    )
                ]
            ),
            ['rules[0].remote_cidr', '10.0.0.0/99'],
        ),
        (
            spec_with(
                members=[
                    {
                        'name': 'web',
                        'image': 'i',
                        'flavor': 'f',
                        'count': 2,
                        'networks': ['nowhere'],
                    }
                ]
            ),
            ['body.appliance.members[0].networks', 'nowhere'],
        ),
    ],
)
def test_bad_networks_are_400_and_change_nothing(client, fed, spec, words):
    before = fed.read()
    answer = client.post('/v1/appliances', {'appliance': spec})
    assert_error(answer, 400, 'invalid_body', *words)
    assert fed.read() == before


def test_a_network_name_means_one_network_in_a_project(client, fed):
    assert client.post('/v1/appliances', {'appliance': SPEC})[0] == 201
    before = fed.read()
    clash = spec_with(name='blog', networks=[net_with(cidr='10.99.0.0/24')])
    answer = client.post('/v1/appliances', {'appliance': clash})
    assert_error(
        answer,
        400,
        'invalid_body',
        'body.appliance.networks[0]',
        'appnet',
        'shop',
        'cidr 10.20.0.0/24',
    )
    assert fed.read() == before
    # The same definition is shared.
    same = spec_with(name='blog')
    assert client.post('/v1/appliances', {'appliance': same})[0] == 201
    # Another project's appliances may define it otherwise, and do not
    # stop this project's (the owner is the project, not a label).
    fed.propose('appliance.delete', {'appliance_id': _id(fed, 'shop')})
    fed.propose('appliance.delete', {'appliance_id': _id(fed, 'blog')})
    theirs = appliance_mod.validate(dict(clash, name='wiki'))
    theirs['project_id'] = 'f' * 32
    fed.propose('appliance.put', {'appliance_id': 'e' * 32, 'spec': theirs})
    mine = spec_with(name='news', project='other')
    assert client.post('/v1/appliances', {'appliance': mine})[0] == 201


def _id(fed, name):
    (found,) = [
        aid
        for aid, record in fed.read('appliances').items()
        if record['spec']['name'] == name
    ]
    return found
