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
from sodos.conf import opts


def make(tmp_path, text=''):
    path = tmp_path / 'sodos.conf'
    path.write_text(text)
    conf = cfg.ConfigOpts()
    sodos_conf.register_opts(conf)
    sodos_conf.register_opts(conf)  # twice is harmless
    conf(['--config-file', str(path)], project='sodos')
    return conf


def test_defaults(tmp_path):
    conf = make(tmp_path)
    assert conf.raft.voter_count == 5
    assert conf.raft.data_dir == '/var/lib/sodos/raft'
    assert conf.roles == ['knowmon', 'exec', 'analyseplan']
    assert conf.database.connection == 'sqlite:////var/lib/sodos/sodos.sqlite'


def test_state_path_moves_the_data(tmp_path):
    conf = make(tmp_path, '[DEFAULT]\nstate_path = /srv/sodos\n')
    assert conf.raft.data_dir == '/srv/sodos/raft'


def test_password_is_secret():
    raft = dict(opts.list_opts())
    found = [
        o
        for g, group in opts.list_opts()
        for o in group
        if o.name == 'password'
    ]
    assert raft and found and all(o.secret for o in found)


def test_every_group_is_listed_for_the_generator():
    names = {getattr(g, 'name', g) for g, _ in opts.list_opts()}
    assert {
        None,
        'raft',
        'knowmon',
        'exec',
        'analyseplan',
        'database',
    } <= names
    assert all(group for _, group in opts.list_opts())


def test_bad_value_names_the_option(tmp_path):
    conf = make(tmp_path, '[raft]\nvoter_count = 4\n')
    with pytest.raises(cfg.ConfigFileValueError, match='voter_count'):
        _ = conf.raft.voter_count


def test_overrides_do_not_leak_between_confs(tmp_path):
    first, second = make(tmp_path), make(tmp_path)
    first.set_override('address', '127.0.0.1:1', 'raft')
    assert second.raft.address is None
