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

"""What a tenant reads of the federation behind its appliances: sites
as labels unless the operator shows their names, sharing reasons
without the owners they name, and no alert about another project's
appliance."""

import pytest

from sodos.analyseplan import notices
from sodos.analyseplan import role as analyseplan_role
from sodos.api import tenant_view
from tests.unit.api.conftest import Client
from tests.unit.api.test_appliance_policy import MINE
from tests.unit.api.test_appliance_policy import OWN
from tests.unit.api.test_appliance_policy import SPEC
from tests.unit.api.test_appliance_policy import THEIRS
from tests.unit.api.test_appliance_policy import project_tokens
from tests.unit.api.test_appliance_policy import two_projects

FED = 'f' * 32
DRIFT = 'd' * 32
DOWN = 'e' * 32
NAMES = ('here', 's2', 's3')
REASON = (
    'new; no site can take it: here: owner dom1 does not admit owner '
    'dom2; s2: no room for m1.small (vcpu: needs 1, 0 free); s3: owner '
    'dom1 lends 4 vcpu, guests use 4'
)


def unplaced(aid, member):
    return analyseplan_role.unplaced_alert_id('%s/%s' % (aid, member))


def raise_alert(kb, alert_id, kind, message, site='here'):
    answer = kb.propose(
        'alert.raise',
        {
            'alert_id': alert_id,
            'site': site,
            'kind': kind,
            'severity': 'warning',
            'message': message,
        },
    )
    assert answer['ok'], answer


@pytest.fixture
def world(fed):
    """MINE: web-0 on s2, web-1 unplaced with the planner's reason;
    alerts about both projects, a site and the identity."""
    two_projects(fed)
    fed.propose('federation.init', {'federation_id': FED, 'voter_count': 5})
    spec = dict(
        SPEC,
        project_id=OWN,
        members=[dict(SPEC['members'][0], count=2)],
        constraints={'sites': ['s2', 's3']},
    )
    fed.propose('appliance.put', {'appliance_id': MINE, 'spec': spec})
    fed.propose(
        'placement.set',
        {'appliance_id': MINE, 'member': 'web-0', 'site': 's2'},
    )
    for aid in (MINE, THEIRS):
        raise_alert(
            fed,
            unplaced(aid, 'web-1' if aid == MINE else 'web-0'),
            'unplaced',
            'member %s/web cannot be placed: %s' % (aid, REASON),
        )
    raise_alert(fed, DOWN, 'site_down', 'site s3 is down', site='s3')
    raise_alert(fed, DRIFT, 'identity_drift', 'project p9 drifted at s2')
    return fed


@pytest.fixture
def as_(make_app, world):
    fixture, tokens = project_tokens()
    app = make_app('keystone')
    yield lambda who: Client(app, token=tokens[who])
    fixture.cleanUp()


def label(site):
    return tenant_view.label(FED, site)


def members(client, aid=MINE):
    status, body, _ = client.get('/v1/appliances/' + aid)
    assert status == 200, body
    return body['appliance']


def test_a_tenant_sees_sites_as_labels_and_owners_unnamed(as_, world):
    shown = members(as_('member@own'))
    placed, waiting = shown['members']
    assert placed['site'] == label('s2')
    assert placed['site'] != label('s3')
    reason = waiting['reason']
    assert waiting['state'] == 'unplaced'
    assert reason.startswith('new; no site can take it: %s: ' % label('here'))
    assert "the site's owner does not admit it" in reason
    assert "%s: the site's owner lends no more room" % label('s3') in reason
    for secret in NAMES + ('dom1', 'dom2'):
        assert secret not in reason.replace(label('s2'), '')
    assert shown['spec']['constraints']['sites'] == [label('s2'), label('s3')]


def test_labels_are_opaque_stable_and_distinct():
    labels = {tenant_view.label(FED, name) for name in NAMES}
    assert len(labels) == 3
    assert all(lab.startswith('site-') and len(lab) == 15 for lab in labels)
    assert tenant_view.label(FED, 's2') == tenant_view.label(FED, 's2')
    # Keyed by the federation: another federation's labels differ.
    assert tenant_view.label('0' * 32, 's2') != tenant_view.label(FED, 's2')


def test_the_operator_may_show_site_names(as_, world, conf):
    conf.set_override('expose_site_names_to_tenants', True, 'api')
    placed, waiting = members(as_('member@own'))['members']
    assert placed['site'] == 's2'
    assert waiting['reason'].startswith('new; no site can take it: here: ')
    # Other organisations stay unnamed all the same.
    assert 'dom1' not in waiting['reason']


def test_an_admin_sees_names_and_the_reason_as_written(as_, world):
    placed, waiting = members(as_('admin@own'))['members']
    assert placed['site'] == 's2'
    assert waiting['reason'] == REASON


def test_a_tenant_names_a_site_by_its_label(as_, world):
    client = as_('member@own')
    spec = dict(SPEC, name='other', constraints={'sites': [label('s3')]})
    status, body, _ = client.post('/v1/appliances', {'appliance': spec})
    assert status == 201, body
    aid = body['appliance']['id']
    assert world.read('appliances')[aid]['spec']['constraints']['sites'] == [
        's3'
    ]
    assert body['appliance']['spec']['constraints']['sites'] == [label('s3')]
    status, body, _ = client(
        'PATCH',
        '/v1/appliances/' + aid,
        {'appliance': {'constraints': {'sites': [label('s2')]}}},
    )
    assert status == 200, body
    assert world.read('appliances')[aid]['spec']['constraints']['sites'] == [
        's2'
    ]


def test_a_refusal_names_no_site_to_a_tenant(as_, world):
    before = world.read('appliances')
    spec = dict(SPEC, constraints={'sites': ['nowhere']})
    status, body, _ = as_('member@own').post(
        '/v1/appliances', {'appliance': spec}
    )
    assert status == 409, body
    message = body['error']['message']
    assert 'no site named nowhere' in message
    assert label('s2') in message
    assert not any(' %s' % name in message for name in ('s2', 's3'))
    assert world.read('appliances') == before


def alert_ids(client):
    status, body, _ = client.get('/v1/alerts')
    assert status == 200, body
    return {row['id']: row for row in body['alerts']}


def test_a_tenant_sees_its_own_unplaced_alerts_and_the_sites_health(
    as_,
    world,
):
    rows = alert_ids(as_('member@own'))
    assert set(rows) == {unplaced(MINE, 'web-1'), DOWN}
    assert rows[DOWN]['site'] == label('s3')
    assert rows[DOWN]['message'] == 'site %s is down' % label('s3')
    message = rows[unplaced(MINE, 'web-1')]['message']
    assert 'dom1' not in message and ' s2:' not in message
    # The other project's member sees its own, not this one's.
    assert set(alert_ids(as_('reader@other'))) == {
        unplaced(THEIRS, 'web-0'),
        DOWN,
    }


def test_another_projects_alert_is_404_to_a_tenant(as_, world):
    for alert_id in (unplaced(THEIRS, 'web-0'), DRIFT):
        status, body, _ = as_('member@own').get('/v1/alerts/' + alert_id)
        assert status == 404, body
    status, body, _ = as_('member@own').get('/v1/alerts/' + DOWN)
    assert status == 200 and body['alert']['site'] == label('s3')


def test_an_admin_sees_every_alert_as_raised(as_, world):
    rows = alert_ids(as_('admin@own'))
    assert set(rows) == {
        unplaced(MINE, 'web-1'),
        unplaced(THEIRS, 'web-0'),
        DOWN,
        DRIFT,
    }
    assert rows[DOWN]['message'] == 'site s3 is down'
    assert REASON in rows[unplaced(THEIRS, 'web-0')]['message']


def test_a_tenants_what_if_names_sites_by_label(as_, world):
    status, body, _ = as_('member@own').post(
        '/v1/whatif', {'fail_sites': [label('s2')]}
    )
    assert status == 200, body
    report = body['whatif']
    moved = {m['member']: m for m in report['moves']}
    assert moved['web-0']['from'] == label('s2')
    assert moved['web-0']['to'] in (label('here'), label('s3'))
    assert not set(report['capacity_left']) & set(NAMES)


@pytest.mark.parametrize(
    'who, aid', [('member@own', MINE), ('member@other', THEIRS)]
)
def test_the_spec_a_tenant_was_shown_sent_back_changes_nothing(
    as_, world, who, aid
):
    client = as_(who)
    # The fixture's specs were written without their defaults: a first
    # change fills them in.
    status, body, _ = client(
        'PATCH', '/v1/appliances/' + aid, {'appliance': {'priority': 50}}
    )
    assert status == 200, body
    shown = members(client, aid)['spec']
    before = world.read('appliances')[aid]
    if aid == MINE:
        assert shown['constraints']['sites'] == [label('s2'), label('s3')]
    status, body, _ = client(
        'PATCH', '/v1/appliances/' + aid, {'appliance': shown}
    )
    assert status == 200, body
    assert world.read('appliances')[aid] == before


def test_a_tenant_is_told_of_its_own_reclaimed_member_only(as_, world):
    reason = 'reclaim: owner dom1 needs room for project %s' % THEIRS
    for aid in (MINE, THEIRS):
        raise_alert(
            world,
            notices.alert_id('%s/web-0' % aid),
            notices.KIND,
            'owner dom2: member %s/web-0 at site s2 is stopped at 2026-12-07 '
            '10:00:00 UTC unless another site can take it (%s)'
            % (aid, reason),
            site='s2',
        )
    mine = notices.alert_id('%s/web-0' % MINE)
    rows = alert_ids(as_('member@own'))
    assert set(rows) == {unplaced(MINE, 'web-1'), DOWN, mine}
    message = rows[mine]['message']
    assert "(reclaim: the site's owner needs the room)" in message
    assert 'dom1' not in message and ' s2 ' not in message
    assert rows[mine]['site'] == label('s2')
