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

"""The Keystone API writer's parsing of what keystoneclient returns."""

from types import SimpleNamespace

from sodos.exec.drivers.openstack import identity
from sodos.identity import converge
from sodos.identity import model

ROLES = {'r1': 'member'}


def item(**kwargs):
    return SimpleNamespace(**kwargs)


def test_project_and_domain_assignments_are_read_by_role_name():
    on_project = item(
        role={'id': 'r1'}, user={'id': 'u'}, scope={'project': {'id': 'p'}}
    )
    on_domain = item(
        role={'id': 'r1'}, group={'id': 'g'}, scope={'domain': {'id': 'd'}}
    )
    assert identity._grant(on_project, ROLES) == (
        'member',
        'user',
        'u',
        'project',
        'p',
    )
    assert identity._grant(on_domain, ROLES)[1:] == (
        'group',
        'g',
        'domain',
        'd',
    )


def test_system_inherited_and_unknown_role_assignments_are_ignored():
    system = item(role={'id': 'r1'}, user={'id': 'u'}, scope={'system': {}})
    inherited = item(
        role={'id': 'r1'},
        user={'id': 'u'},
        scope={'project': {'id': 'p'}, 'OS-INHERIT:inherited_to': 'projects'},
    )
    unknown = item(
        role={'id': 'rX'}, user={'id': 'u'}, scope={'project': {'id': 'p'}}
    )
    for ignored in (system, inherited, unknown):
        assert identity._grant(ignored, ROLES) is None


def test_the_password_goes_with_its_version_and_nones_are_dropped():
    op = converge.Op(
        'update',
        'users',
        'users/x',
        attrs={'email': None, 'enabled': True},
        password='pw',
        password_version=3,
    )
    assert identity._outgoing(op) == {
        'enabled': True,
        'password': 'pw',
        model.PASSWORD_VERSION: 3,
    }
    assert 'pw' not in repr(op) and 'pw' not in op.describe()


def test_extra_attributes_are_read_back():
    obj = SimpleNamespace(
        to_dict=lambda: {
            'name': 'u',
            'domain_id': 'default',
            'enabled': True,
            'links': {},
            model.MARKER: 'g',
            model.PASSWORD_VERSION: 2,
        }
    )
    assert identity._attributes(obj) == {
        'name': 'u',
        'domain_id': 'default',
        'enabled': True,
        model.MARKER: 'g',
        model.PASSWORD_VERSION: 2,
    }
