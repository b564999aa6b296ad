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

"""How a local site is set up to serve the status page."""

import socket

import pytest

from sodos.cmd import sim as sim_cmd
from sodos.sim import federation
from sodos.sim import ports
from sodos.sim import statuspage


def fed(tmp_path, **kwargs):
    return federation.LocalFederation(str(tmp_path), tls=False, **kwargs)


def test_a_site_serves_the_api_without_auth_at_its_own_place(tmp_path):
    local = fed(tmp_path)
    first = local.add_site(start=False)
    second = local.add_site(start=False)
    one, url = statuspage.options(first)
    two, _ = statuspage.options(second)
    assert one['DEFAULT']['roles'] == [
        'knowmon',
        'exec',
        'analyseplan',
        'api',
    ]
    assert one['api']['auth_strategy'] == 'noauth'
    assert url == 'http://127.0.0.1:%d/dashboard' % one['api']['bind_port']
    assert one['api']['bind_port'] != two['api']['bind_port']
    assert one['site_profile']['location'] == statuspage.LOCATIONS[0]
    assert two['site_profile']['location'] == statuspage.LOCATIONS[1]


def test_the_site_s_own_sections_and_location_are_kept(tmp_path):
    local = fed(tmp_path, roles=('knowmon', 'api'))
    site = local.add_site(start=False)
    own = {'site_profile': {'location': '1,2', 'region': 'r'}, 'x': {'y': 1}}
    extra, _ = statuspage.options(site, own)
    assert 'DEFAULT' not in extra  # the api role is there already
    assert extra['site_profile'] == {'location': '1,2', 'region': 'r'}
    assert extra['x'] == {'y': 1}
    assert own == {
        'site_profile': {'location': '1,2', 'region': 'r'},
        'x': {'y': 1},
    }


def test_serve_writes_the_site_s_config(tmp_path):
    site = fed(tmp_path).add_site(start=False)
    url = statuspage.serve(site, '10,20')
    with open(site.config_path, encoding='utf-8') as f:
        written = f.read()
    assert 'auth_strategy = noauth' in written
    assert 'location = 10,20' in written
    assert 'bind_port = %s' % url.rsplit(':', 1)[1].split('/')[0] in written


def test_sodos_sim_run_takes_status_page():
    args = sim_cmd.parser().parse_args(
        ['run', 'scenario.yaml', '--status-page']
    )
    assert args.status_page is True
    assert sim_cmd.parser().parse_args(['run', 'x.yaml']).status_page is False


@pytest.mark.parametrize(
    'view,expected',
    [
        ({'sites': {'up': 3}, 'voters': ['a', 'b', 'c']}, True),
        # A promotion under way: two voters so far.
        ({'sites': {'up': 3}, 'voters': ['a', 'b']}, False),
        ({'sites': {'up': 2, 'down': 1}, 'voters': ['a', 'b', 'c']}, False),
        ({}, False),
    ],
)
def test_formed_needs_every_site_up_and_every_voter(view, expected):
    assert statuspage.formed(view, 3, 3) is expected


def test_free_port_is_a_port_nothing_listens_on():
    port = ports.free_port()
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', port))
