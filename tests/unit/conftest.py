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

import pytest
from oslo_config import cfg

from sodos import conf as sodos_conf
from sodos.kb import commands
from sodos.knowmon import manager
from sodos.knowmon import role as knowmon_role


@pytest.fixture
def conf(tmp_path):
    conf = cfg.ConfigOpts()
    sodos_conf.register_opts(conf)
    conf([], project='sodos', default_config_files=[])
    conf.set_override('site_name', 'here')
    conf.set_override('state_path', str(tmp_path))
    conf.set_override('state_backend', 'memory', 'knowmon')
    conf.set_override('serve_rpc', False, 'knowmon')
    return conf


@pytest.fixture
def knowmon(conf):
    """A started KnowMon role on the in-memory KB, with 'here' registered."""
    role = knowmon_role.KnowMonRole(conf)
    role.backend.start()
    # Registered as this code registers a site: with the KB schema it
    # knows, so that every command may be proposed.
    role.backend.propose(
        'site.register',
        {
            'site': 'here',
            'address': 'h:1',
            'info': {'kb_schema': commands.SCHEMA_VERSION},
        },
    )
    yield role
    role.backend.stop()


@pytest.fixture
def make_member(tmp_path, site_tls):
    """Start one-member raft federations on loopback; stop them after."""
    from sodos.kb.raft import backend
    from sodos.sim import ports

    started = []

    def make(site='site-a'):
        conf = cfg.ConfigOpts()
        sodos_conf.register_opts(conf)
        conf([], project='sodos', default_config_files=[])
        conf.set_override('site_name', site)
        conf.set_override('state_path', str(tmp_path / site))
        conf.set_override('address', ports.free_address(), 'raft')
        conf.set_override('password', 'test-password', 'raft')
        for name, value in site_tls.items():
            conf.set_override(name, value, 'raft')
        member = backend.RaftBackend(conf)
        member.start()
        started.append(member)
        assert member.wait_ready(15)
        return member

    yield make
    for member in started:
        member.stop()


@pytest.fixture
def api(knowmon):
    return manager.LocalKnowMonAPI(knowmon.manager)
