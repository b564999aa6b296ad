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

"""owner list, show, set and unset; site set --owner."""

import json

import pytest
from cliff import commandmanager

from sodos.osc.v1 import owner
from tests.unit.osc import conftest as fakes

URL = fakes.URL
# The commands as their entry points name them: tested here without
# the installed metadata.
COMMANDS = {
    'sodos owner list': owner.ListOwner,
    'sodos owner show': owner.ShowOwner,
    'sodos owner set': owner.SetOwner,
    'sodos owner unset': owner.UnsetOwner,
}
ROW = {
    'owner': 'orga',
    'sites': ['paris', 'lyon'],
    'policy': {
        'admit_owners': ['orgb'],
        'admit_projects': [],
        'lend_share_pct': 40,
        'lend_vcpus': None,
        'lend_ram_mb': None,
        'preemptible': False,
        'preempt_notice_s': 0,
        'weight': None,
    },
    'usage': {'mean': 12.5, 'at': 1000.0},
    'updated_at': 1000.0,
}


@pytest.fixture(autouse=True)
def owner_commands(monkeypatch):
    load = commandmanager.CommandManager.load_commands

    def loading(self, namespace):
        load(self, namespace)
        for name, cls in COMMANDS.items():
            self.add_command(name, cls)

    monkeypatch.setattr(
        commandmanager.CommandManager, 'load_commands', loading
    )


def test_list(run, api):
    api.get(URL + '/owners', json={'owners': [ROW]})
    result = run('sodos', 'owner', 'list', '-f', 'json')
    assert result.rc == 0, result.stderr
    [row] = result.json()
    assert row['Owner'] == 'orga'
    assert row['Lend Share Pct'] == 40
    assert row['Admit Owners'] == ['orgb']


def test_show_flattens_the_policy(run, api):
    api.get(URL + '/owners/orga', json={'owner': ROW})
    result = run('sodos', 'owner', 'show', 'orga', '-f', 'json')
    assert result.rc == 0, result.stderr
    found = result.json()
    assert found['lend_share_pct'] == 40
    assert found['usage'] == 12.5
    assert found['sites'] == ['paris', 'lyon']


def test_set_sends_only_what_is_given(run, api):
    patched = api.patch(URL + '/owners/orga', json={'owner': ROW})
    result = run(
        'sodos', 'owner', 'set', 'orga',
        '--admit-owner', 'orgb', '--admit-owner', 'orgc',
        '--lend-share', '40', '--preemptible', '--preempt-notice', '600',
        '-f', 'json',
    )  # fmt: skip
    assert result.rc == 0, result.stderr
    assert json.loads(patched.last_request.body) == {
        'admit_owners': ['orgb', 'orgc'],
        'lend_share_pct': 40.0,
        'preemptible': True,
        'preempt_notice_s': 600,
    }


@pytest.mark.parametrize(
    'argv,message',
    [
        (['--lend-share', '120'], '--lend-share: invalid percentage value'),
        (['--lend-share', '-1'], '--lend-share: invalid percentage value'),
        (['--lend-vcpus', '-2'], '--lend-vcpus: invalid count value'),
        (['--lend-vcpus', '1.5'], '--lend-vcpus: invalid count value'),
    ],
)
def test_set_refuses_bad_figures_before_sending(run, api, argv, message):
    result = run('sodos', 'owner', 'set', 'orga', *argv)
    assert result.rc != 0
    assert message in result.stderr
    assert api.call_count == 0


def test_set_nothing(run, api):
    result = run('sodos', 'owner', 'set', 'orga')
    assert result.rc == 1
    assert 'nothing to set' in result.stderr
    assert api.call_count == 0


def test_the_apis_refusal_is_shown(run, api):
    api.patch(
        URL + '/owners/orga',
        **fakes.error(
            403,
            'forbidden',
            'policy sodos:owner:update does not allow this request',
        ),
    )
    result = run('sodos', 'owner', 'set', 'orga', '--lend-share', '10')
    assert result.rc == 1
    assert 'sodos:owner:update' in result.stderr


def test_unset_sends_nulls(run, api):
    patched = api.patch(URL + '/owners/orga', json={'owner': ROW})
    result = run(
        'sodos', 'owner', 'unset', 'orga', '--lend-share-pct', '--weight'
    )
    assert result.rc == 0, result.stderr
    assert json.loads(patched.last_request.body) == {
        'lend_share_pct': None,
        'weight': None,
    }


def test_site_set_owner(run, api):
    patched = api.patch(URL + '/sites/paris', json={'site': {'name': 'x'}})
    result = run('sodos', 'site', 'set', 'paris', '--owner', 'orgb')
    assert result.rc == 0, result.stderr
    assert json.loads(patched.last_request.body) == {'owner': 'orgb'}


def test_site_unset_owner(run, api):
    patched = api.patch(URL + '/sites/paris', json={'site': {'name': 'x'}})
    result = run('sodos', 'site', 'unset', 'paris', '--owner')
    assert result.rc == 0, result.stderr
    assert json.loads(patched.last_request.body) == {'owner': None}
