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

"""sodos-manage appliance/site/policy/plan commands against real sites."""

import json
import time

import pytest

from sodos.sim import federation
from tests.functional.test_analyseplan import SETTINGS


@pytest.fixture(scope='module')
def three_sites(tmp_path_factory, transport_url):
    """One federation for the module: these tests only read, or change
    what they put back."""
    with federation.LocalFederation(
        str(tmp_path_factory.mktemp('manage')),
        voter_count=3,
        transport_url=transport_url,
        settings=SETTINGS,
    ) as fed:
        fed.add_site()
        fed.wait(lambda r: r['leader'], 30, 'a leader')
        fed.add_site()
        fed.add_site()
        fed.wait(
            lambda r: (
                len(r['members']) == 3
                and all(m['status'] == 'up' for m in r['members'])
            ),
            60,
            'three sites up',
        )
        yield fed


def test_appliance_lifecycle_whatif_and_drain(three_sites, tmp_path):
    site = three_sites.sites['site-1']
    spec = tmp_path / 'shop.yaml'
    spec.write_text(
        'name: shop\n'
        'members:\n'
        '  - {name: web, image: fake-image, flavor: m1.tiny, count: 2}\n'
        'constraints: {spread: 2}\n'
    )
    done = site.manage(
        'appliance', 'create', '--file', str(spec), '--wait', '60'
    )
    assert done.returncode == 0, done.stderr
    assert '2/2 members ACTIVE' in done.stdout
    appliance_id = done.stdout.split('created: ')[1].split()[0]

    listed = json.loads(
        site.manage('appliance', 'list', '--format', 'json').stdout
    )
    assert [(a['name'], a['members_placed']) for a in listed] == [('shop', 2)]
    shown = json.loads(
        site.manage(
            'appliance', 'show', appliance_id, '--format', 'json'
        ).stdout
    )
    homes = {m: s['site'] for m, s in shown['members'].items()}
    assert len(set(homes.values())) == 2
    assert {s['state'] for s in shown['members'].values()} == {'ACTIVE'}

    victim = homes['web-0']
    whatif = site.manage(
        'plan', 'whatif', '--fail-site', victim, '--format', 'json'
    )
    assert whatif.returncode == 0, whatif.stderr
    report = json.loads(whatif.stdout)
    assert report['affected_appliances'] == [appliance_id]
    (move,) = report['moves']
    assert move['from_site'] == victim and move['site'] not in homes.values()
    text = site.manage('plan', 'whatif', '--fail-site', victim).stdout
    assert text.startswith('What if %s fails:' % victim)

    drained = site.manage('site', 'drain', victim)
    assert drained.returncode == 0, drained.stderr
    kb = three_sites.knowmon(site)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if kb.read('sites')[victim].get('maintenance') == 'drained':
            break
        time.sleep(0.5)
    assert kb.read('sites')[victim]['maintenance'] == 'drained'
    assert victim not in {p['site'] for p in kb.read('placements').values()}
    assert site.manage('site', 'undrain', victim).returncode == 0
    assert site.manage('policy', 'set', 'paused', 'true').returncode == 0
    assert kb.read('policy')['paused'] is True
    assert site.manage('policy', 'set', 'paused', 'false').returncode == 0


@pytest.mark.parametrize(
    'args, message',
    [
        (('plan', 'whatif'), 'name at least one --fail-site or --drain-site'),
        (
            ('plan', 'whatif', '--fail-site', 'nowhere'),
            'no site named nowhere in the federation',
        ),
        (('site', 'drain', 'nowhere'), "unknown site 'nowhere'"),
        (
            ('policy', 'set', 'paused', 'maybe'),
            "policy paused takes true or false, not 'maybe'",
        ),
        (('appliance', 'show', 'f' * 32), 'no appliance ' + 'f' * 32),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(three_sites, args, message):
    site = three_sites.sites['site-1']
    kb = three_sites.knowmon(site)

    def state():
        # What these commands could change (liveness fields move anyway).
        sites = {n: s.get('maintenance') for n, s in kb.read('sites').items()}
        return sites, kb.read('policy'), kb.read('appliances')

    before = state()
    done = site.manage(*args)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert message in done.stderr
    assert 'Traceback' not in done.stderr
    assert state() == before


def test_an_impossible_spec_is_refused_before_commit(three_sites, tmp_path):
    site = three_sites.sites['site-1']
    spec = tmp_path / 'bad.json'
    spec.write_text(
        json.dumps(
            {
                'name': 'eu-only',
                'members': [
                    {
                        'name': 'db',
                        'image': 'fake-image',
                        'flavor': 'm1.tiny',
                        'count': 2,
                    }
                ],
                'constraints': {'spread': 2, 'labels': {'jurisdiction': 'eu'}},
            }
        )
    )
    done = site.manage('appliance', 'create', '--file', str(spec))
    assert done.returncode == 2
    assert 'no site of the federation meets the constraints' in done.stderr
    names = {
        a['spec'].get('name')
        for a in three_sites.knowmon(site).read('appliances').values()
    }
    assert 'eu-only' not in names
    spec.write_text('{"name": "x", "members": []}')
    done = site.manage('appliance', 'create', '--file', str(spec))
    assert done.returncode == 2
    assert (
        'invalid appliance spec: data.members must contain at least 1'
        in done.stderr
    )
