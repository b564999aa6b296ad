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

"""PATCH /v1/appliances/{id}: what may change while an appliance runs
is changed and committed; anything else is a 400 naming the field, with
nothing committed."""

import pytest

from tests.unit.api.test_appliance_boot_data import PRIVATE
from tests.unit.api.test_appliance_boot_data import PUBLIC

NET = {'name': 'appnet', 'cidr': '10.20.0.0/24'}
SPEC = {
    'name': 'shop',
    'metadata': {'tier': 'web', 'team': 'blue'},
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


@pytest.fixture
def aid(client):
    status, body, _ = client.post('/v1/appliances', {'appliance': SPEC})
    assert status == 201, body
    return body['appliance']['id']


def patch(client, aid, changes, raw=None):
    if raw is not None:
        return client('PATCH', '/v1/appliances/' + aid, raw=raw)
    return client('PATCH', '/v1/appliances/' + aid, {'appliance': changes})


def test_a_count_priority_and_key_change_is_committed(client, fed, aid):
    before = fed.read('appliances')[aid]
    member = dict(SPEC['members'][0], count=3)
    status, body, _ = patch(
        client,
        aid,
        {'members': [member], 'priority': 80, 'public_key': PUBLIC},
    )
    assert status == 200, body
    record = fed.read('appliances')[aid]
    assert record['spec']['members'][0]['count'] == 3
    assert record['spec']['priority'] == 80
    assert record['spec']['public_key'] == PUBLIC
    assert record['created_at'] == before['created_at']
    assert record['updated_at'] >= before['updated_at']
    # The new member is shown, not placed yet.
    assert [m['member'] for m in body['appliance']['members']] == [
        'web-0',
        'web-1',
        'web-2',
    ]


def test_mappings_merge_and_null_takes_a_key_back(client, fed, aid):
    status, body, _ = patch(
        client,
        aid,
        {
            'metadata': {'team': None, 'tier': 'db'},
            'constraints': {'spread': None, 'headroom_pct': 10},
        },
    )
    assert status == 200, body
    spec = fed.read('appliances')[aid]['spec']
    assert spec['metadata'] == {'tier': 'db'}
    # spread back to its default, the rest of the constraints kept.
    assert spec['constraints']['spread'] == 1
    assert spec['constraints']['headroom_pct'] == 10
    assert spec['networks'] == [NET]


def test_a_member_replaced_by_another_name_is_a_new_flavor(client, fed, aid):
    member = dict(SPEC['members'][0], name='web2', flavor='m1.medium')
    status, body, _ = patch(client, aid, {'members': [member]})
    assert status == 200, body
    members = fed.read('appliances')[aid]['spec']['members']
    assert [(m['name'], m['flavor']) for m in members] == [
        ('web2', 'm1.medium')
    ]


def test_the_whole_spec_sent_back_changes_nothing(client, fed, aid):
    shown = client.get('/v1/appliances/' + aid)[1]['appliance']['spec']
    before = fed.read('appliances')[aid]
    status, body, _ = patch(client, aid, shown)
    assert status == 200, body
    assert fed.read('appliances')[aid] == before


def _member(**changes):
    return [dict(SPEC['members'][0], **changes)]


@pytest.mark.parametrize(
    'changes, words',
    [
        ({'priority': 101}, 'body.appliance.priority'),
        ({'members': _member(count=0)}, 'body.appliance.members[0].count'),
        ({'members': []}, 'body.appliance.members'),
        ({'name': None}, "body.appliance must contain ['name']"),
        ({'colour': 'red'}, 'body.appliance must not contain'),
        ({'public_key': PRIVATE}, 'body.appliance.public_key'),
        ({'user_data': 'x' * 40000}, 'body.appliance.user_data'),
        ({'metadata': {'sodos:x': 'y'}}, 'body.appliance.metadata'),
        (
            {'members': _member(flavor='m1.medium')},
            'body.appliance.members[0].flavor: member web runs with flavor '
            'm1.small',
        ),
        (
            {'members': _member(image='ubuntu')},
            'body.appliance.members[0].image',
        ),
        (
            {'members': _member(networks=[])},
            'body.appliance.members[0].networks',
        ),
        (
            {'networks': [dict(NET, cidr='10.30.0.0/24')]},
            'body.appliance.networks: the networks cannot change live',
        ),
        (
            {'members': _member(count=3), 'constraints': {'spread': 3}},
            'body.appliance.constraints.spread: raising it from 2 to 3',
        ),
        (
            {'constraints': {'spread': 1, 'affinity': True}},
            'body.appliance.constraints.affinity',
        ),
        (
            {'constraints': {'spread': 5}},
            'body.appliance.constraints.spread 5 needs at least 5 servers',
        ),
    ],
)
def test_a_bad_update_is_400_naming_the_field(
    client, fed, aid, changes, words
):
    before = fed.read()
    status, body, _ = patch(client, aid, changes)
    assert status == 400, body
    assert body['error']['code'] == 'invalid_body'
    assert words in body['error']['message']
    assert fed.read() == before


@pytest.mark.parametrize(
    'body, words',
    [
        ({}, "body must contain ['appliance']"),
        ({'appliance': {}}, 'body.appliance must contain at least 1'),
        ({'appliance': []}, 'body.appliance must be object'),
    ],
)
def test_an_empty_or_malformed_update_is_400(client, fed, aid, body, words):
    before = fed.read()
    status, answer, _ = client('PATCH', '/v1/appliances/' + aid, body)
    assert status == 400, answer
    assert words in answer['error']['message']
    assert fed.read() == before


def test_an_update_that_no_site_can_meet_is_409(client, fed, aid):
    before = fed.read()
    status, body, _ = patch(
        client, aid, {'constraints': {'sites': ['s2', 'nope']}}
    )
    assert status == 409, body
    assert 'constraints.sites: no site named nope' in body['error']['message']
    assert fed.read() == before


def test_an_unknown_appliance_is_404(client, fed):
    status, body, _ = patch(client, 'f' * 32, {'priority': 1})
    assert status == 404, body
    assert body['error']['code'] == 'not_found'


def test_a_site_of_older_code_holds_the_change_back_with_a_409(
    client, fed, aid
):
    # s2 registers again as a site of the release before appliance.update
    # existed (no kb_schema published).
    older = {'site': 's2', 'address': 'h:2'}
    assert fed.propose('site.register', older)['ok']
    before = fed.read('appliances')[aid]
    status, body, _ = patch(client, aid, {'priority': 80})
    assert status == 409, body
    assert 'run 1 (s2): upgrade sodos there first' in str(body)
    assert fed.read('appliances')[aid] == before
    status, body, _ = client.get('/v1/sites/s2')
    assert body['site']['kb_schema'] == 1
