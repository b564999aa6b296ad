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

"""Scenario files: a good one, and errors naming the line and field."""

import os
import textwrap

import pytest

from sodos.sim import scenario

ROOT = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
)
EXAMPLES = os.path.join(ROOT, 'examples')

GOOD = textwrap.dedent(
    """\
    name: small
    defaults:
      capacity: {hosts: 2, vcpus: 8, ram_mb: 16384}
    sites:
      - {name: a, region: r1, cost: 0.01}
      - {name: b, region: r1}
      - name: edge
        count: 3
        region: r2
        labels: {tier: edge}
        capacity: {hosts: 1}
    appliances:
      - name: shop
        members: [{name: web, image: fake-image, flavor: m1.small, count: 2}]
        constraints: {spread: 2}
      - name: cache
        count: 2
        members: [{name: c, image: cirros, flavor: m1.tiny}]
    events:
      - {at: 10, action: recover, region: r2}
      - {at: 1, action: crash, region: r2}
      - {at: 2, action: policy, key: consolidate, value: true}
      - {at: 3, action: drain, site: a}
      - {at: 4, action: undrain, site: a}
      - {at: 12, action: load, site: b, hosts_down: 1, extra: 2}
    """
)


def _error(text):
    with pytest.raises(scenario.InvalidScenario) as info:
        scenario.parse(text, 'test.yaml')
    return str(info.value)


def test_good_file_expands_and_orders():
    sc = scenario.parse(GOOD, 'test.yaml')
    assert sc.name == 'small'
    assert [s.name for s in sc.sites] == [
        'a',
        'b',
        'edge-1',
        'edge-2',
        'edge-3',
    ]
    edge = sc.site('edge-2')
    assert edge.region == 'r2'
    assert edge.profile['labels'] == {'tier': 'edge'}
    # Site capacity overrides the defaults field by field.
    assert edge.capacity == {'hosts': 1, 'vcpus': 8, 'ram_mb': 16384}
    assert edge.simulator_options() == {
        'hosts': 1,
        'host_vcpus': 8,
        'host_ram_mb': 16384,
    }
    assert sc.site('a').profile['cost_per_vcpu_hour'] == 0.01
    assert [a.name for a in sc.appliances] == ['shop', 'cache-1', 'cache-2']
    assert sc.appliances[0].spec['constraints']['spread'] == 2
    # Played in time order, a region meaning its sites.
    assert [e.action for e in sc.events] == [
        'crash',
        'policy',
        'drain',
        'undrain',
        'recover',
        'load',
    ]
    assert sc.events[0].sites == ['edge-1', 'edge-2', 'edge-3']
    assert sc.events[-1].hosts_down == 1 and sc.events[-1].extra == 2
    assert sc.voters == 5


@pytest.mark.parametrize('name', sorted(os.listdir(EXAMPLES)))
def test_examples_are_valid(name):
    scenario.load(os.path.join(EXAMPLES, name))


@pytest.mark.parametrize(
    'old, new, expected',
    [
        (
            '{hosts: 1}',
            '{hosts: 1, vcpus: 0}',
            'test.yaml line 11: sites[2].capacity.vcpus: must be >= 1',
        ),
        (
            '{name: b, region: r1}',
            '{name: b, region: r1, colour: red}',
            'test.yaml line 6: sites[1].colour: unknown field',
        ),
        (
            'count: 3',
            "count: 'three'",
            'test.yaml line 8: sites[2].count: must be of type integer',
        ),
        (
            'action: drain, site: a',
            'action: drain, site: z',
            'test.yaml line 23: events[3].site: no site named z',
        ),
        (
            'flavor: m1.tiny',
            'flavor: m9.huge',
            'test.yaml line 18: appliances[1].members[0].flavor: unknown '
            'flavor m9.huge',
        ),
        (
            '{spread: 2}',
            '{spread: 9}',
            'test.yaml line 15: appliances[0].constraints.spread: 9 needs at '
            'least 9 servers',
        ),
        (
            '{name: b, region: r1}',
            '{name: a, region: r1}',
            'test.yaml line 6: sites[1].name: site a is already defined',
        ),
        (
            'action: undrain, site: a',
            'action: undrain, site: b',
            'test.yaml line 24: events[4]: site b is not draining',
        ),
        (
            'action: recover, region: r2',
            'action: recover, site: a',
            'test.yaml line 20: events[0]: site a has nothing to recover',
        ),
        (
            'hosts_down: 1, extra: 2',
            'hosts_down: 5',
            'test.yaml line 25: events[5].hosts_down: site b has only 2',
        ),
        (
            'action: crash, region: r2',
            'action: crash, region: r9',
            'test.yaml line 21: events[1].region: no site in region r9',
        ),
        (
            'value: true',
            'value: true, site: a',
            'test.yaml line 22: events[2].site: policy takes no site',
        ),
    ],
)
def test_errors_name_line_and_field(old, new, expected):
    assert old in GOOD
    assert _error(GOOD.replace(old, new, 1)).startswith(expected)


def test_not_yaml():
    assert _error('sites: [a\n').startswith('test.yaml line 2: not valid YAML')


def test_missing_sites():
    assert _error('name: x\n') == (
        'test.yaml line 1: (top level): is missing sites'
    )


def test_unreadable_file(tmp_path):
    with pytest.raises(scenario.InvalidScenario, match='cannot read'):
        scenario.load(str(tmp_path / 'none.yaml'))


@pytest.mark.parametrize(
    'change, message',
    [
        (
            ('cost: 0.01', 'cost: .nan'),
            'test.yaml line 5: sites[0].cost: NaN is not allowed',
        ),
        (
            ('cost: 0.01', 'cost: .inf'),
            'test.yaml line 5: sites[0].cost: Infinity is not allowed',
        ),
        (
            ('{tier: edge}', '{tier: "edge\\ud800"}'),
            'test.yaml line 10: sites[2].labels.tier: string has a lone',
        ),
        (
            ('{tier: edge}', '{tier: %s}' % ('[' * 5000 + ']' * 5000)),
            'test.yaml line 1: (top level): nested deeper than 64 levels',
        ),
    ],
)
def test_values_json_cannot_carry_are_refused(change, message):
    text = GOOD.replace(*change)
    assert text != GOOD
    assert _error(text).startswith(message)


def test_sodos_sim_names_the_file_and_the_field(tmp_path, capsys):
    from sodos.cmd import sim

    path = tmp_path / 'nan.yaml'
    path.write_text(GOOD.replace('cost: 0.01', 'cost: .nan'))
    assert sim.main(['validate', str(path)]) == 1
    err = capsys.readouterr().err
    assert 'nan.yaml line 5: sites[0].cost: NaN is not allowed' in err
    assert 'Traceback' not in err
