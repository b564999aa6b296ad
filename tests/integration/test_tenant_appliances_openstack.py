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

"""Tenants' appliances on three real OpenStack sites.

Three ``sodos-site`` processes, every role, the federation's identity
converged into each site's Keystone. The first site serves the REST API
with Keystone tokens. An admin makes two tenants with ``openstack sodos
identity``; each logs in with its own credentials and uses ``openstack
sodos appliance`` and the plain ``openstack`` CLI at each site.

A hosting site is killed whole (its sodos and OpenStack services), the
last test of the module: the sites are rebuilt for the next module.

The planner is set to weigh cost only, the second site the cheapest and
the first the dearest: what it tries first is known.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from novaclient import client as nova_client

from sodos.api import tenant_view
from sodos.sim import ports
from tests import clouds
from tests import kbwriter
from tests.functional.test_osc import _openstack_command
from tests.integration import sodos_sites as sodos_sites_mod
from tests.integration.conftest import SITE_NAMES

API_SITE, CHEAP, MIDDLE = SITE_NAMES
COSTS = {API_SITE: 3.0, CHEAP: 1.0, MIDDLE: 2.0}
API_PORT = ports.free_port()
SECRET = 'integration tenants secret'
TENANTS = {
    'alice': ('it-tenant-alice', 'it-alice-Passw0rd'),
    'bob': ('it-tenant-bob', 'it-bob-Passw0rd'),
}
USER_DATA = '#cloud-config\nhostname: it-web\n'
NETWORK = 'it-appnet'
CIDR = '10.42.0.0/24'
RULES = [
    {'direction': 'ingress', 'protocol': 'tcp', 'ports': '22',
     'remote_cidr': '0.0.0.0/0'},
    {'direction': 'ingress', 'protocol': 'icmp'},
]  # fmt: skip
WAIT = 300.0


def _public_key():
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode()


PUBLIC_KEY = _public_key()


def _tune_site(settings, mc):
    settings['identity'] = {
        'mode': 'api',
        'secret': SECRET,
        'sync_interval': 0.5,
        'audit_interval': 3,
    }
    settings['exec']['monitor_interval'] = 5
    settings['analyseplan'] = {
        'loop_interval': 1.0,
        'weights': 'cost:1.0,free_ram:0.0,energy:0.0,latency:0.0',
    }
    settings['site_profile'] = {'cost_per_vcpu_hour': COSTS[mc.name]}
    if mc.name == API_SITE:
        settings['DEFAULT'] = {
            'roles': ['knowmon', 'exec', 'analyseplan', 'api']
        }
        settings['api'] = {'auth_strategy': 'keystone', 'bind_port': API_PORT}
        authtoken = dict(clouds.site_auth(mc))
        authtoken.pop('valid_interfaces')
        authtoken['www_authenticate_uri'] = mc.auth_url
        settings['keystone_authtoken'] = authtoken


@pytest.fixture(scope='module')
def fed(minicloud_sites, tmp_path_factory):
    with sodos_sites_mod.running_federation(
        minicloud_sites,
        str(tmp_path_factory.mktemp('sodos-tenants')),
        voter_count=3,
        tune_site=_tune_site,
    ) as fed:
        yield fed


@pytest.fixture(scope='module')
def kb(fed):
    # Read through the API's site, which is never killed.
    return kbwriter.KBWriter(fed.knowmon(fed.sites[API_SITE]), origin='it')


def openstack(mc, who, *args, stdin=None, check=True):
    """``openstack ARGS`` at site ``mc`` as ``who`` (a tenant, or the
    site's admin), the sodos commands against the API's site."""
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    env.pop('SODOS_URL', None)
    if who == 'admin':
        auth = clouds.site_auth(mc)
        username, password = auth['username'], auth['password']
        project = auth['project_name']
    else:
        project, password = TENANTS[who]
        username = 'it-' + who
    argv = [
        _openstack_command(),
        '--os-auth-url', mc.auth_url,
        '--os-username', username,
        '--os-password', password,
        '--os-project-name', project,
        '--os-user-domain-name', 'Default',
        '--os-project-domain-name', 'Default',
        '--os-region-name', mc.region,
        '--os-sodos-url', 'http://127.0.0.1:%d' % API_PORT,
        *args,
    ]  # fmt: skip
    done = subprocess.run(argv, env=env, input=stdin, text=True,
                          capture_output=True, timeout=WAIT + 60)  # fmt: skip
    if check:
        assert done.returncode == 0, done.stderr
    return done


def as_json(done):
    return json.loads(done.stdout)


def cli(mc, who, *args):
    """``openstack ARGS -f json`` as ``who``, its answer."""
    return as_json(openstack(mc, who, *args, '-f', 'json'))


def sodos(mc, who, *args):
    """``openstack sodos ARGS -f json`` as ``who``, its answer."""
    return cli(mc, who, 'sodos', *args)


def tenant_servers(mc, who):
    """``openstack server list`` as the tenant at site ``mc``."""
    return {s['Name']: s for s in cli(mc, who, 'server', 'list')}


def named(rows, name):
    return [row for row in rows if row['Name'] == name]


def admin_nova(mc):
    return nova_client.Client(
        '2.79', session=mc.session(), region_name=mc.region
    )


def assert_boot_data(server, appliance_id):
    """The key, user data and metadata of the spec (admins read a
    server's user data, base64, from microversion 2.3)."""
    assert server.key_name == 'sodos-' + appliance_id
    assert server.metadata['tier'] == 'web'
    user_data = getattr(server, 'OS-EXT-SRV-ATTR:user_data')
    assert base64.b64decode(user_data).decode() == USER_DATA


def spec_file(tmp_path, name, **spec):
    path = tmp_path / ('%s.json' % name)
    path.write_text(json.dumps(dict(spec, name=name)))
    return str(path)


@pytest.fixture(scope='module')
def tenants(fed, kb, minicloud_sites):
    """Two tenants, made by the API site's admin; {who: the project as
    ``identity project show`` gives it: its global ``id``, its id at
    each site in ``site_ids``}. Bob's project may run no server at the
    cheapest site."""
    api_site = minicloud_sites[API_SITE]
    for who, (project, password) in TENANTS.items():
        openstack(api_site, 'admin', 'sodos', 'identity', 'project',
                  'create', project)  # fmt: skip
        openstack(api_site, 'admin', 'sodos', 'identity', 'user', 'create',
                  'it-' + who, '--password-stdin',
                  stdin=password + '\n')  # fmt: skip
        openstack(api_site, 'admin', 'sodos', 'identity', 'role-assignment',
                  'create', '--role', 'member', '--user', 'it-' + who,
                  '--project', project)  # fmt: skip
    ids = {}
    for who, (project, _password) in TENANTS.items():

        def everywhere(project=project):
            shown = sodos(api_site, 'admin', 'identity', 'project', 'show',
                          project)  # fmt: skip
            return shown if len(shown.get('site_ids') or {}) == 3 else None

        ids[who] = sodos_sites_mod.wait_for(
            everywhere, 'project %s at every site' % project, WAIT
        )
    bob_at_cheap = ids['bob']['site_ids'][CHEAP]
    admin_nova(minicloud_sites[CHEAP]).quotas.update(bob_at_cheap, instances=0)
    kb.wait_monitoring(
        lambda m: all(
            (m.get(n) or {}).get('summary', {}).get('flavors')
            for n in SITE_NAMES
        ),
        120,
        'every site reporting its flavors',
    )
    return ids


@pytest.fixture(scope='module')
def site_of(kb, minicloud_sites):
    """A tenant sees sites as labels ([api]expose_site_names_to_tenants
    is off by default): the site a label stands for. A name is refused:
    the tenant must not see one."""
    federation_id = kb.api.read('federation')['id']
    names = {
        tenant_view.label(federation_id, name): name
        for name in minicloud_sites
    }

    def site(shown):
        assert shown in names, '%r is not a site label' % shown
        return names[shown]

    return site


def test_a_site_refusing_for_quota_is_left_and_shown(
    tenants, minicloud_sites, site_of, tmp_path
):
    api_site = minicloud_sites[API_SITE]
    path = spec_file(
        tmp_path,
        'it-quota',
        members=[{'name': 'db', 'image': 'fake-image', 'flavor': 'm1.tiny'}],
        constraints={'sites': [CHEAP, MIDDLE]},
    )
    created = sodos(api_site, 'bob', 'appliance', 'create', '--file', path,
                    '--wait', '--timeout', str(int(WAIT)))  # fmt: skip
    (db,) = created['members']
    assert (site_of(db['site']), db['state']) == (MIDDLE, 'ACTIVE')
    (refusal,) = db['refused']
    assert site_of(refusal['site']) == CHEAP
    assert 'Quota exceeded' in refusal['reason'], refusal
    assert created['project_id'] == tenants['bob']['id']
    assert 'it-quota' not in ''.join(tenant_servers(
        minicloud_sites[CHEAP], 'bob'))  # fmt: skip
    assert len(tenant_servers(minicloud_sites[MIDDLE], 'bob')) == 1


def on_the_network(shown):
    """{member: (site label, server id, address)} once every member of
    the appliance ``shown`` is ACTIVE with one address in CIDR."""
    found = {}
    for m in shown['members']:
        ips = m.get('addresses') or []
        if m['state'] != 'ACTIVE' or len(ips) != 1:
            return None
        if ipaddress.ip_address(ips[0]) not in ipaddress.ip_network(CIDR):
            return None
        found[m['member']] = (m['site'], m['server_id'], ips[0])
    return found


def assert_alices_member(mc, project, appliance_id, server_id, address):
    """What the plain CLI shows alice at site ``mc``: the server in her
    project (``project``, its id there), its port on the same-named
    network of her project with the same CIDR, in the security group;
    and the spec's key, user data and metadata on the server."""
    servers = {s['ID']: s for s in cli(mc, 'alice', 'server', 'list')}
    assert servers[server_id]['Status'] == 'ACTIVE'
    assert NETWORK in json.dumps(servers[server_id]['Networks'])
    [network] = named(cli(mc, 'alice', 'network', 'list', '--long'), NETWORK)
    assert network['Project'] == project
    [subnet] = cli(mc, 'alice', 'subnet', 'list', '--network', network['ID'])
    assert subnet['Subnet'] == CIDR
    [port] = cli(mc, 'alice', 'port', 'list', '--server', server_id, '--long')
    assert address in json.dumps(port['Fixed IP Addresses'])
    assert port['Status'] == 'ACTIVE'
    [group] = named(cli(mc, 'alice', 'security', 'group', 'list'), NETWORK)
    assert group['ID'] in json.dumps(port['Security Groups'])
    detail = admin_nova(mc).servers.get(server_id)
    assert detail.tenant_id == project
    assert_boot_data(detail, appliance_id)


def test_a_tenants_appliance_on_its_network_is_rebuilt_in_its_project(
    fed, kb, tenants, minicloud_sites, site_of, tmp_path
):
    api_site = minicloud_sites[API_SITE]
    alice = tenants['alice']['site_ids']
    path = spec_file(
        tmp_path,
        'it-shop',
        networks=[{'name': NETWORK, 'cidr': CIDR,
                   'security_group': {'rules': RULES}}],
        members=[{'name': 'web', 'image': 'fake-image', 'flavor': 'm1.tiny',
                  'count': 2, 'networks': [NETWORK]}],
        constraints={'spread': 2},
        public_key=PUBLIC_KEY,
        user_data=USER_DATA,
        metadata={'tier': 'web'},
    )  # fmt: skip
    created = sodos(api_site, 'alice', 'appliance', 'create', '--file', path,
                    '--wait', '--timeout', str(int(WAIT)))  # fmt: skip
    app = created['id']
    assert created['project_id'] == tenants['alice']['id']

    def shown():
        return sodos(api_site, 'alice', 'appliance', 'show', app)

    first = sodos_sites_mod.wait_for(
        lambda: on_the_network(shown()), 'both members on the network', WAIT
    )
    placed = {
        member: site_of(label) for member, (label, _, _) in first.items()
    }
    # Cost only: the two cheapest sites.
    assert set(placed.values()) == {CHEAP, MIDDLE}
    for member, (_, server_id, address) in first.items():
        site = placed[member]
        assert_alices_member(
            minicloud_sites[site], alice[site], app, server_id, address
        )
    # The other tenant sees none of it.
    listed = sodos(api_site, 'bob', 'appliance', 'list')
    assert app not in [row['ID'] for row in listed]
    for verb in ('show', 'delete'):
        refused = openstack(api_site, 'bob', 'sodos', 'appliance', verb, app,
                            check=False)  # fmt: skip
        assert refused.returncode != 0
        assert 'no appliance' in refused.stderr, refused.stderr
    assert app in kb.api.read('appliances')

    # A hosting site goes whole (not the Raft leader's: quicker). It
    # stays down for the rest of this module, so this test is its last.
    victim = next(s for s in (CHEAP, MIDDLE) if s != fed.leader().name)
    survivor = next(s for s in (CHEAP, MIDDLE) if s != victim)
    lost = next(m for m, s in placed.items() if s == victim)
    sodos_sites_mod.kill_site(fed, minicloud_sites, victim)

    def rebuilt():
        found = on_the_network(shown())
        return found if found and found[lost][0] != first[lost][0] else None

    after = sodos_sites_mod.wait_for(
        rebuilt, 'member %s rebuilt on the network' % lost, WAIT
    )
    label, server_id, address = after[lost]
    assert site_of(label) == API_SITE
    assert_alices_member(api_site, alice[API_SITE], app, server_id, address)
    # Bob neither sees the server or its network nor deletes it.
    bobs = cli(api_site, 'bob', 'server', 'list')
    assert server_id not in [s['ID'] for s in bobs]
    assert not named(cli(api_site, 'bob', 'network', 'list'), NETWORK)
    refused = openstack(api_site, 'bob', 'server', 'delete', server_id,
                        check=False)  # fmt: skip
    assert refused.returncode != 0

    # Deleted by alice: the network sodos made goes where it ran.
    openstack(api_site, 'alice', 'sodos', 'appliance', 'delete', app,
              '--wait', '--timeout', str(int(WAIT)))  # fmt: skip
    for site in (survivor, API_SITE):
        mc = minicloud_sites[site]
        sodos_sites_mod.wait_for(
            lambda mc=mc: (
                not named(cli(mc, 'alice', 'network', 'list'), NETWORK)
            ),
            '%s removed at %s' % (NETWORK, site),
            WAIT,
        )
