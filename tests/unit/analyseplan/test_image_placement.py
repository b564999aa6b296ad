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

"""Members placed where their image is not yet: the copy first, the
create held back (in the KB, so a new leader carries on) until the image
is there; pre-staging where members would move if their site failed."""

import pytest

from sodos.analyseplan import filters
from sodos.analyseplan import planner as planner_mod
from sodos.analyseplan import prestage
from sodos.analyseplan import role as analyseplan_role
from sodos.analyseplan import weighers
from tests.unit.analyseplan.kbviews import kb as kb_view
from tests.unit.analyseplan.kbviews import placed
from tests.unit.analyseplan.kbviews import site as site_view
from tests.unit.analyseplan.kbviews import spec

A = 'a' * 32
IMAGE = '0b7e4a1c-2d3f-4e5a-8b9c-0d1e2f3a4b5c'
HASH = 'ab' * 64
DETAILS = {
    'name': 'ubuntu',
    'status': 'active',
    'size': 4096,
    'os_hash_algo': 'sha512',
    'os_hash_value': HASH,
}


@pytest.fixture
def fed(knowmon):
    """'here' (holding image 'ubuntu') plus s2 and s3, each with a relay."""
    backend = knowmon.backend

    def report(name, holds=False, **kwargs):
        _, _, summary = site_view(name, **kwargs)
        summary['collected_at'] = 1.0
        summary['image_details'] = {IMAGE: DETAILS} if holds else {}
        result = backend.propose(
            'monitoring.report', {'site': name, 'summary': summary}
        )
        assert result['ok']

    for i, name in enumerate(('here', 's2', 's3')):
        info = {'profile': {'image_relay': 'http://%s:8788' % name}}
        backend.propose(
            'site.register',
            {'site': name, 'address': 'h:%d' % (i + 1), 'info': info},
        )
        report(name, holds=(name == 'here'))
    assert backend.propose(
        'image.register',
        {
            'image_id': IMAGE,
            'name': 'ubuntu',
            'disk_format': 'qcow2',
            'container_format': 'bare',
            'size': 4096,
            'os_hash_algo': 'sha512',
            'os_hash_value': HASH,
            'origin_site': 'here',
        },
    )['created']
    backend.report = report
    return backend


def actions(fed, kind):
    return sorted(
        (a['site'], a['state'])
        for a in fed.read('actions').values()
        if a['kind'] == kind
    )


def finish(fed, kind, result):
    for action in fed.read('actions').values():
        if action['kind'] == kind and action['state'] == 'pending':
            assert fed.propose(
                'action.update',
                {
                    'action_id': action['action_id'],
                    'state': 'done',
                    'result': result,
                },
            )['ok']


def test_the_copy_goes_first_and_the_held_create_follows(conf, api, fed):
    fed.propose(
        'appliance.put',
        {'appliance_id': A, 'spec': spec(image='ubuntu', count=3, spread=3)},
    )
    role = analyseplan_role.AnalysePlanRole(conf, api)
    line = role.cycle()
    assert '3 to place' in line and '2 started' in line
    where = {k: p['site'] for k, p in fed.read('placements').items()}
    assert sorted(where.values()) == ['here', 's2', 's3']
    # Only the member where the image is gets built now.
    assert actions(fed, 'server.create') == [('here', 'pending')]
    assert actions(fed, 'image.copy') == [
        ('s2', 'pending'),
        ('s3', 'pending'),
    ]
    waiting = {
        p['site']: p['info']['awaiting_image']
        for p in fed.read('placements').values()
        if p['info'].get('awaiting_image')
    }
    assert waiting == {'s2': IMAGE, 's3': IMAGE}
    # Nothing new while the copies run.
    role.cycle()
    assert len(fed.read('actions')) == 3
    # The copies end; a new leader (no memory of the old one) releases
    # the held creates, once.
    finish(fed, 'image.copy', {'image_id': IMAGE, 'os_hash_value': HASH})
    successor = analyseplan_role.AnalysePlanRole(conf, api)
    line = successor.cycle()
    assert '2 follow-up action(s)' in line
    assert actions(fed, 'server.create') == [
        ('here', 'pending'),
        ('s2', 'pending'),
        ('s3', 'pending'),
    ]
    successor.cycle()
    assert len(actions(fed, 'server.create')) == 3
    for action in fed.read('actions').values():
        if action['kind'] == 'server.create':
            assert action['params']['image'] == 'ubuntu'


def test_an_unregistered_image_still_keeps_a_member_off_a_site(conf, api, fed):
    fed.propose(
        'appliance.put', {'appliance_id': A, 'spec': spec(image='debian')}
    )
    line = analyseplan_role.AnalysePlanRole(conf, api).cycle()
    assert 'image debian not present' in line
    assert fed.read('placements') == {}


def test_the_site_a_member_would_move_to_gets_its_image_ahead(conf, api, fed):
    fed.propose(
        'appliance.put',
        {'appliance_id': A, 'spec': spec(image='ubuntu', sites=['s2', 's3'])},
    )
    analyseplan_role.AnalysePlanRole(conf, api).cycle()
    (first,) = [p['site'] for p in fed.read('placements').values()]
    other = ({'s2', 's3'} - {first}).pop()
    # One copy for the member, one to where it would go if `first` failed.
    assert actions(fed, 'image.copy') == sorted(
        [(first, 'pending'), (other, 'pending')]
    )


def test_a_burnt_copy_moves_the_waiting_member_and_alerts(conf, api, fed):
    conf.set_override('image_prestage_sites', 0, 'analyseplan')
    fed.propose(
        'appliance.put',
        {
            'appliance_id': A,
            'spec': spec(image='ubuntu', sites=['s2', 's3']),
        },
    )
    role = analyseplan_role.AnalysePlanRole(conf, api)
    role.cycle()
    ((key, first),) = [
        (k, p['site']) for k, p in fed.read('placements').items()
    ]
    assert actions(fed, 'image.copy') == [(first, 'pending')]
    for action in fed.read('actions').values():
        fed.propose(
            'action.update',
            {
                'action_id': action['action_id'],
                'state': 'failed',
                'result': {'error': 'hash mismatch', 'id_burnt': True},
            },
        )
    role.cycle()
    image = fed.read('images')[IMAGE]
    assert list(image['failed_sites']) == [first]
    (alert,) = fed.read('alerts').values()
    assert alert['kind'] == 'image_failed' and alert['site'] == first
    # Next cycle the planner sees the image can never reach it.
    role.cycle()
    other = ({'s2', 's3'} - {first}).pop()
    assert fed.read('placements')[key]['site'] == other
    assert (other, 'pending') in actions(fed, 'image.copy')
    assert actions(fed, 'server.create') == []


def test_deleting_an_image_removes_its_copies_then_the_entry(conf, api, fed):
    fed.propose('image.delete', {'image_id': IMAGE})
    role = analyseplan_role.AnalysePlanRole(conf, api)
    assert 'image deletion' in role.cycle()
    assert actions(fed, 'image.delete') == [('here', 'pending')]
    finish(fed, 'image.delete', {'deleted': True})
    role.cycle()
    assert len(actions(fed, 'image.delete')) == 1
    fed.report('here')  # the next summary: gone
    assert '1 image(s) purged' in role.cycle()
    assert fed.read('images') == {}


def prestage_case(**info):
    """The planner and KB view the pre-staging tests share: s1 holds the
    image and both members of A (``info`` goes into their placements);
    s2 (16 vCPUs free, as s1) and s3 (8) have no copy; the image is to
    be copied where it is needed."""
    nodes = []
    for name, free in (('s1', 16.0), ('s2', 16.0), ('s3', 8.0)):
        name, record, summary = site_view(name, vcpu=free, images=())
        record['info']['profile']['image_relay'] = 'http://%s' % name
        summary['image_details'] = {}
        nodes.append((name, record, summary))
    nodes[0][2]['image_details'] = {IMAGE: DETAILS}
    member = dict(image='ubuntu', flavor='m1.small', **info)
    view = kb_view(
        nodes,
        appliances={A: spec(image='ubuntu', count=2)},
        placements={
            **placed(A, 'web-0', 's1', **member),
            **placed(A, 'web-1', 's1', **member),
        },
    )
    view['images'] = {
        IMAGE: {
            'id': IMAGE,
            'name': 'ubuntu',
            'os_hash_value': HASH,
            'state': 'active',
            'target': {'kind': 'needed'},
            'failed_sites': {},
            'created_at': 1.0,
        }
    }
    planner = planner_mod.Planner(
        filters.shipped(), [(weighers.FreeRamWeigher(), 1.0)]
    )
    return planner, view


def test_prestage_picks_where_members_would_move():
    planner, view = prestage_case()
    stager = prestage.Prestager(per_cycle=1)
    assert stager.sites(planner, view, bound=1) == {IMAGE: {'s2'}}
    assert stager.sites(planner, view, bound=2) == {IMAGE: {'s2', 's3'}}
    assert stager.sites(planner, view, bound=0) == {}
    view['images'][IMAGE]['target'] = {'kind': 'all'}
    assert stager.sites(planner, view, bound=2) == {}


def test_prestage_follows_the_plan_clock_for_failed_sites():
    """Members kept off s2 by a failure there would move to s3 while the
    failure counts, and to s2 again once ``failed_retry_after`` has
    passed: pre-staging asks its what-ifs on the cycle's clock, and asks
    again when the clock lifts a failure."""
    planner, view = prestage_case(
        failed_sites=['s2'], failed_at={'s2': 1000.0}
    )
    planner.failed_retry_after = 600.0
    stager = prestage.Prestager(per_cycle=1)
    assert stager.sites(planner, view, bound=1, now=1300.0) == {IMAGE: {'s3'}}
    # The failure lapses: the answer is asked again, on the new clock.
    assert stager.sites(planner, view, bound=1, now=1700.0) == {IMAGE: {'s2'}}
    # No clock: the failure counts for good.
    assert prestage.Prestager().sites(planner, view, bound=1) == {
        IMAGE: {'s3'}
    }
