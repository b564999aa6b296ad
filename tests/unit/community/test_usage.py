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

"""The owners' decayed usage the leader records in the KB."""

import pytest

from sodos.analyseplan import usage
from sodos.kb import state
from tests.unit.analyseplan import kbviews
from tests.unit.community.views import ORG_A
from tests.unit.community.views import ORG_B
from tests.unit.community.views import site
from tests.unit.community.views import spec
from tests.unit.community.views import view
from tests.unit.kb.test_state import cmd

A = 'a' * 32
B = 'b' * 32


@pytest.fixture
def kb():
    placements = kbviews.placed(A, 'web-0', 'sa', flavor='m1.large')
    placements.update(kbviews.placed(B, 'web-0', 'sa', flavor='m1.small'))
    return view(
        [site('sa', ORG_A), site('sb', ORG_B)],
        {A: spec(ORG_B), B: spec(None)},
        placements=placements,
    )


def test_current_usage_is_per_owner_of_the_placements(kb):
    # B's appliance is of no owner: not counted.
    assert usage.current(kb) == {ORG_B: 4.0}


def test_first_record_is_the_current_usage(kb):
    assert usage.update(kb, 1000.0) == {'usage': {ORG_A: 0.0, ORG_B: 4.0}}


def test_a_record_is_made_once_per_interval(kb):
    kb['owners'] = {
        ORG_A: {'usage': {'mean': 0.0, 'at': 1000.0}},
        ORG_B: {'usage': {'mean': 12.0, 'at': 1000.0}},
    }
    assert usage.update(kb, 1000.0 + usage.INTERVAL_S - 1) is None
    kb['policy'] = {'fairshare_half_life_s': usage.INTERVAL_S}
    found = usage.update(kb, 1000.0 + usage.INTERVAL_S)
    # One half-life: half the old mean, half the current usage.
    assert found == {'usage': {ORG_A: 0.0, ORG_B: 8.0}}


def test_no_owner_no_record():
    kb = view([site('s1')], {A: spec(None)})
    assert usage.update(kb, 1000.0) is None


def test_the_kb_keeps_the_record_with_its_time():
    kb = state.KnowledgeState()
    result = kb.apply(
        cmd('owner.usage', {'usage': {ORG_A: 2.5}}, ts=50.0, term=1)
    )
    assert result['ok'], result
    assert kb.read('owners') == {ORG_A: {'usage': {'mean': 2.5, 'at': 50.0}}}


def test_the_usage_record_is_the_leaders():
    kb = state.KnowledgeState()
    kb.apply(cmd('owner.usage', {'usage': {ORG_A: 1.0}}, term=5))
    result = kb.apply(cmd('owner.usage', {'usage': {ORG_A: 9.0}}, term=4))
    assert not result['ok']
    assert 'stale term' in result['error']
    assert kb.read('owners')[ORG_A]['usage']['mean'] == 1.0
