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

"""The real ``openstack`` command with the sodos plugin, against a
``sodos-site`` process serving the REST API (one process: KnowMon,
Exec with the simulator driver, AnalysePlan and the API, without
Keystone: ``[api]auth_strategy = noauth``)."""

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from sodos.sim import federation
from sodos.sim import ports

SITE = 'site-1'
SPEC = (
    'name: shop\n'
    'members:\n'
    '  - {name: web, image: fake-image, flavor: m1.tiny, count: 3}\n'
)


def _openstack_command():
    found = shutil.which(
        'openstack', path=os.path.dirname(sys.executable)
    ) or shutil.which('openstack')
    if found is None:
        message = 'python-openstackclient is not installed'
        if os.environ.get('CI') == 'true':
            pytest.fail(message)
        pytest.skip(message)
    return found


def _wait_for_leader(url, timeout=60):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(
                url + '/v1/federation', timeout=5
            ) as r:
                last = json.load(r)
                if last['federation']['leader']:
                    return
        except (OSError, ValueError, KeyError) as exc:
            last = exc
        time.sleep(0.3)
    raise AssertionError('the API did not name a leader: %s' % last)


@pytest.fixture(scope='module')
def api_url(tmp_path_factory):
    port = ports.free_port()
    settings = dict(
        federation.FAST_SIMULATED_SETTINGS,
        analyseplan={'loop_interval': 0.5},
        api={'auth_strategy': 'noauth', 'bind_port': port},
    )
    with federation.LocalFederation(
        str(tmp_path_factory.mktemp('osc')),
        voter_count=1,
        roles=('knowmon', 'exec', 'analyseplan', 'api'),
        settings=settings,
    ) as fed:
        site = fed.add_site(SITE)
        url = 'http://127.0.0.1:%d' % port
        try:
            _wait_for_leader(url)
        except AssertionError:
            print(site.log()[-4000:])
            raise
        yield url


@pytest.fixture(scope='module')
def openstack(api_url):
    """openstack(*args) -> CompletedProcess, with the sodos plugin."""
    command = _openstack_command()
    # Only this test's settings: no cloud of the user's environment.
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    env.pop('SODOS_URL', None)

    def run(*args, check=True):
        done = subprocess.run(
            [command, '--os-auth-type', 'none', '--os-endpoint', api_url]
            + list(args),
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check:
            assert done.returncode == 0, done.stderr
        return done

    return run


def test_federation_status_names_the_leader(openstack):
    status = json.loads(
        openstack('sodos', 'federation', 'show', '-f', 'json').stdout
    )
    assert status['leader'] == SITE
    assert status['voters'] == [SITE]
    assert status['sites_up'] == 1
    leader = openstack(
        'sodos', 'federation', 'show', '-f', 'value', '-c', 'leader'
    )
    assert leader.stdout == SITE + '\n'


def test_site_list_and_set(openstack):
    sites = json.loads(openstack('sodos', 'site', 'list', '-f', 'json').stdout)
    assert [(s['Name'], s['Status']) for s in sites] == [(SITE, 'up')]
    openstack(
        'sodos', 'site', 'set', SITE, '--label', 'tier=gold',
        '--location', '48.85,2.35',
    )  # fmt: skip
    shown = json.loads(
        openstack('sodos', 'site', 'show', SITE, '-f', 'json').stdout
    )
    assert shown['labels']['tier'] == 'gold'
    assert shown['location'] == {'lat': 48.85, 'lon': 2.35}


def test_appliance_lifecycle(openstack, tmp_path):
    spec = tmp_path / 'shop.yaml'
    spec.write_text(SPEC)
    created = openstack(
        'sodos', 'appliance', 'create', '--file', str(spec),
        '--wait', '--timeout', '120', '-f', 'json',
    )  # fmt: skip
    appliance = json.loads(created.stdout)
    assert [m['state'] for m in appliance['members']] == ['ACTIVE'] * 3
    assert {m['site'] for m in appliance['members']} == {SITE}
    # Progress went to stderr, and ended with every member ACTIVE.
    assert created.stderr.splitlines()[-1] == (
        'appliance shop: 3/3 members ACTIVE'
    )
    listed = json.loads(
        openstack('sodos', 'appliance', 'list', '-f', 'json').stdout
    )
    assert [(a['Name'], a['Members Active']) for a in listed] == [('shop', 3)]

    whatif = json.loads(
        openstack(
            'sodos', 'whatif', 'show', '--fail-site', SITE, '-f', 'json'
        ).stdout
    )
    assert whatif['events'] == {'failed': [SITE], 'drained': []}
    assert [a['id'] for a in whatif['affected_appliances']] == [
        appliance['id']
    ]
    # One site only: nowhere to move the members to.
    assert sorted(u['member'] for u in whatif['unplaceable']) == [
        'web-0',
        'web-1',
        'web-2',
    ]

    openstack('sodos', 'appliance', 'delete', 'shop', '--wait')
    listed = openstack('sodos', 'appliance', 'list', '-f', 'json')
    assert json.loads(listed.stdout) == []


@pytest.mark.parametrize(
    'content, message',
    [
        ('name: [shop\n', 'is neither YAML nor JSON'),
        ('- just\n- a list\n', 'must hold one appliance spec'),
    ],
)
def test_bad_spec_file(openstack, tmp_path, content, message):
    spec = tmp_path / 'bad.yaml'
    spec.write_text(content)
    done = openstack(
        'sodos', 'appliance', 'create', '--file', str(spec), check=False
    )
    assert done.returncode != 0
    assert message in done.stderr
    assert str(spec) in done.stderr
    assert 'Traceback' not in done.stderr


def test_spec_refused_by_the_api(openstack, tmp_path):
    spec = tmp_path / 'empty.yaml'
    spec.write_text('name: empty\nmembers: []\n')
    done = openstack(
        'sodos', 'appliance', 'create', '--file', str(spec), check=False
    )
    assert done.returncode == 1
    assert 'members' in done.stderr
    assert '(HTTP 400 invalid_body, request req-' in done.stderr
    listed = openstack('sodos', 'appliance', 'list', '-f', 'json')
    assert 'empty' not in [a['Name'] for a in json.loads(listed.stdout)]


def test_unknown_site(openstack):
    done = openstack(
        'sodos', 'whatif', 'show', '--fail-site', 'nowhere', check=False
    )
    assert done.returncode == 1
    assert 'no site named nowhere' in done.stderr
    shown = openstack('sodos', 'site', 'show', 'nowhere', check=False)
    assert shown.returncode == 1
    assert 'HTTP 404 not_found' in shown.stderr
