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

"""The image registry's commands: checked, deterministic, idempotent."""

import copy

import pytest

from sodos import exception
from sodos.kb import commands
from sodos.kb import state

IMAGE = '0b7e4a1c-2d3f-4e5a-8b9c-0d1e2f3a4b5c'
HASH = 'ab' * 64


def cmd(type_, args, ts=100.0):
    return commands.make(type_, args, 'a', now=ts).to_wire()


def register_args(**changes):
    args = {
        'image_id': IMAGE,
        'name': 'cirros',
        'disk_format': 'qcow2',
        'container_format': 'bare',
        'size': 1024,
        'os_hash_algo': 'sha512',
        'os_hash_value': HASH,
        'checksum': 'cd' * 16,
        'metadata': {'min_disk': 1, 'visibility': 'public', 'tags': ['x']},
        'origin_site': 'a',
    }
    args.update(changes)
    return args


@pytest.fixture
def kb():
    kb = state.KnowledgeState()
    for site, address in (('a', 'h:1'), ('b', 'h:2')):
        kb.apply(cmd('site.register', {'site': site, 'address': address}))
    return kb


def test_register_makes_an_active_entry_with_defaults(kb):
    assert kb.apply(cmd('image.register', register_args())) == {
        'ok': True,
        'created': True,
    }
    entry = kb.read('images')[IMAGE]
    assert entry['state'] == 'active'
    assert entry['target'] == {'kind': 'needed'}
    assert entry['failed_sites'] == {}
    assert entry['origin_site'] == 'a'
    assert entry['os_hash_value'] == HASH
    assert entry['metadata']['tags'] == ['x']
    assert entry['created_at'] == entry['updated_at'] == 100.0


def test_a_replayed_register_changes_nothing(kb):
    wire = cmd('image.register', register_args())
    kb.apply(wire)
    before = kb.read()
    assert kb.apply(wire)['duplicate'] is True
    again = cmd('image.register', register_args(), ts=200.0)
    assert kb.apply(again) == {'ok': True, 'created': False, 'changed': False}
    assert kb.read() == before


def test_a_second_register_may_rename_and_retarget_but_keeps_the_rest(kb):
    kb.apply(cmd('image.register', register_args()))
    result = kb.apply(
        cmd(
            'image.register',
            {
                k: v
                for k, v in register_args(
                    name='cirros-0.6', target={'kind': 'all'}
                ).items()
                if k != 'metadata'
            },
            ts=200.0,
        )
    )
    assert result == {'ok': True, 'created': False, 'changed': True}
    entry = kb.read('images')[IMAGE]
    assert entry['name'] == 'cirros-0.6'
    assert entry['target'] == {'kind': 'all'}
    assert entry['metadata']['visibility'] == 'public'  # left out: kept
    assert (entry['created_at'], entry['updated_at']) == (100.0, 200.0)


@pytest.mark.parametrize(
    'changes, words',
    [
        (
            {'os_hash_value': 'ef' * 64},
            'registered with another os_hash_value',
        ),
        ({'size': 2048}, 'registered with another size'),
    ],
)
def test_an_id_never_changes_its_content(kb, changes, words):
    kb.apply(cmd('image.register', register_args()))
    before = kb.read()
    result = kb.apply(cmd('image.register', register_args(**changes)))
    assert result['ok'] is False
    assert words in result['error']
    assert 'new ID' in result['error']
    assert kb.read() == before


@pytest.mark.parametrize(
    'changes, error',
    [
        ({'origin_site': 'nowhere'}, "unknown origin site 'nowhere'"),
        (
            {'target': {'kind': 'sites', 'sites': ['b', 'x', 'y']}},
            'target: unknown site(s) x, y',
        ),
    ],
)
def test_register_names_an_unknown_site(kb, changes, error):
    before = kb.read()
    result = kb.apply(cmd('image.register', register_args(**changes)))
    assert result == {'ok': False, 'error': error}
    assert kb.read() == before


@pytest.mark.parametrize(
    'type_, args, words',
    [
        (
            'image.register',
            register_args(image_id='not-a-uuid'),
            'image.register.image_id must match',
        ),
        (
            'image.register',
            register_args(os_hash_value='XYZ'),
            'image.register.os_hash_value must match',
        ),
        (
            'image.register',
            register_args(size=-1),
            'image.register.size must be bigger than or equal to 0',
        ),
        (
            'image.register',
            register_args(metadata={'visibility': 'everyone'}),
            'image.register.metadata.visibility must be one of',
        ),
        (
            'image.register',
            register_args(colour='red'),
            'image.register must not contain',
        ),
        (
            'image.distribute',
            {'image_id': IMAGE, 'target': {'kind': 'sites'}},
            "image.distribute.target must contain ['sites']",
        ),
        (
            'image.distribute',
            {'image_id': IMAGE, 'target': {'kind': 'labels', 'labels': {}}},
            'image.distribute.target.labels must contain at least 1',
        ),
        (
            'image.distribute',
            {'image_id': IMAGE, 'target': {'kind': 'somewhere'}},
            'image.distribute.target.kind must be one of',
        ),
        ('image.delete', {}, 'image.delete must contain'),
    ],
)
def test_bad_arguments_are_refused_with_the_field_named(type_, args, words):
    with pytest.raises(exception.InvalidCommand) as info:
        commands.make(type_, args, 'a')
    assert words in str(info.value)


def test_a_malformed_command_in_the_log_changes_nothing(kb):
    wire = cmd('image.register', register_args())
    wire['args']['size'] = 'big'
    before = kb.read()
    result = kb.apply(wire)
    assert result['ok'] is False
    assert 'image.register.size must be integer' in result['error']
    assert kb.read() == before


def test_distribute_changes_the_target_once(kb):
    kb.apply(cmd('image.register', register_args()))
    target = {'kind': 'sites', 'sites': ['b', 'a']}
    args = {'image_id': IMAGE, 'target': target}
    assert kb.apply(cmd('image.distribute', args, ts=150.0))['changed']
    assert kb.read('images')[IMAGE]['target'] == {
        'kind': 'sites',
        'sites': ['a', 'b'],
    }
    assert kb.apply(cmd('image.distribute', args))['changed'] is False
    labels = {'kind': 'labels', 'labels': {'tier': 'gold'}, 'sites': ['a']}
    kb.apply(cmd('image.distribute', {'image_id': IMAGE, 'target': labels}))
    # Only the fields the kind uses are kept.
    assert kb.read('images')[IMAGE]['target'] == {
        'kind': 'labels',
        'labels': {'tier': 'gold'},
    }


def test_distribute_of_an_unknown_image_is_refused(kb):
    result = kb.apply(
        cmd('image.distribute', {'image_id': IMAGE, 'target': {'kind': 'all'}})
    )
    assert result == {'ok': False, 'error': 'unknown image %s' % IMAGE}


def test_delete_then_purge(kb):
    kb.apply(cmd('image.register', register_args()))
    purge = cmd('image.purge', {'image_id': IMAGE})
    early = kb.apply(purge)
    assert early['ok'] is False
    assert 'delete it first' in early['error']
    delete = {'image_id': IMAGE}
    assert kb.apply(cmd('image.delete', delete, ts=300.0))['changed']
    assert kb.read('images')[IMAGE]['state'] == 'deleting'
    assert kb.apply(cmd('image.delete', delete))['changed'] is False
    for type_, args in (
        ('image.register', register_args()),
        ('image.distribute', {'image_id': IMAGE, 'target': {'kind': 'all'}}),
    ):
        result = kb.apply(cmd(type_, args))
        assert result['ok'] is False
        assert 'being deleted' in result['error']
    assert kb.apply(cmd('image.purge', delete)) == {'ok': True, 'purged': True}
    assert kb.read('images') == {}
    assert kb.apply(cmd('image.purge', delete))['purged'] is False
    gone = kb.apply(cmd('image.delete', delete))
    assert gone == {'ok': False, 'error': 'unknown image %s' % IMAGE}


def test_a_failed_site_is_recorded_once(kb):
    kb.apply(cmd('image.register', register_args()))
    args = {'image_id': IMAGE, 'site': 'b', 'reason': 'hash mismatch'}
    assert kb.apply(cmd('image.site_failed', args, ts=120.0))['changed']
    assert kb.apply(cmd('image.site_failed', args, ts=130.0)) == {
        'ok': True,
        'changed': False,
    }
    assert kb.read('images')[IMAGE]['failed_sites'] == {
        'b': {'reason': 'hash mismatch', 'at': 120.0}
    }
    unknown = kb.apply(cmd('image.site_failed', dict(args, site='zz')))
    assert unknown == {'ok': False, 'error': "unknown site 'zz'"}


def test_members_end_in_the_same_state():
    members = [state.KnowledgeState() for _ in range(2)]
    log = [
        cmd('site.register', {'site': 'a', 'address': 'h:1'}),
        cmd('image.register', register_args(target={'kind': 'all'})),
        cmd('image.delete', {'image_id': IMAGE}, ts=200.0),
    ]
    for member in members:
        for wire in log:
            member.apply(copy.deepcopy(wire))
    assert members[0].read() == members[1].read()


def test_a_state_from_before_the_registry_takes_image_commands(kb):
    del kb.data['images']
    assert kb.read('images') == {}
    assert kb.apply(cmd('image.register', register_args()))['created']
