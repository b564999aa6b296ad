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

"""An appliance's spec changed while it runs: the merge patch, and what
may change live."""

import copy

import pytest

from sodos.domain import appliance
from sodos.domain import appliance_update

SPEC = appliance.validate(
    {
        'name': 'shop',
        'members': [
            {'name': 'web', 'image': 'cirros', 'flavor': 'm1', 'count': 2},
            {'name': 'db', 'image': 'cirros', 'flavor': 'm2'},
        ],
        'metadata': {'a': '1', 'b': '2'},
        'constraints': {'spread': 2, 'sites': ['x', 'y', 'z']},
    }
)


def test_a_merge_patch_merges_mappings_replaces_lists_and_drops_nulls():
    before = copy.deepcopy(SPEC)
    patch = {
        'metadata': {'a': None, 'c': '3'},
        'constraints': {'sites': ['x', 'y']},
        'members': [SPEC['members'][0]],
        'priority': None,
    }
    out = appliance_update.merged(SPEC, patch)
    assert out['metadata'] == {'b': '2', 'c': '3'}
    assert out['constraints'] == dict(SPEC['constraints'], sites=['x', 'y'])
    assert out['members'] == [SPEC['members'][0]]
    assert 'priority' not in out
    # Neither input changed; the result shares nothing with the patch.
    assert SPEC == before
    out['members'][0]['count'] = 9
    assert patch['members'][0]['count'] == 2


def changed(**patch):
    return appliance.validate(appliance_update.merged(SPEC, patch))


@pytest.mark.parametrize(
    'patch',
    [
        {'priority': 90, 'name': 'shop2', 'user_data': '#!/bin/sh'},
        {'members': [dict(SPEC['members'][0], count=5, role='front')]},
        {
            'members': SPEC['members']
            + [{'name': 'c', 'image': 'i', 'flavor': 'f'}]
        },
        {'constraints': {'spread': 1}},
        {'constraints': {'sites': ['x', 'y'], 'headroom_pct': 20}},
        {'constraints': {'spread': None, 'affinity': False}},
    ],
)
def test_what_may_change_live_is_not_refused(patch):
    assert appliance_update.refusals(SPEC, changed(**patch)) == []


def test_turning_affinity_off_is_not_refused():
    gathered = appliance.validate(dict(SPEC, constraints={'affinity': True}))
    loose = appliance_update.merged(
        gathered, {'constraints': {'affinity': False}}
    )
    assert appliance_update.refusals(gathered, appliance.validate(loose)) == []


@pytest.mark.parametrize(
    'patch, field',
    [
        ({'project_id': 'p2'}, 'data.project_id'),
        (
            {'networks': [{'name': 'n', 'cidr': '10.0.0.0/24'}]},
            'data.networks',
        ),
        (
            {
                'members': [
                    SPEC['members'][1],
                    dict(SPEC['members'][0], flavor='m9'),
                ]
            },
            'data.members[1].flavor',
        ),
        ({'constraints': {'spread': 3}}, 'data.constraints.spread'),
    ],
)
def test_what_cannot_change_live_is_refused_naming_the_field(patch, field):
    problems = appliance_update.refusals(SPEC, changed(**patch))
    assert len(problems) == 1
    assert problems[0].startswith(field + ':')
