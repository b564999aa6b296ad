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
from keystoneauth1 import loading as ks_loading
from oslo_config import cfg
from oslo_db import options as db_options

from sodos import conf as sodos_conf
from sodos.conf import database
from sodos.conf import keystoneauth
from sodos.conf import opts

GROUPS = {
    None,
    'raft',
    'knowmon',
    'exec',
    'identity',
    'image_relay',
    'image_transfer',
    'simulator',
    'site_auth',
    'site_profile',
    'analyseplan',
    'database',
    'api',
    'metrics',
}


def make(tmp_path, text=''):
    path = tmp_path / 'sodos.conf'
    path.write_text(text)
    conf = cfg.ConfigOpts()
    sodos_conf.register_opts(conf)
    sodos_conf.register_opts(conf)  # twice is harmless
    conf(['--config-file', str(path)], project='sodos')
    return conf


def all_opts():
    return [opt for _, group in opts.list_opts() for opt in group]


def test_defaults(tmp_path):
    conf = make(tmp_path)
    assert conf.raft.voter_count == 5
    assert conf.raft.data_dir == '/var/lib/sodos/raft'
    assert conf.raft.join == []
    assert conf.raft.password is None
    assert conf.roles == ['knowmon', 'exec', 'analyseplan']
    assert conf.knowmon.rpc_topic == 'sodos-knowmon'
    assert conf.exec.driver == 'simulator'
    assert conf.database.connection == 'sqlite:////var/lib/sodos/sodos.sqlite'


def test_state_path_moves_the_data(tmp_path):
    conf = make(tmp_path, '[DEFAULT]\nstate_path = /srv/sodos\n')
    assert conf.raft.data_dir == '/srv/sodos/raft'
    assert conf.database.connection == 'sqlite:////srv/sodos/sodos.sqlite'


def test_config_file_values(tmp_path):
    conf = make(
        tmp_path,
        '[DEFAULT]\nsite_name = paris-1\nroles = knowmon\n'
        '[raft]\naddress = 192.0.2.10:7700\n'
        'join = 192.0.2.20:7700,192.0.2.30:7700\nvoter_count = 3\n',
    )
    assert conf.site_name == 'paris-1'
    assert conf.roles == ['knowmon']
    assert conf.raft.join == ['192.0.2.20:7700', '192.0.2.30:7700']
    assert conf.raft.voter_count == 3


def test_password_is_secret():
    found = [o for o in all_opts() if o.name == 'password']
    assert found and all(o.secret for o in found)


def test_every_group_is_listed_for_the_generator():
    listing = opts.list_opts()
    assert {getattr(g, 'name', g) for g, _ in listing} == GROUPS
    assert all(group for _, group in listing)


def test_keystoneauth_options_wait_for_first_use(tmp_path):
    # A site whose Exec talks to no OpenStack never loads keystoneauth1;
    # the values the file gives are there once the group is used.
    conf = make(tmp_path, '[site_auth]\nauth_type = password\ntimeout = 7\n')
    assert 'auth_type' not in conf.site_auth
    keystoneauth.register_keystoneauth(conf, 'site_auth')
    keystoneauth.register_keystoneauth(conf, 'site_auth')  # again: harmless
    assert conf.site_auth.auth_type == 'password'
    assert conf.site_auth.timeout == 7


def test_every_listed_option_is_registered(tmp_path):
    conf = make(tmp_path)
    for group in ('site_auth', 'image_transfer'):
        keystoneauth.register_keystoneauth(conf, group)
    # The auth plugin's own options are registered when it is loaded (the
    # plugin is an option too); the sample lists the password plugin's.
    by_plugin = {
        o.dest for o in ks_loading.get_auth_plugin_conf_options('password')
    }
    for group, group_opts in opts.list_opts():
        name = getattr(group, 'name', group)
        section = conf if name is None else conf[name]
        for opt in group_opts:
            if name in ('site_auth', 'image_transfer') and (
                opt.dest in by_plugin
            ):
                continue
            assert opt.dest in section


@pytest.mark.parametrize(
    'group,name,value',
    [
        ('raft', 'voter_count', '4'),
        ('raft', 'voter_count', 'five'),
        ('raft', 'heartbeat_period', '-1'),
        ('knowmon', 'site_down_timeout', '0'),
        ('raft', 'batch_append_entries', 'perhaps'),
        ('analyseplan', 'failed_site_retry_after', '-1'),
    ],
)
def test_bad_value_names_the_option(tmp_path, group, name, value):
    conf = make(tmp_path, '[%s]\n%s = %s\n' % (group, name, value))
    with pytest.raises(cfg.ConfigFileValueError, match=name):
        conf[group][name]


def test_max_inflight_bytes_below_its_minimum_is_refused(tmp_path):
    conf = make(tmp_path, '[raft]\nmax_inflight_bytes = 1023\n')
    with pytest.raises(
        cfg.ConfigFileValueError,
        match='max_inflight_bytes.*greater than or equal to 1024',
    ):
        conf['raft']['max_inflight_bytes']
    conf = make(tmp_path, '[raft]\nmax_inflight_bytes = 1024\n')
    assert conf.raft.max_inflight_bytes == 1024


def test_loop_settings_reload_on_sighup(tmp_path):
    conf = make(tmp_path, '[knowmon]\nloop_interval = 1\n')
    assert conf.knowmon.loop_interval == 1.0
    (tmp_path / 'sodos.conf').write_text(
        '[knowmon]\nloop_interval = 2\n[raft]\naddress = 192.0.2.1:1\n'
    )
    conf.mutate_config_files()
    assert conf.knowmon.loop_interval == 2.0
    # Not mutable: a running member keeps the address it started with.
    assert conf.raft.address is None


def test_loop_intervals_are_mutable():
    mutable = {
        (getattr(g, 'name', g), o.name)
        for g, group in opts.list_opts()
        for o in group
        if o.mutable
    }
    for group in ('knowmon', 'exec', 'analyseplan'):
        assert (group, 'loop_interval') in mutable
    assert ('raft', 'voter_replace_timeout') in mutable
    assert ('raft', 'address') not in mutable


def test_overrides_do_not_leak_between_confs(tmp_path):
    first, second = make(tmp_path), make(tmp_path)
    first.set_override('address', '127.0.0.1:1', 'raft')
    assert second.raft.address is None


def test_set_lib_defaults_changes_the_sample_default():
    connection = next(
        o for o in db_options.database_opts if o.dest == 'connection'
    )
    saved = connection.default
    try:
        opts.set_lib_defaults()
        assert connection.default == database.DEFAULT_CONNECTION
    finally:
        connection.default = saved
