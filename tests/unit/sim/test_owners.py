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

"""Owners in a scenario: parsed, checked (errors naming the line and the
field), and put in the KB."""

import textwrap

import pytest

from sodos.sim import owners
from sodos.sim import scenario

COMMUNITY = textwrap.dedent(
    """\
    name: co
    owners:
      - {name: uni, policy: {admit_owners: [town], lend_share_pct: 50}}
      - {name: town, weight: 2}
    sites:
      - {name: a, owner: uni}
      - {name: b, owner: town}
      - {name: c}
    appliances:
      - name: app
        owner: uni
        members: [{name: vm, image: fake-image, flavor: m1.small}]
    events:
      - {at: 1, action: demand, owner: town, extra: 3, flavor: m1.tiny}
      - {at: 9, action: release, owner: town}
    """
)


def _error(text):
    with pytest.raises(scenario.InvalidScenario) as info:
        scenario.parse(text, 'co.yaml')
    return str(info.value)


def test_owners_sites_appliances_and_demands():
    sc = scenario.parse(COMMUNITY, 'co.yaml')
    uni, town = sc.owners
    assert (uni.name, town.name) == ('uni', 'town')
    assert town.policy == {'weight': 2}
    assert [s.owner for s in sc.sites] == ['uni', 'town', '']
    [app] = sc.appliances
    assert app.owner == 'uni'
    assert app.spec['project_id'] == uni.project_id
    # Ids as the KB wants them, the same run after run.
    assert len(uni.domain_id) == 32 and int(uni.domain_id, 16) >= 0
    assert uni.domain_id != uni.project_id != town.domain_id
    assert owners.Owner('uni', {}).domain_id == uni.domain_id
    demand, release = sc.events
    assert (demand.owner, demand.extra, demand.flavor) == (
        'town',
        3,
        'm1.tiny',
    )
    assert demand.describe() == 'demand town +3 m1.tiny'
    assert release.describe() == 'release town'


def test_setup_puts_domains_projects_and_policies_by_id():
    sc = scenario.parse(COMMUNITY, 'co.yaml')
    uni, town = sc.owners
    proposed = []
    owners.setup(sc.owners, lambda kind, args: proposed.append((kind, args)))
    kinds = [k for k, _ in proposed]
    assert (
        kinds
        == ['identity.domain.put', 'identity.project.put'] * 2
        + ['owner.policy'] * 2
    )
    assert proposed[1][1]['domain_id'] == uni.domain_id
    policies = {a['owner']: a['policy'] for k, a in proposed[4:]}
    # Owners named in a policy by their domain ids, as the KB checks.
    assert policies[uni.domain_id] == {
        'admit_owners': [town.domain_id],
        'lend_share_pct': 50,
    }
    assert policies[town.domain_id] == {'weight': 2}


@pytest.mark.parametrize(
    'old, new, expected',
    [
        (
            '{name: b, owner: town}',
            '{name: b, owner: nobody}',
            'co.yaml line 7: sites[1].owner: no owner named nobody '
            '(owners: town, uni)',
        ),
        (
            '    owner: uni\n',
            '    owner: city\n',
            'co.yaml line 11: appliances[0].owner: no owner named city',
        ),
        (
            'lend_share_pct: 50',
            'lend_share_pct: 150',
            'co.yaml line 3: owners[0].policy.lend_share_pct: must be '
            'smaller than or equal to 100',
        ),
        (
            'admit_owners: [town]',
            'admit_owners: [city]',
            'co.yaml line 3: owners[0].policy.admit_owners: unknown owner '
            "'city'",
        ),
        (
            '  - {name: town, weight: 2}\n',
            '  - {name: town, weight: 2}\n  - {name: uni}\n',
            'co.yaml line 5: owners[2].name: owner uni is already defined '
            'by owners[0]',
        ),
        (
            '{name: town, weight: 2}',
            '{name: town, weight: 0}',
            'co.yaml line 4: owners[1].weight: must be > 0',
        ),
        (
            'action: demand, owner: town, extra: 3',
            'action: demand, owner: city, extra: 3',
            'co.yaml line 14: events[0].owner: no owner named city',
        ),
        (
            'action: demand, owner: town, extra: 3',
            'action: demand, owner: town',
            'co.yaml line 14: events[0]: demand needs extra',
        ),
        (
            'action: demand, owner: town, extra: 3',
            'action: demand, owner: town, extra: 0',
            'co.yaml line 14: events[0].extra: demand needs extra >= 1',
        ),
        (
            'action: demand, owner: town, extra: 3',
            'action: demand, owner: town, extra: 3, site: a',
            'co.yaml line 14: events[0].site: demand takes no site',
        ),
        (
            'action: release, owner: town',
            'action: release, owner: uni',
            'co.yaml line 15: events[1]: owner uni has no demand to release',
        ),
    ],
)
def test_errors_name_line_and_field(old, new, expected):
    assert old in COMMUNITY
    assert _error(COMMUNITY.replace(old, new, 1)).startswith(expected)
