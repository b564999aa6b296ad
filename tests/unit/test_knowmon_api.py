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

import pytest

from sodos import exception
from sodos.kb import commands


def test_submit_of_a_malformed_command_is_an_error_result(api):
    before = api.read()
    result = api.submit({'type': 'site.leave'})
    assert result['ok'] is False
    assert 'command must contain' in result['error']
    assert api.read() == before


def test_submit_returns_the_applier_result(api):
    cmd = commands.make('policy.set', {'key': 'paused', 'value': True}, 'here')
    assert api.submit(cmd.to_wire()) == {'ok': True}
    assert api.read('policy')['paused'] is True


def test_read_of_an_unknown_section_names_the_known_ones(api):
    with pytest.raises(exception.SodosError, match='known: federation'):
        api.read('secrets')


def test_status_and_quorum(api):
    status = api.status()
    assert status['is_leader'] is True
    assert status['site'] == 'here'
    assert api.in_quorum() is True
