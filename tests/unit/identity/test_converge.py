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

"""The diff between the KB and a site: pure functions."""

from sodos.identity import converge
from sodos.identity import converge_links
from sodos.identity import model

PROTECTED = {
    'domains': {'default'},
    'projects': {'admin', 'service'},
    'users': {'admin'},
    'groups': set(),
}
P1, U1 = 'a' * 32, 'b' * 32


def desired(**parts):
    return model.section(parts)


def test_missing_objects_are_created_with_the_marker():
    want = {P1: {'name': 'p1', 'domain_id': 'default', 'enabled': True}}
    changes, deletes, ids = converge.plan_objects('projects', want, {}, {})
    (op,) = changes
    assert (op.action, op.gid, ids, deletes) == ('create', P1, {}, [])
    assert op.attrs[model.MARKER] == P1


def test_only_changed_attributes_are_updated():
    want = {
        U1: {
            'name': 'u',
            'domain_id': 'default',
            'enabled': True,
            'description': None,
            'email': 'u@x.org',
        }
    }
    have = {
        'L1': {
            'name': 'u',
            'domain_id': 'default',
            'enabled': False,
            'description': 'set at the site',
            'email': 'u@x.org',
            model.MARKER: U1,
        }
    }
    (op,), _, ids = converge.plan_objects('users', want, have, PROTECTED)
    assert op.action == 'update' and op.attrs == {'enabled': True}
    assert ids == {U1: 'L1'}
    have['L1']['enabled'] = True
    assert converge.plan_objects('users', want, have, PROTECTED)[0] == []


def test_password_is_set_when_its_version_differs():
    want = {
        U1: {
            'name': 'u',
            'domain_id': 'default',
            'enabled': True,
            'password': {'ciphertext': 'c', 'key_id': 'k', 'version': 2},
        }
    }
    have = {
        'L1': {
            'name': 'u',
            'domain_id': 'default',
            'enabled': True,
            model.MARKER: U1,
            model.PASSWORD_VERSION: 1,
        }
    }
    (op,), _, _ = converge.plan_objects('users', want, have, PROTECTED)
    assert op.password_version == 2 and op.attrs == {}
    assert 'password v2' in op.describe()
    assert 'c' not in repr(op.password)
    have['L1'][model.PASSWORD_VERSION] = 2
    assert converge.plan_objects('users', want, have, PROTECTED)[0] == []


def test_unmarked_objects_are_adopted_by_name_or_left_alone():
    want = {P1: {'name': 'p1', 'domain_id': 'default', 'enabled': True}}
    have = {
        'L1': {'name': 'p1', 'domain_id': 'default', 'enabled': True},
        'L2': {'name': 'local', 'domain_id': 'default', 'enabled': True},
    }
    changes, deletes, ids = converge.plan_objects(
        'projects', want, have, PROTECTED
    )
    assert ids == {P1: 'L1'}
    assert [(o.action, o.attrs) for o in changes] == [
        ('update', {model.MARKER: P1})
    ]
    assert deletes == []


def test_marked_objects_gone_from_the_kb_are_deleted_unless_protected():
    have = {
        'L1': {'name': 'old', 'domain_id': 'default', model.MARKER: P1},
        'L2': {'name': 'admin', 'domain_id': 'default', model.MARKER: U1},
    }
    _, deletes, _ = converge.plan_objects('projects', {}, have, PROTECTED)
    assert [(o.action, o.local_id) for o in deletes] == [('delete', 'L1')]


def test_protected_names_are_never_planned():
    want = {P1: {'name': 'service', 'domain_id': 'default', 'enabled': 1}}
    have = {'L1': {'name': 'service', 'domain_id': 'default'}}
    assert converge.plan_objects('projects', want, have, PROTECTED) == (
        [],
        [],
        {},
    )


def test_domains_match_by_their_global_id():
    want = {P1: {'name': 'fed', 'enabled': True, 'description': None}}
    have = {P1: {'name': 'fed', 'enabled': True}}
    changes, _, ids = converge.plan_objects('domains', want, have, PROTECTED)
    assert ids == {P1: P1}
    assert [o.attrs for o in changes] == [{model.MARKER: P1}]


def _linked():
    want = desired(
        assignments={
            'k1': {
                'role': 'member',
                'actor_type': 'user',
                'actor_id': U1,
                'target_type': 'project',
                'target_id': P1,
            }
        }
    )
    ids = {'domains': {}, 'projects': {P1: 'LP'}, 'users': {U1: 'LU'}}
    observed = converge.Observed(
        projects={'LP': {'name': 'p1'}, 'LX': {'name': 'site-own'}},
        users={
            'LU': {'name': 'alice'},
            'LA': {'name': 'admin'},
            'LM': {'name': 'mallory'},
        },
    )
    return want, ids, observed


def test_grants_missing_and_revokes_extra_on_managed_targets_only():
    want, ids, observed = _linked()
    ids['groups'] = {}
    observed.assignments = {
        ('admin', 'user', 'LA', 'project', 'LP'),  # protected actor
        ('admin', 'user', 'LM', 'project', 'LP'),  # extra: revoked
        ('member', 'user', 'LM', 'project', 'LX'),  # not sodos's project
    }
    ops = converge_links.plan_assignments(want, observed, ids, PROTECTED)
    assert [(o.action, o.grant) for o in ops] == [
        ('grant', ('member', 'user', 'LU', 'project', 'LP')),
        ('revoke', ('admin', 'user', 'LM', 'project', 'LP')),
    ]
    assert ops[0].describe() == (
        'grant assignment member to user alice on project p1'
    )


def test_memberships_in_managed_groups():
    want = desired(memberships={'g/u': {'group_id': P1, 'user_id': U1}})
    ids = {'groups': {P1: 'LG'}, 'users': {U1: 'LU'}}
    observed = converge.Observed(
        users={'LU': {'name': 'u'}, 'LM': {'name': 'm'}},
        memberships={('LG', 'LM'), ('OTHER', 'LM')},
    )
    ops = converge_links.plan_memberships(want, observed, ids, PROTECTED)
    assert [(o.action, o.member) for o in ops] == [
        ('add', ('LG', 'LU')),
        ('remove', ('LG', 'LM')),
    ]


def test_a_domain_holding_site_objects_is_not_deleted():
    op = converge.Op('delete', 'domains', 'domains/x', local_id='D')
    observed = converge.Observed(
        projects={'P': {'name': 'theirs', 'domain_id': 'D'}}
    )
    safe, kept = converge.deletable_domains([op], observed, set())
    assert safe == [] and 'holds theirs' in kept[0]
    assert converge.deletable_domains([op], observed, {'P'})[0] == [op]


def test_id_map_changes():
    current = {'users': {U1: 'old', P1: 'gone'}}
    wanted = {'users': {U1: 'new'}, 'projects': {P1: 'LP'}}
    sets, drops = converge_links.map_changes(current, wanted)
    assert sets == [
        {'kind': 'projects', 'id': P1, 'local_id': 'LP'},
        {'kind': 'users', 'id': U1, 'local_id': 'new'},
    ]
    assert drops == [{'kind': 'users', 'id': P1}]
