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

"""The image routes of the REST API, over the in-memory KB: images are
registered from what a site's monitoring summary says of them."""

import pytest

from tests.unit.analyseplan.kbviews import site as site_view
from tests.unit.api.conftest import Client
from tests.unit.api.test_api import assert_error

IMAGE = '6f1c2b9e-3a4d-4e5f-8a7b-9c0d1e2f3a4b'
OTHER = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d'
HASH = 'ab' * 64
DETAILS = {
    'name': 'golden',
    'status': 'active',
    'size': 4194304,
    'os_hash_algo': 'sha512',
    'os_hash_value': HASH,
    'checksum': 'cd' * 16,
    'disk_format': 'qcow2',
    'container_format': 'bare',
    'min_disk': 1,
    'min_ram': 64,
    'visibility': 'public',
    'tags': ['gold'],
    'properties': {'os_distro': 'cirros', 'hw_disk_bus': 'scsi'},
}


def report_images(fed, name, **images):
    """Site ``name`` reports these image_details (id -> details)."""
    _, _, summary = site_view(name)
    summary['collected_at'] = 1.0
    summary['image_details'] = {
        image_id.replace('_', '-'): details
        for image_id, details in images.items()
    }
    assert fed.propose(
        'monitoring.report', {'site': name, 'summary': summary}
    )['ok']


@pytest.fixture
def at_s2(fed):
    report_images(fed, 's2', **{IMAGE: dict(DETAILS)})
    return fed


def register(client, target=None, **extra):
    image = {'id': IMAGE}
    if target is not None:
        image['target'] = target
    image.update(extra)
    return client.post('/v1/images', {'image': image})


def by_site(detail):
    return {row['site']: row for row in detail['sites']}


def test_register_takes_the_image_from_the_site_that_has_it(client, at_s2):
    status, body, headers = register(client, {'kind': 'all'})
    assert status == 201, body
    assert headers['Location'].endswith('/v1/images/' + IMAGE)
    entry = at_s2.read('images')[IMAGE]
    assert entry['origin_site'] == 's2'
    assert entry['target'] == {'kind': 'all'}
    for key in ('name', 'size', 'os_hash_value', 'checksum', 'disk_format'):
        assert entry[key] == DETAILS[key]
    assert entry['metadata'] == {
        k: DETAILS[k]
        for k in ('min_disk', 'min_ram', 'visibility', 'tags', 'properties')
    }
    image = body['image']
    assert image['site_states'] == {
        'present': 1,
        'copying': 0,
        'failed': 0,
        'absent': 2,
        'deleting': 0,
        'desired': 3,
        'desired_present': 1,
    }
    sites = by_site(image)
    assert sites['s2']['state'] == 'present'
    assert sites['s3'] == {
        'site': 's3',
        'state': 'absent',
        'desired': True,
        'detail': '',
        'action': None,
    }
    assert client.get('/v1/images')[1]['images'][0]['id'] == IMAGE


def test_metadata_in_the_body_replaces_the_sites(client, at_s2):
    status, body, _ = register(
        client,
        metadata={'min_ram': 128, 'properties': {'os_distro': 'ubuntu'}},
    )
    assert status == 201, body
    metadata = at_s2.read('images')[IMAGE]['metadata']
    assert metadata['min_ram'] == 128
    assert metadata['properties'] == {'os_distro': 'ubuntu'}
    assert metadata['tags'] == ['gold']  # left out: as the site has it
    # No target: only where members need it.
    assert body['image']['target'] == {'kind': 'needed'}
    assert body['image']['site_states']['desired'] == 0


def test_an_image_no_site_has_active_is_404(client, fed):
    report_images(fed, 's3', **{IMAGE: dict(DETAILS, status='queued')})
    before = fed.read()
    answer = register(client, {'kind': 'all'})
    assert_error(answer, 404, 'not_found', IMAGE, 'queued at site s3')
    assert fed.read() == before


def test_an_image_registered_already_is_409(client, at_s2):
    assert register(client)[0] == 201
    before = at_s2.read()
    answer = register(client, {'kind': 'all'})
    assert_error(answer, 409, 'conflict', 'registered already', '/target')
    assert at_s2.read() == before


def test_two_contents_under_one_id_are_409(client, at_s2):
    report_images(
        at_s2, 's3', **{IMAGE: dict(DETAILS, os_hash_value='ef' * 64)}
    )
    before = at_s2.read()
    answer = register(client, {'kind': 'all'})
    assert_error(answer, 409, 'conflict', 'different contents', 's2, s3')
    assert at_s2.read() == before


def test_metadata_the_registry_cannot_take_must_be_given(client, fed):
    details = dict(DETAILS, properties={'long': 'x' * 300})
    report_images(fed, 's2', **{IMAGE: details})
    answer = register(client)
    assert_error(answer, 409, 'conflict', 'metadata.properties.long')
    assert fed.read('images') == {}
    metadata = {
        'min_disk': 0,
        'min_ram': 0,
        'visibility': 'public',
        'tags': [],
        'properties': {},
    }
    assert register(client, metadata=metadata)[0] == 201


@pytest.mark.parametrize(
    'body, words',
    [
        ({}, ['body must contain', 'image']),
        ({'image': {}}, ['body.image must contain', 'id']),
        ({'image': {'id': 'not-a-uuid'}}, ['body.image.id']),
        ({'image': {'id': IMAGE, 'size': 1}}, ['body.image must not']),
        (
            {'image': {'id': IMAGE, 'target': {'kind': 'some'}}},
            ['body.image.target.kind'],
        ),
        (
            {'image': {'id': IMAGE, 'target': {'kind': 'sites'}}},
            ['body.image.target', 'sites'],
        ),
        (
            {'image': {'id': IMAGE, 'metadata': {'min_ram': -1}}},
            ['body.image.metadata.min_ram'],
        ),
    ],
)
def test_bad_bodies_are_400_and_change_nothing(client, at_s2, body, words):
    before = at_s2.read()
    answer = client.post('/v1/images', body)
    assert_error(answer, 400, 'invalid_body', *words)
    assert at_s2.read() == before


def test_target_changes(client, at_s2):
    assert register(client)[0] == 201
    status, body, _ = client(
        'PUT',
        '/v1/images/%s/target' % IMAGE,
        body={'target': {'kind': 'sites', 'sites': ['s3', 'here']}},
    )
    assert status == 200, body
    assert body['image']['target'] == {
        'kind': 'sites',
        'sites': ['here', 's3'],
    }
    desired = {r['site']: r['desired'] for r in body['image']['sites']}
    assert desired == {'here': True, 's2': False, 's3': True}
    before = at_s2.read()
    answer = client(
        'PUT',
        '/v1/images/%s/target' % IMAGE,
        body={'target': {'kind': 'sites', 'sites': ['nowhere']}},
    )
    assert_error(answer, 409, 'conflict', 'unknown site(s) nowhere')
    answer = client('PUT', '/v1/images/%s/target' % IMAGE, body={})
    assert_error(answer, 400, 'invalid_body', 'target')
    assert at_s2.read() == before


@pytest.mark.parametrize('image_id', [OTHER, 'nope', IMAGE.upper()])
def test_unknown_images_are_404(client, at_s2, image_id):
    assert register(client)[0] == 201
    before = at_s2.read()
    for method, body in (('GET', None), ('DELETE', None)):
        answer = client(method, '/v1/images/' + image_id, body=body)
        assert_error(answer, 404, 'not_found', image_id)
    answer = client(
        'PUT',
        '/v1/images/%s/target' % image_id,
        body={'target': {'kind': 'all'}},
    )
    assert_error(answer, 404, 'not_found')
    assert at_s2.read() == before


def test_delete_marks_the_image_deleting(client, at_s2):
    assert register(client, {'kind': 'all'})[0] == 201
    status, body, _ = client('DELETE', '/v1/images/' + IMAGE)
    assert (status, body) == (204, None)
    assert at_s2.read('images')[IMAGE]['state'] == 'deleting'
    image = client.get('/v1/images/' + IMAGE)[1]['image']
    assert image['state'] == 'deleting'
    assert by_site(image)['s2']['detail'] == 'to be deleted'
    assert not any(row['desired'] for row in image['sites'])
    # Again: nothing more to do.
    assert client('DELETE', '/v1/images/' + IMAGE)[0] == 204
    answer = client(
        'PUT', '/v1/images/%s/target' % IMAGE, body={'target': {'kind': 'all'}}
    )
    assert_error(answer, 409, 'conflict', 'being deleted')


def test_copies_and_failures_per_site(client, at_s2):
    assert register(client, {'kind': 'all'})[0] == 201
    at_s2.propose(
        'action.put',
        {
            'action_id': 'c' * 32,
            'site': 's3',
            'kind': 'image.copy',
            'params': {'image_id': IMAGE, 'source_site': 's2'},
        },
    )
    at_s2.propose('action.update', {'action_id': 'c' * 32, 'state': 'running'})
    at_s2.propose(
        'image.site_failed',
        {'image_id': IMAGE, 'site': 'here', 'reason': 'hash mismatch'},
    )
    image = client.get('/v1/images/' + IMAGE)[1]['image']
    sites = by_site(image)
    assert sites['s3']['state'] == 'copying'
    assert sites['s3']['action'] == {
        'id': 'c' * 32,
        'kind': 'image.copy',
        'state': 'running',
        'source_site': 's2',
    }
    assert sites['here']['state'] == 'failed'
    assert sites['here']['detail'] == 'hash mismatch'
    assert sites['here']['desired'] is False
    # The copy is done: s3 holds it before its next summary says so.
    at_s2.propose(
        'action.update',
        {
            'action_id': 'c' * 32,
            'state': 'done',
            'result': {'image_id': IMAGE, 'os_hash_value': HASH},
        },
    )
    row = client.get('/v1/images')[1]['images'][0]
    assert row['site_states']['present'] == 2
    assert row['site_states']['failed'] == 1
    assert row['site_states']['desired_present'] == 2


@pytest.fixture
def keystone_app(make_app, fed, tokens):
    return make_app('keystone')


@pytest.mark.parametrize('role', ['reader', 'member'])
def test_readers_read_but_cannot_write(keystone_app, tokens, at_s2, role):
    client = Client(keystone_app, token=tokens[role])
    assert client.get('/v1/images')[0] == 200
    before = at_s2.read()
    for method, path, body in (
        ('POST', '/v1/images', {'image': {'id': IMAGE}}),
        ('PUT', '/v1/images/%s/target' % IMAGE, {'target': {'kind': 'all'}}),
        ('DELETE', '/v1/images/' + IMAGE, None),
    ):
        answer = client(method, path, body=body)
        assert_error(answer, 403, 'forbidden', 'sodos:image:')
    assert at_s2.read() == before
    admin = Client(keystone_app, token=tokens['admin'])
    assert register(admin)[0] == 201
