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


@pytest.fixture
def make_conf(tmp_path, site_tls):
    """A private ConfigOpts for one member, with loopback defaults."""

    def make(site='site-a', address='127.0.0.1:0', **raft):
        conf = cfg.ConfigOpts()
        sodos_conf.register_opts(conf)
        conf([], project='sodos', default_config_files=[])
        conf.set_override('site_name', site)
        conf.set_override('state_path', str(tmp_path / site))
        conf.set_override('address', address, 'raft')
        conf.set_override('data_dir', str(tmp_path / site / 'raft'), 'raft')
        conf.set_override('password', 'test-password', 'raft')
        for name, value in site_tls.items():
            conf.set_override(name, value, 'raft')
        for name, value in raft.items():
            conf.set_override(name, value, 'raft')
        return conf

    return make
