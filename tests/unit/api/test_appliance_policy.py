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

"""Who may do what to which project's appliances: reader, member and
admin of the owner's project and of another, on every appliance route."""

import pytest
from keystonemiddleware import fixture as ksm_fixture

from tests.unit.api.conftest import Client

OWN = '1' * 32
OTHER = '2' * 32
# The global id of OTHER's project as this site ("here") calls it.
OTHER_LOCAL = '3' * 32
MINE = 'a' * 32
THEIRS = 'b' * 32
SPEC = {
    'name': 'shop',
    'members': [{'name': 'web', 'image': 'cirros', 'flavor': 'm1.small'}],
}
ROLES = ('reader', 'member', 'admin')


def project_tokens():
    """keystonemiddleware's fixture (set up) and a token per role in
    each project: ``member@own``, ..."""
    fixture = ksm_fixture.AuthTokenFixture()
    fixture.setUp()
    made = {}
    for project, local in (('own', OWN), ('other', OTHER_LOCAL)):
        for role in ROLES:
            token = made['%s@%s' % (role, project)] = 'tok-%s-%s' % (
                role,
                project,
            )
            fixture.add_token_data(
                token_id=token,
                user_id='%s-%s' % (role, project),
                user_name='%s-%s' % (role, project),
                project_id=local,
                role_list=[role],
            )
    return fixture, made


@pytest.fixture
def tokens():
    fixture, made = project_tokens()
    yield made
    fixture.cleanUp()


def two_projects(kb):
    """Two appliances in ``kb``: MINE owned by OWN, THEIRS by OTHER, a
    project the federation manages (its id at this site differs from
    its global one)."""
    kb.propose(
        'identity.project.put',
        {'project_id': OTHER, 'name': 'other', 'domain_id': 'default'},
    )
    kb.propose(
        'identity.map',
        {
            'site': 'here',
            'set': [
                {'kind': 'projects', 'id': OTHER, 'local_id': OTHER_LOCAL}
            ],
        },
    )
    for aid, owner in ((MINE, OWN), (THEIRS, OTHER)):
        kb.propose(
            'appliance.put',
            {'appliance_id': aid, 'spec': dict(SPEC, project_id=owner)},
        )
    return kb


@pytest.fixture
def fed(fed):
    return two_projects(fed)


@pytest.fixture
def as_(make_app, fed, tokens):
    app = make_app('keystone')
    return lambda who: Client(app, token=tokens[who])


def ids(answer):
    return sorted(row['id'] for row in answer[1]['appliances'])


@pytest.mark.parametrize('role', ROLES)
def test_a_project_lists_its_own_appliances_only(as_, role):
    status, body, _ = as_(role + '@own').get('/v1/appliances')
    assert status == 200, body
    assert ids((status, body)) == [MINE]
    # The other project's token: the global id is matched, not the local.
    assert ids(as_(role + '@other').get('/v1/appliances')) == [THEIRS]


@pytest.mark.parametrize('role', ['reader', 'member'])
def test_only_admins_list_all_projects(as_, fed, role):
    status, body, _ = as_(role + '@own').get(
        '/v1/appliances?all_projects=true'
    )
    assert status == 403, body
    assert 'sodos:appliance:list:all_projects' in body['error']['message']


def test_an_admin_lists_all_projects(as_):
    answer = as_('admin@own').get('/v1/appliances?all_projects=true')
    assert answer[0] == 200
    assert ids(answer) == [MINE, THEIRS]
    owners = {row['id']: row['project_id'] for row in answer[1]['appliances']}
    assert owners == {MINE: OWN, THEIRS: OTHER}


def test_a_bad_all_projects_is_400(as_):
    status, body, _ = as_('admin@own').get('/v1/appliances?all_projects=x')
    assert status == 400
    assert 'all_projects' in body['error']['message']


@pytest.mark.parametrize('role', ROLES)
def test_every_role_shows_its_own_projects_appliance(as_, role):
    status, body, _ = as_(role + '@own').get('/v1/appliances/' + MINE)
    assert status == 200, body
    assert body['appliance']['project_id'] == OWN


@pytest.mark.parametrize('role', ['reader', 'member'])
@pytest.mark.parametrize('method', ['GET', 'DELETE'])
def test_another_projects_appliance_is_404(as_, fed, role, method):
    before = fed.read()
    status, body, _ = as_(role + '@own')(method, '/v1/appliances/' + THEIRS)
    assert status == 404, body
    assert body['error']['code'] == 'not_found'
    assert fed.read() == before


def test_an_admin_shows_another_projects_appliance(as_):
    status, body, _ = as_('admin@own').get('/v1/appliances/' + THEIRS)
    assert status == 200, body
    assert body['appliance']['project_id'] == OTHER


def test_a_reader_cannot_delete_its_own_projects_appliance(as_, fed):
    status, body, _ = as_('reader@own')('DELETE', '/v1/appliances/' + MINE)
    assert status == 403, body
    assert 'sodos:appliance:delete' in body['error']['message']
    assert MINE in fed.read('appliances')


@pytest.mark.parametrize(
    'who, aid',
    [('member@own', MINE), ('admin@own', MINE), ('admin@own', THEIRS)],
)
def test_members_and_admins_delete(as_, fed, who, aid):
    status, body, _ = as_(who)('DELETE', '/v1/appliances/' + aid)
    assert status == 204, body
    assert aid not in fed.read('appliances')


def test_a_reader_cannot_create(as_, fed):
    before = fed.read('appliances')
    status, body, _ = as_('reader@own').post(
        '/v1/appliances', {'appliance': SPEC}
    )
    assert status == 403, body
    assert 'sodos:appliance:create' in body['error']['message']
    assert fed.read('appliances') == before


@pytest.mark.parametrize(
    'who, owner',
    [('member@own', OWN), ('admin@own', OWN), ('member@other', OTHER)],
)
def test_an_appliance_belongs_to_the_creators_project(as_, fed, who, owner):
    status, body, _ = as_(who).post('/v1/appliances', {'appliance': SPEC})
    assert status == 201, body
    aid = body['appliance']['id']
    assert body['appliance']['project_id'] == owner
    assert fed.read('appliances')[aid]['spec']['project_id'] == owner


@pytest.mark.parametrize(
    'role, words',
    [
        # A reader may not create at all; a member not for another project.
        ('reader', 'sodos:appliance:create does not allow'),
        ('member', 'body.appliance.project_id'),
    ],
)
def test_only_admins_name_another_project(as_, fed, role, words):
    before = fed.read('appliances')
    status, body, _ = as_(role + '@own').post(
        '/v1/appliances', {'appliance': dict(SPEC, project_id=OTHER)}
    )
    assert status == 403, body
    assert words in body['error']['message']
    assert fed.read('appliances') == before


@pytest.mark.parametrize('named', [OTHER, OTHER_LOCAL])
def test_an_admin_names_another_project(as_, fed, named):
    status, body, _ = as_('admin@own').post(
        '/v1/appliances', {'appliance': dict(SPEC, project_id=named)}
    )
    assert status == 201, body
    assert body['appliance']['project_id'] == OTHER
    # ... and the other project's member now sees it.
    listed = ids(as_('member@other').get('/v1/appliances'))
    assert body['appliance']['id'] in listed


def test_a_project_the_federation_does_not_know_is_400(as_, fed):
    before = fed.read('appliances')
    status, body, _ = as_('admin@own').post(
        '/v1/appliances', {'appliance': dict(SPEC, project_id='9' * 32)}
    )
    assert status == 400, body
    assert 'body.appliance.project_id' in body['error']['message']
    assert fed.read('appliances') == before


def test_an_appliance_from_before_ownership_is_the_admins(as_, fed):
    legacy = 'c' * 32
    fed.propose('appliance.put', {'appliance_id': legacy, 'spec': SPEC})
    assert legacy not in ids(as_('member@own').get('/v1/appliances'))
    assert as_('member@own').get('/v1/appliances/' + legacy)[0] == 404
    status, body, _ = as_('admin@own').get('/v1/appliances/' + legacy)
    assert status == 200 and body['appliance']['project_id'] is None
    assert legacy in ids(as_('admin@own').get('/v1/appliances?all_projects=1'))


@pytest.mark.parametrize(
    'who, expected', [('member@own', [MINE]), ('admin@own', [MINE, THEIRS])]
)
def test_a_what_if_shows_the_callers_appliances_only(as_, fed, who, expected):
    for aid in (MINE, THEIRS):
        fed.propose(
            'placement.set',
            {'appliance_id': aid, 'member': 'web-0', 'site': 's2'},
        )
    status, body, _ = as_(who).post('/v1/whatif', {'fail_sites': ['s2']})
    assert status == 200, body
    report = body['whatif']
    assert sorted(a['id'] for a in report['affected_appliances']) == expected
    seen = {m['appliance_id'] for m in report['moves']} | {
        u['appliance_id'] for u in report['unplaceable']
    }
    assert seen == set(expected)


def patch(client, aid, changes):
    return client('PATCH', '/v1/appliances/' + aid, {'appliance': changes})


@pytest.mark.parametrize('role', ['reader', 'member'])
def test_another_projects_appliance_is_404_to_an_update(as_, fed, role):
    before = fed.read()
    status, body, _ = patch(as_(role + '@own'), THEIRS, {'priority': 90})
    assert status == 404, body
    assert body['error']['code'] == 'not_found'
    assert fed.read() == before


def test_a_reader_cannot_update_its_own_projects_appliance(as_, fed):
    before = fed.read()
    status, body, _ = patch(as_('reader@own'), MINE, {'priority': 90})
    assert status == 403, body
    assert 'sodos:appliance:update' in body['error']['message']
    assert fed.read() == before


@pytest.mark.parametrize(
    'who, aid',
    [
        ('member@own', MINE),
        ('admin@own', MINE),
        ('admin@own', THEIRS),
        ('member@other', THEIRS),
    ],
)
def test_members_and_admins_update(as_, fed, who, aid):
    status, body, _ = patch(as_(who), aid, {'priority': 90})
    assert status == 200, body
    assert body['appliance']['spec']['priority'] == 90
    record = fed.read('appliances')[aid]
    assert record['spec']['priority'] == 90
    # The owner stays, as the KB names it.
    assert record['spec']['project_id'] == (OWN if aid == MINE else OTHER)


@pytest.mark.parametrize('named', [OWN, OTHER_LOCAL, OTHER])
def test_an_update_naming_the_project_it_has_changes_nothing_of_it(
    as_, fed, named
):
    # OTHER's appliance, by its member: the token's id or the KB's.
    aid, who = (
        (MINE, 'member@own') if named == OWN else (THEIRS, 'member@other')
    )
    status, body, _ = patch(
        as_(who), aid, {'project_id': named, 'priority': 1}
    )
    assert status == 200, body
    assert fed.read('appliances')[aid]['spec']['project_id'] in (OWN, OTHER)


@pytest.mark.parametrize('who', ['member@own', 'admin@own'])
def test_no_one_moves_an_appliance_to_another_project(as_, fed, who):
    before = fed.read()
    status, body, _ = patch(as_(who), MINE, {'project_id': OTHER})
    assert status == 400, body
    assert 'body.appliance.project_id' in body['error']['message']
    assert fed.read() == before
