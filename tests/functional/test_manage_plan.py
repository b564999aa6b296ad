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

"""The operator's two tools on one federation of real sites: appliances
through ``openstack sodos`` and the REST API (served by the first
site's sodos-site process; the API alone over the bus is test_api's), and what
sodos-manage keeps for when the API is down (what-if, drain, undrain,
the pause switch) over the bus. Both must see the same federation."""

import json
import os
import subprocess
import uuid

import pytest

from sodos.sim import federation
from sodos.sim import ports
from tests.functional.polling import wait_until
from tests.functional.test_analyseplan import SETTINGS
from tests.functional.test_osc import _openstack_command
from tests.functional.test_osc import _wait_for_leader

# The sites' names are their servers on the message bus, which every
# functional run on this host shares: names of their own keep another
# run's "site-1" from answering this one's calls.
NAMES = ['mp%s-%d' % (uuid.uuid4().hex[:6], n) for n in (1, 2, 3)]
FIRST = NAMES[0]


@pytest.fixture(scope='module')
def three_sites(tmp_path_factory, transport_url):
    """One federation for the module: these tests only read, or change
    what they put back. The first site serves the API."""
    with federation.LocalFederation(
        str(tmp_path_factory.mktemp('manage')),
        voter_count=3,
        transport_url=transport_url,
        settings=SETTINGS,
    ) as fed:
        first = fed.add_site(FIRST, start=False)
        port = ports.free_port()
        first.write_config(
            DEFAULT={'roles': ['knowmon', 'exec', 'analyseplan', 'api']},
            api={'bind_port': port, 'auth_strategy': 'noauth'},
        )
        first.start()
        fed.wait(lambda r: r['leader'], 30, 'a leader')
        fed.add_site(NAMES[1])
        fed.add_site(NAMES[2])
        fed.wait(
            lambda r: (
                len(r['members']) == 3
                and all(m['status'] == 'up' for m in r['members'])
            ),
            60,
            'three sites up',
        )
        fed.api_url = 'http://127.0.0.1:%d' % port
        _wait_for_leader(fed.api_url)
        yield fed


@pytest.fixture(scope='module')
def openstack(three_sites):
    """openstack('sodos', ...) -> CompletedProcess, at the first site's API."""
    command = _openstack_command()
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    env.pop('SODOS_URL', None)
    url = three_sites.api_url

    def run(*args, check=True):
        done = subprocess.run(
            [command, '--os-auth-type', 'none', '--os-endpoint', url, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check:
            assert done.returncode == 0, done.stderr
        return done

    return run


def as_json(done):
    return json.loads(done.stdout)


def test_appliance_lifecycle_whatif_and_drain(
    three_sites, openstack, tmp_path
):
    site = three_sites.sites[FIRST]
    spec = tmp_path / 'shop.yaml'
    spec.write_text(
        'name: shop\n'
        'members:\n'
        '  - {name: web, image: fake-image, flavor: m1.tiny, count: 2}\n'
        'constraints: {spread: 2}\n'
    )
    created = as_json(
        openstack(
            'sodos', 'appliance', 'create', '--file', str(spec),
            '--wait', '--timeout', '120', '-f', 'json',
        )
    )  # fmt: skip
    appliance_id = created['id']
    listed = as_json(openstack('sodos', 'appliance', 'list', '-f', 'json'))
    assert [(a['Name'], a['Members Placed']) for a in listed] == [('shop', 2)]
    shown = as_json(
        openstack('sodos', 'appliance', 'show', 'shop', '-f', 'json')
    )
    homes = {m['member']: m['site'] for m in shown['members']}
    assert len(set(homes.values())) == 2
    assert {m['state'] for m in shown['members']} == {'ACTIVE'}

    # What-if: sodos-manage plans on this host, the API in the first site.
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
    asked = as_json(
        openstack(
            'sodos', 'whatif', 'show', '--fail-site', victim, '-f', 'json'
        )
    )
    assert asked['events'] == {'failed': [victim], 'drained': []}
    assert [a['id'] for a in asked['affected_appliances']] == [appliance_id]
    assert (move['member'], victim, move['site']) in [
        (m['member'], m['from'], m['to']) for m in asked['moves']
    ]

    # A drain through sodos-manage, followed through the API.
    drained = site.manage('site', 'drain', victim)
    assert drained.returncode == 0, drained.stderr

    def maintenance():
        shown = openstack('sodos', 'site', 'show', victim, '-f', 'json')
        return as_json(shown)['maintenance']

    wait_until(
        lambda: maintenance() == 'drained',
        victim + ' drained',
        60,
        interval=0.5,
        seen=maintenance,
    )
    kb = three_sites.knowmon(site)
    assert victim not in {p['site'] for p in kb.read('placements').values()}
    assert site.manage('site', 'undrain', victim).returncode == 0
    assert maintenance() == ''

    # The pause switch has no API: sodos-manage sets it, the API shows it.
    def paused():
        status = openstack('sodos', 'federation', 'show', '-f', 'json')
        return as_json(status)['paused']

    assert site.manage('policy', 'set', 'paused', 'true').returncode == 0
    assert paused() is True
    assert site.manage('policy', 'set', 'paused', 'false').returncode == 0
    assert paused() is False

    openstack('sodos', 'appliance', 'delete', 'shop', '--wait')
    assert as_json(openstack('sodos', 'appliance', 'list', '-f', 'json')) == []


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
        (('appliance', 'list'), 'use `openstack sodos appliance list`'),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(three_sites, args, message):
    site = three_sites.sites[FIRST]
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


def test_an_impossible_spec_is_refused_before_commit(
    three_sites, openstack, tmp_path
):
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
    done = openstack(
        'sodos', 'appliance', 'create', '--file', str(spec), check=False
    )
    assert done.returncode == 1
    assert 'no site of the federation meets the constraints' in done.stderr
    assert 'HTTP 409 infeasible' in done.stderr
    site = three_sites.sites[FIRST]
    names = {
        a['spec'].get('name')
        for a in three_sites.knowmon(site).read('appliances').values()
    }
    assert 'eu-only' not in names
    missing = openstack('sodos', 'appliance', 'show', 'f' * 32, check=False)
    assert missing.returncode == 1
    assert 'HTTP 404 not_found' in missing.stderr
