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

"""The query a read carries through every layer, and the reply."""

import pytest

from sodos import exception
from sodos.kb import query
from sodos.kb import state


def test_a_query_travels_as_the_fields_it_sets():
    assert query.Query().to_wire() == {}
    assert query.Query('alerts', site='a').to_wire() == {
        'section': 'alerts',
        'site': 'a',
    }
    wire = query.Query('placements', key='k').to_wire()
    assert query.Query.from_wire(wire) == query.Query('placements', key='k')


def test_an_unknown_argument_is_refused_not_ignored():
    with pytest.raises(exception.SodosError, match='unknown read argument'):
        query.Query.from_wire({'section': 'alerts', 'colour': 'red'})


def test_the_shorthand_makes_the_same_query():
    made = query.Query('alerts', site='a')
    assert query.of('alerts', site='a') == made
    assert query.of(made) is made
    assert query.of(made, key='k') == query.Query('alerts', 'a', 'k')
    assert query.of() == query.Query()


def test_a_state_reads_by_query_or_shorthand():
    kb = state.KnowledgeState()
    assert kb.read(query.Query('policy')) == kb.read('policy')
    assert kb.read('sites', site='nowhere') == {}


def test_what_a_state_cannot_answer_is_said():
    assert state.check_query(query.Query('sites', site='a')) is None
    assert 'unknown KB section' in state.check_query(query.Query('secrets'))
    assert 'cannot be read by site' in state.check_query(
        query.Query('policy', site='a')
    )
    assert 'names a section' in state.check_query(query.Query(key='k'))


def test_a_reply_unwraps_to_its_data_or_raises():
    assert query.unwrap(query.answer({'a': 1})) == {'a': 1}
    with pytest.raises(exception.SodosError, match='no such'):
        query.unwrap(query.refusal('no such thing'))
