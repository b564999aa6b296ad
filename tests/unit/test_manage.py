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

import json

import pytest

from sodos.cmd import manage
from sodos.kb.raft import store
from sodos.sim import ports
from tests.conftest import tls_lines


@pytest.fixture
def config(tmp_path, site_tls):
    path = tmp_path / 'sodos.conf'
    path.write_text(
        '[DEFAULT]\nsite_name = here\nstate_path = %s\n'
        '[raft]\naddress = %s\npassword = p\n%s'
        % (tmp_path, ports.free_address(), tls_lines(site_tls))
    )
    return str(path)


def run(config, *args):
    return manage.main(['--config-file', config, *args])


def test_status_of_a_stopped_member_says_which(config, capsys):
    assert run(config, 'federation', 'status') == 2
    err = capsys.readouterr().err
    assert err.startswith('sodos-manage: error: member 127.0.0.1:')
    assert 'does not answer' in err
    assert 'Traceback' not in err


def test_join_with_a_bad_peer_is_refused(config, capsys, tmp_path):
    assert run(config, 'federation', 'join', '--peer', 'nowhere') == 2
    assert "--peer: 'nowhere' is not HOST:PORT" in capsys.readouterr().err
    assert not (tmp_path / 'raft').exists()


def test_bootstrap_writes_the_record_once(config, capsys, tmp_path):
    assert run(config, 'federation', 'bootstrap') == 0
    record = store.MembershipFile(str(tmp_path / 'raft')).load()
    assert len(record['voters']) == 1
    assert run(config, 'federation', 'bootstrap') == 2
    assert 'already holds this member' in capsys.readouterr().err
    assert store.MembershipFile(str(tmp_path / 'raft')).load() == record


def test_missing_subcommand_is_a_usage_error(config):
    with pytest.raises(SystemExit) as exit_:
        run(config, 'federation')
    assert exit_.value.code == 2


def test_status_json_of_a_running_member(
    tmp_path, make_member, capsys, site_tls
):
    member = make_member()
    config = tmp_path / 'm.conf'
    config.write_text(
        '[DEFAULT]\nsite_name = site-a\n[raft]\naddress = %s\n'
        'password = test-password\n%s' % (member.address, tls_lines(site_tls))
    )
    assert (
        manage.main(
            [
                '--config-file',
                str(config),
                'federation',
                'status',
                '--format',
                'json',
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report['leader'] == member.address
    assert [m['site'] for m in report['members']] == ['site-a']
