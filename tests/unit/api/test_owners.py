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

"""The owners' API and who may change what: an owner's admins, the
federation admin, everyone else."""

import pytest
from keystoneauth1 import fixture as ks_fixture
from keystonemiddleware import fixture as ksm_fixture

from tests.unit.api.conftest import Client

ORG_A, ORG_B = 'orga', 'orgb'
# who -> (role, domain of the token's project, of the admin project)
WHO = {
    'federation-admin': ('admin', 'cloud', True),
    'admin@a': ('admin', ORG_A, False),
    'member@a': ('member', ORG_A, False),
    'admin@b': ('admin', ORG_B, False),
    'reader@b': ('reader', ORG_B, False),
}
OTHERS = ('member@a', 'admin@b', 'reader@b')


@pytest.fixture
def tokens():
    fixture = ksm_fixture.AuthTokenFixture()
    fixture.setUp()
    for who, (role, domain, admin_project) in WHO.items():
        token = ks_fixture.V3Token(
            user_id=who,
            user_name=who,
            project_id='%s-project' % domain,
            project_domain_id=domain,
        )
        token.add_role(name=role)
        token.is_admin_project = admin_project
        fixture.add_token(token, token_id='tok-' + who)
    yield {who: 'tok-' + who for who in WHO}
    fixture.cleanUp()


@pytest.fixture
def fed(fed):
    """'here' owned by A, s2 by B, s3 by no one."""
    for site, owner in (('here', ORG_A), ('s2', ORG_B)):
        result = fed.propose(
            'site.profile', {'site': site, 'profile': {'owner': owner}}
        )
        assert result['ok']
    return fed


@pytest.fixture
def as_(make_app, fed, tokens):
    app = make_app('keystone')
    return lambda who: Client(app, token=tokens[who])


def patch(client, path, body):
    return client('PATCH', path, body=body)


def test_owners_are_listed_with_their_sites_and_policies(as_):
    status, body, _ = as_('reader@b').get('/v1/owners')
    assert status == 200, body
    rows = {row['owner']: row for row in body['owners']}
    assert sorted(rows) == [ORG_A, ORG_B]
    assert rows[ORG_A]['sites'] == ['here']
    assert rows[ORG_A]['policy']['admit_owners'] == ['*']
    status, body, _ = as_('reader@b').get('/v1/owners/' + ORG_B)
    assert status == 200
    assert body['owner']['sites'] == ['s2']


def test_an_unknown_owner_is_404(as_):
    status, body, _ = as_('reader@b').get('/v1/owners/orgz')
    assert status == 404
    assert "no owner 'orgz'" in body['error']['message']


@pytest.mark.parametrize('who', ['admin@a', 'federation-admin'])
def test_an_owners_admin_or_the_federation_admin_sets_its_policy(
    as_, fed, who
):
    status, body, _ = patch(
        as_(who),
        '/v1/owners/' + ORG_A,
        {'lend_share_pct': 40, 'admit_owners': [ORG_B]},
    )
    assert status == 200, body
    assert body['owner']['policy']['lend_share_pct'] == 40
    assert fed.read('owners')[ORG_A]['policy'] == {
        'lend_share_pct': 40,
        'admit_owners': [ORG_B],
    }


@pytest.mark.parametrize('who', OTHERS)
def test_no_one_else_may(as_, fed, who):
    status, body, _ = patch(
        as_(who), '/v1/owners/' + ORG_A, {'lend_share_pct': 40}
    )
    assert status == 403, body
    assert 'sodos:owner:update' in body['error']['message']
    assert fed.read('owners') == {}


def test_the_weight_is_the_federation_admins(as_, fed):
    status, body, _ = patch(
        as_('admin@a'), '/v1/owners/' + ORG_A, {'weight': 3}
    )
    assert status == 403
    assert 'sodos:owner:update:weight' in body['error']['message']
    assert fed.read('owners') == {}
    status, body, _ = patch(
        as_('federation-admin'), '/v1/owners/' + ORG_A, {'weight': 3}
    )
    assert status == 200, body
    assert body['owner']['policy']['weight'] == 3


def test_null_takes_a_field_back(as_, fed):
    client = as_('admin@a')
    patch(client, '/v1/owners/' + ORG_A, {'lend_share_pct': 40})
    status, body, _ = patch(
        client, '/v1/owners/' + ORG_A, {'lend_share_pct': None}
    )
    assert status == 200, body
    assert body['owner']['policy']['lend_share_pct'] == 100
    assert fed.read('owners')[ORG_A]['policy'] == {}


@pytest.mark.parametrize(
    'body, message',
    [
        (
            {'admit_owners': ['orgz']},
            "policy.admit_owners: unknown owner 'orgz'",
        ),
        ({'admit_owners': [ORG_A]}, 'policy.admit_owners: orga is the owner'),
        ({'lend_share_pct': 150}, 'body.lend_share_pct must be smaller'),
        ({'colour': 'red'}, 'body must not contain'),
        ({}, 'body must contain at least 1'),
    ],
)
def test_bad_input_is_named_and_nothing_is_committed(as_, fed, body, message):
    status, answer, _ = patch(as_('admin@a'), '/v1/owners/' + ORG_A, body)
    assert status == 400, answer
    assert message in answer['error']['message']
    assert fed.read('owners') == {}


def test_a_sites_owner_gives_it_away(as_, fed):
    status, body, _ = patch(as_('admin@b'), '/v1/sites/here', {'owner': ORG_B})
    assert status == 403
    assert 'sodos:site:update:owner' in body['error']['message']
    status, body, _ = patch(as_('admin@a'), '/v1/sites/here', {'owner': ORG_B})
    assert status == 200, body
    assert body['site']['owner'] == ORG_B
    assert fed.read('sites')['here']['info']['profile']['owner'] == ORG_B


def test_a_site_of_no_owner_is_given_by_the_federation_admin(as_, fed):
    status, _, _ = patch(as_('admin@a'), '/v1/sites/s3', {'owner': ORG_A})
    assert status == 403
    status, body, _ = patch(
        as_('federation-admin'), '/v1/sites/s3', {'owner': ORG_A}
    )
    assert status == 200, body
    assert body['site']['owner'] == ORG_A


def test_taking_back_an_owner_override_is_the_owners_too(as_, fed):
    status, _, _ = patch(as_('admin@b'), '/v1/sites/here', {'owner': None})
    assert status == 403
    status, body, _ = patch(as_('admin@a'), '/v1/sites/here', {'owner': None})
    assert status == 200, body
    # The site published no owner itself: it has none now.
    assert body['site']['owner'] is None
