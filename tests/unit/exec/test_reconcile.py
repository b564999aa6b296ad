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

"""The reconcile rules, on plain data."""

from sodos.exec import reconcile
from sodos.exec.drivers import base as driver

APP = 'a' * 32


def server(member, sid, status='ACTIVE'):
    return driver.Server(sid, 'vm', status, APP, member, 'x' * 32)


def placed(member, site, **info):
    return {
        '%s/%s' % (APP, member): {
            'appliance_id': APP,
            'member': member,
            'site': site,
            'info': info or {'image': 'img', 'flavor': 'm1.tiny'},
        }
    }


def test_in_step_means_nothing_to_do():
    todo = reconcile.plan(
        's1', [server('web', '1')], placed('web', 's1'), set()
    )
    assert not todo
    assert todo.describe() == 'in step with the KB'


def test_member_moved_elsewhere_or_unplaced_is_deleted_here():
    placements = placed('web', 's2')
    servers = [server('web', '1'), server('db', '2')]
    todo = reconcile.plan('s1', servers, placements, set())
    assert sorted((s.id, why) for s, why in todo.delete) == [
        ('1', 'stale'),
        ('2', 'stale'),
    ]
    assert todo.create == []
    assert todo.describe() == 'delete 2 stale'


def test_missing_member_is_built_from_its_placement():
    placements = placed('web', 's1', image='img', flavor='f', name='web-1')
    todo = reconcile.plan('s1', [], placements, set())
    assert todo.create == [
        {
            'appliance_id': APP,
            'member': 'web',
            'image': 'img',
            'flavor': 'f',
            'name': 'web-1',
        }
    ]


def test_member_awaiting_its_image_is_built_only_once_it_is_here():
    placements = placed(
        'web', 's1', image='img', flavor='f', awaiting_image='i-1'
    )
    assert reconcile.plan('s1', [], placements, set(), set()).create == []
    assert reconcile.plan('s1', [], placements, set(), {'i-2'}).create == []
    [create] = reconcile.plan('s1', [], placements, set(), {'i-1'}).create
    assert create['member'] == 'web'


def test_duplicate_keeps_the_active_one_and_error_is_rebuilt():
    servers = [server('web', '1', 'ERROR'), server('web', '2')]
    todo = reconcile.plan('s1', servers, placed('web', 's1'), set())
    assert [(s.id, why) for s, why in todo.delete] == [('1', 'duplicate')]
    assert todo.create == []
    lone_error = reconcile.plan(
        's1', [server('web', '1', 'ERROR')], placed('web', 's1'), set()
    )
    assert [(s.id, why) for s, why in lone_error.delete] == [('1', 'in ERROR')]
    assert len(lone_error.create) == 1


def test_members_with_an_action_under_way_are_left_alone():
    key = '%s/web' % APP
    assert not reconcile.plan('s1', [], placed('web', 's1'), {key})
    assert not reconcile.plan(
        's1', [server('web', '1')], placed('web', 's2'), {key}
    )


def test_placement_without_image_or_flavor_is_not_built():
    placements = placed('web', 's1', name='only-a-name')
    assert not reconcile.plan('s1', [], placements, set())
