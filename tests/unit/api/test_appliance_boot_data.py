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

"""An appliance's public key, user data and metadata: kept when right,
refused naming the field (and nothing committed) when not."""

import copy

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from sodos.domain import appliance

SPEC = {
    'name': 'shop',
    'members': [{'name': 'web', 'image': 'cirros', 'flavor': 'm1.small'}],
}


def _keys():
    key = ed25519.Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    return public.decode(), private.decode()


PUBLIC, PRIVATE = _keys()


def test_the_key_user_data_and_metadata_are_kept(client, fed):
    spec = dict(
        SPEC,
        public_key='  %s me@laptop\n' % PUBLIC,
        user_data='#cloud-config\nhostname: web\n',
        metadata={'tier': 'web'},
    )
    status, body, _ = client.post('/v1/appliances', {'appliance': spec})
    assert status == 201, body
    kept = fed.read('appliances')[body['appliance']['id']]['spec']
    assert kept['public_key'] == PUBLIC + ' me@laptop'
    assert kept['user_data'] == spec['user_data']
    assert kept['metadata'] == {'tier': 'web'}


_, _BLOB = PUBLIC.split()


@pytest.mark.parametrize(
    'extra, words',
    [
        ({'public_key': PRIVATE}, ['body.appliance.public_key', 'private']),
        ({'public_key': 'hello'}, ['body.appliance.public_key', 'OpenSSH']),
        (
            {'public_key': 'ssh-ed25519 not*base64'},
            ['body.appliance.public_key', 'base64'],
        ),
        (
            {'public_key': 'ssh-rsa ' + _BLOB},
            ['body.appliance.public_key', 'not a ssh-rsa key'],
        ),
        (
            {'user_data': 'x' * (appliance.MAX_USER_DATA + 1)},
            ['body.appliance.user_data', str(appliance.MAX_USER_DATA)],
        ),
        (
            {'metadata': {'sodos:appliance': 'x'}},
            ['body.appliance.metadata', 'sodos:appliance'],
        ),
        ({'metadata': {'k': 'v' * 256}}, ['body.appliance.metadata']),
        ({'metadata': {'k': 1}}, ['body.appliance.metadata']),
        ({'project_id': 'no spaces'}, ['body.appliance.project_id']),
    ],
)
def test_bad_boot_data_is_400_and_changes_nothing(client, fed, extra, words):
    before = fed.read()
    status, body, _ = client.post(
        '/v1/appliances', {'appliance': dict(SPEC, **extra)}
    )
    assert status == 400, body
    assert body['error']['code'] == 'invalid_body'
    for word in words:
        assert word in body['error']['message']
    assert PRIVATE not in body['error']['message']
    assert fed.read() == before


def test_validation_leaves_the_callers_spec_as_it_was():
    given = {
        'name': 'shop',
        'members': [{'name': 'web', 'image': 'cirros', 'flavor': 'm1.small'}],
        'metadata': {'tier': 'web'},
        'constraints': {'sites': ['s1', 's2']},
    }
    before = copy.deepcopy(given)
    valid = appliance.validate(given)
    valid['members'][0]['image'] = 'debian'
    valid['metadata']['tier'] = 'db'
    valid['constraints']['sites'].append('s3')
    assert given == before  # no defaults written into it, nothing shared
    assert valid['members'][0]['count'] == 1
