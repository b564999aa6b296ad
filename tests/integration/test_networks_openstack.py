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


"""Appliance networks on three real OpenStack sites.

An appliance of two members spread over two sites, both on one network
with a security group: at each hosting site the plain ``openstack`` CLI
shows the server, its port on the same-named network and the same
CIDR. The sodos process and the OpenStack services of one hosting site
are then SIGKILLed; the lost member is rebuilt at the third site, on
that network. The killed site is rebuilt afresh at the end, for the
other modules of the session.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess
import sys

import pytest

from sodos import readmodel
from tests import kbwriter
from tests.integration import sodos_sites
from tests.integration.conftest import SITE_NAMES
from tests.integration.test_analyseplan_openstack import _tune
from tests.integration.test_analyseplan_openstack import wait

CIDR = '10.42.0.0/24'
SPEC = {
    'name': 'net-web',
    'networks': [
        {
            'name': 'it-appnet',
            'cidr': CIDR,
            'security_group': {
                'rules': [
                    {
                        'direction': 'ingress',
                        'protocol': 'tcp',
                        'ports': '22',
                        'remote_cidr': '0.0.0.0/0',
                    },
                    {'direction': 'ingress', 'protocol': 'icmp'},
                ]
            },
        }
    ],
    'members': [
        {
            'name': 'web',
            'image': 'fake-image',
            'flavor': 'm1.tiny',
            'count': 2,
            'networks': ['it-appnet'],
        }
    ],
    'constraints': {'spread': 2},
}


@pytest.fixture(scope='module')
def net_sites(minicloud_sites, tmp_path_factory):
    with sodos_sites.running_federation(
        minicloud_sites,
        str(tmp_path_factory.mktemp('sodos-net')),
        voter_count=3,
        tune=_tune,
    ) as fed:
        yield fed


def openstack(mc, *args):
    """The plain CLI at site ``mc``, as its openrc sets it up."""
    env = dict(os.environ)
    with open(mc.layout.path('openrc')) as f:
        for line in f:
            key, _, value = line.removeprefix('export ').strip().partition('=')
            env[key] = value
    cli = shutil.which('openstack', path=os.path.dirname(sys.executable))
    assert cli, 'python-openstackclient is not installed in this venv'
    proc = subprocess.run(
        [cli, *args, '-f', 'json'],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def members_on_network(kb, appliance_id, minicloud_sites):
    """{member: (site, server id, address)} once every member is ACTIVE
    with an address in CIDR, as appliance show gives them."""
    record = kb.api.read('appliances', key=appliance_id)[appliance_id]
    rows = readmodel.member_states(
        appliance_id,
        record['spec'],
        kb.api.read('placements'),
        kb.api.read('monitoring'),
    )
    found = {}
    for row in rows:
        addresses = row.get('addresses') or []
        if row['state'] != 'ACTIVE' or len(addresses) != 1:
            return None
        if ipaddress.ip_address(addresses[0]) not in ipaddress.ip_network(
            CIDR
        ):
            return None
        found[row['member']] = (row['site'], row['server_id'], addresses[0])
    return found if len(found) == 2 else None


def assert_on_the_network(mc, server_id, address):
    """What the site's own CLI shows: the server, its port on the
    same-named network, with the same CIDR, in the security group."""
    servers = {s['ID']: s for s in openstack(mc, 'server', 'list')}
    assert servers[server_id]['Status'] == 'ACTIVE'
    assert 'it-appnet' in json.dumps(servers[server_id]['Networks'])
    [network] = [
        n for n in openstack(mc, 'network', 'list') if n['Name'] == 'it-appnet'
    ]
    [subnet] = openstack(mc, 'subnet', 'list', '--network', network['ID'])
    assert subnet['Subnet'] == CIDR
    [port] = openstack(mc, 'port', 'list', '--server', server_id, '--long')
    assert address in json.dumps(port['Fixed IP Addresses'])
    assert port['Status'] == 'ACTIVE'
    [group] = [
        g
        for g in openstack(mc, 'security', 'group', 'list')
        if g['Name'] == 'it-appnet'
    ]
    assert group['ID'] in json.dumps(port['Security Groups'])


def test_members_share_a_network_and_a_lost_one_is_rebuilt_on_it(
    net_sites, minicloud_sites
):
    fed = net_sites
    kb = kbwriter.KBWriter(fed.knowmon(fed.leader()), origin='it')
    kb.wait_monitoring(
        lambda m: all(
            (m.get(n) or {}).get('summary', {}).get('flavors')
            for n in SITE_NAMES
        ),
        120,
        'every site reporting its flavors',
    )
    app = kb.appliance(SPEC)
    first = wait(
        lambda: members_on_network(kb, app, minicloud_sites),
        300,
        'both members ACTIVE on it-appnet',
    )
    hosting = {site for site, _, _ in first.values()}
    assert len(hosting) == 2  # spread 2: two real sites
    for site, server_id, address in first.values():
        assert_on_the_network(minicloud_sites[site], server_id, address)

    third = next(n for n in SITE_NAMES if n not in hosting)
    kb.api = fed.knowmon(fed.sites[third])
    leader = fed.leader()
    victim = next(s for s in sorted(hosting) if s != leader.name)
    lost = next(m for m, (s, _, _) in first.items() if s == victim)
    try:
        # The whole site goes: its sodos and its OpenStack services.
        fed.sites[victim].kill()
        minicloud_sites[victim].stop(grace=0)
        after = wait(
            lambda: (lambda m: m if m and m[lost][0] == third else None)(
                members_on_network(kb, app, minicloud_sites)
            ),
            300,
            'member %s ACTIVE on it-appnet at %s' % (lost, third),
        )
        site, server_id, address = after[lost]
        assert_on_the_network(minicloud_sites[third], server_id, address)

        # Gone from the federation: what sodos made is removed where it
        # runs.
        kb.propose('appliance.delete', {'appliance_id': app})
        for name in sorted({s for s, _, _ in after.values()}):
            wait(
                lambda name=name: (
                    not any(
                        n['Name'] == 'it-appnet'
                        for n in openstack(
                            minicloud_sites[name], 'network', 'list'
                        )
                    )
                ),
                180,
                'it-appnet removed at %s' % name,
            )
    finally:
        # The other modules of the session expect every site up.
        minicloud_sites[victim].start()
