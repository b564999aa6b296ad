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

"""The Keystone catalog store over keystoneclient, its HTTP faked by
requests-mock as Keystone 30 answers."""

import pytest
from keystoneauth1 import fixture
from keystoneauth1 import session
from keystoneauth1.identity import v3

from sodos.exec.catalog import plan as catalog_plan
from sodos.exec.drivers import base as driver
from sodos.exec.drivers.openstack import catalog

AUTH = 'http://keystone.test/v3'


@pytest.fixture
def keystone(requests_mock, conf):
    token = fixture.V3Token()
    token.set_project_scope()
    identity = token.add_service('identity', name='keystone', id='s-ks')
    identity.add_endpoint('public', AUTH, region='R1', id='e-ks')
    image = token.add_service('image', name='glance', id='s-img')
    image.add_endpoint('public', 'http://glance.test:9292', region='R1')
    requests_mock.post(
        AUTH + '/auth/tokens', json=token, headers={'X-Subject-Token': 'tok'}
    )
    conf.set_override('region_name', 'R1', 'site_auth')
    conf.set_override('valid_interfaces', ['public'], 'site_auth')
    sess = session.Session(
        auth=v3.Password(
            auth_url=AUTH,
            username='sodos',
            password='pw',
            project_name='admin',
            user_domain_id='default',
            project_domain_id='default',
        )
    )
    return catalog.KeystoneCatalog(conf, sess)


def _lists(requests_mock):
    requests_mock.get(
        AUTH + '/regions',
        json={
            'regions': [
                {'id': 'R1', 'description': '', 'parent_region_id': None},
                {'id': 'B', 'description': 'sodos: site b'},
            ]
        },
    )
    requests_mock.get(
        AUTH + '/services',
        json={
            'services': [
                {
                    'id': 's-img',
                    'type': 'image',
                    'name': 'glance',
                    'enabled': True,
                },
                {'id': 's-old', 'type': 'volume', 'enabled': False},
            ]
        },
    )
    requests_mock.get(
        AUTH + '/endpoints',
        json={
            'endpoints': [
                {
                    'id': 'e1',
                    'service_id': 's-img',
                    'interface': 'public',
                    'region_id': 'R1',
                    'region': 'R1',
                    'url': 'http://glance.test:9292',
                    'enabled': True,
                },
                {
                    'id': 'e2',
                    'service_id': 's-img',
                    'interface': 'public',
                    'region_id': 'B',
                    'region': 'B',
                    'url': 'http://glance.b:9292',
                    'enabled': False,
                },
            ]
        },
    )


def test_snapshot_reads_regions_services_and_endpoints(
    keystone, requests_mock
):
    _lists(requests_mock)
    snap = keystone.snapshot()
    assert snap.regions == [
        catalog_plan.Region('R1', ''),
        catalog_plan.Region('B', 'sodos: site b'),
    ]
    assert snap.services == [
        catalog_plan.Service('s-img', 'image', 'glance'),
        catalog_plan.Service('s-old', 'volume', '', enabled=False),
    ]
    assert snap.endpoints[1] == catalog_plan.Endpoint(
        'e2', 's-img', 'public', 'B', 'http://glance.b:9292', enabled=False
    )
    entries, _ = catalog_plan.own_entries(snap)
    assert [e['url'] for e in entries] == ['http://glance.test:9292']


def test_without_the_admin_role_the_token_catalog_is_read(
    keystone, requests_mock
):
    _lists(requests_mock)
    requests_mock.get(
        AUTH + '/endpoints',
        status_code=403,
        json={'error': {'code': 403, 'message': 'You are not authorized'}},
    )
    snap = keystone.snapshot()
    entries, _ = catalog_plan.own_entries(snap)
    assert [(e['service_type'], e['region'], e['url']) for e in entries] == [
        ('identity', 'R1', AUTH),
        ('image', 'R1', 'http://glance.test:9292'),
    ]


def test_writes_send_what_keystone_expects(keystone, requests_mock):
    region = requests_mock.post(
        AUTH + '/regions', status_code=201, json={'region': {'id': 'B'}}
    )
    endpoint = requests_mock.post(
        AUTH + '/endpoints', status_code=201, json={'endpoint': {'id': 'x'}}
    )
    update = requests_mock.patch(
        AUTH + '/endpoints/e2', json={'endpoint': {'id': 'e2'}}
    )
    gone = requests_mock.delete(AUTH + '/regions/B', status_code=404)
    keystone.create_region('B', 'sodos: site b')
    keystone.create_endpoint('s-img', 'public', 'B', 'http://glance.b:9292')
    keystone.update_endpoint('e2', 'http://glance.b:9393')
    keystone.delete_region('B')  # gone already is fine
    assert region.last_request.json()['region']['id'] == 'B'
    assert region.last_request.json()['region']['description'] == (
        'sodos: site b'
    )
    body = endpoint.last_request.json()['endpoint']
    # region_id: the legacy "region" would make Keystone create it.
    assert body == {
        'service_id': 's-img',
        'interface': 'public',
        'url': 'http://glance.b:9292',
        'region_id': 'B',
        'enabled': True,
    }
    assert update.last_request.json() == {
        'endpoint': {'url': 'http://glance.b:9393', 'enabled': True}
    }
    assert gone.called


def test_keystone_errors_become_driver_errors(keystone, requests_mock):
    requests_mock.post(
        AUTH + '/regions',
        status_code=409,
        json={'error': {'code': 409, 'message': 'Duplicate ID, B.'}},
    )
    requests_mock.get(AUTH + '/regions', status_code=503, text='down')
    with pytest.raises(
        driver.TransientError, match='creating region B: Conflict'
    ):
        keystone.create_region('B', 'sodos: site b')
    with pytest.raises(driver.TransientError, match='regions: .*503'):
        keystone.regions()
