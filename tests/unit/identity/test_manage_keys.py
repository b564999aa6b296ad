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

"""sodos-manage identity keys status|replace, against the in-memory KB."""

import io
import json

import pytest

from sodos.cmd import manage
from sodos.identity import crypto
from sodos.identity import fernet
from sodos.kb import commands
from sodos.kb import identity_keys
from sodos.knowmon import fernet_rotation
from sodos.knowmon import rpcapi
from tests.unit.identity.conftest import SECRET

BOX = crypto.PasswordBox(SECRET)


class _Client:
    """The site's KnowMon as sodos-manage reaches it, in-process."""

    def __init__(self, api):
        self.api = api

    def __getattr__(self, name):
        return getattr(self.api, name)

    def close(self):
        pass


@pytest.fixture
def config(tmp_path):
    path = tmp_path / 'sodos.conf'
    path.write_text(
        '[DEFAULT]\nsite_name = here\nstate_path = %s\n'
        '[identity]\nmode = shared\nsecret = %s\n'
        'fernet_max_active_keys = 4\n' % (tmp_path, SECRET)
    )
    return path


@pytest.fixture
def cli(api, config, monkeypatch, capsys):
    monkeypatch.setattr(
        rpcapi, 'KnowMonAPI', lambda conf, *a, **k: _Client(api)
    )

    def run(*args, stdin=''):
        monkeypatch.setattr('sys.stdin', io.StringIO(stdin))
        code = manage.main(
            ['--config-file', str(config), 'identity', 'keys', *args]
        )
        out, err = capsys.readouterr()
        return code, out, err

    return run


def repo_of(knowmon):
    return identity_keys.section(knowmon.backend.read('identity_keys'))['repo']


def table_rows(out):
    """Site -> its cells, from the table of ``keys status``."""
    rows = {}
    for line in out.splitlines():
        cells = [cell.strip() for cell in line.split('|')[1:-1]]
        if cells and cells[0] != 'site':
            rows[cells[0]] = cells
    return rows


def ack(knowmon, site, digest):
    result = knowmon.backend.submit(
        commands.make(
            'identity.keys.ack', {'site': site, 'hash': digest}, site
        )
    )
    assert result['ok'], result


def register(knowmon, site):
    knowmon.backend.submit(
        commands.make(
            'site.register', {'site': site, 'address': site + ':1'}, site
        )
    )


@pytest.fixture
def shared(knowmon):
    """The leader's first keys, held by 'here', not by 'far'; 'new' has
    never acknowledged any."""
    args = fernet_rotation.replacement_args(BOX, 3, 'initial')
    args['initial'] = True
    assert knowmon.backend.propose('identity.keys.set', args)['ok']
    register(knowmon, 'far')
    register(knowmon, 'new')
    repo = repo_of(knowmon)
    ack(knowmon, 'here', repo['hash'])
    ack(knowmon, 'far', 'f' * 64)
    return repo


def test_status_without_keys_says_the_federation_shares_none(cli):
    code, out, err = cli('status')
    assert code == 0 and 'no fernet keys in the Knowledge Base' in out
    code, out, _ = cli('status', '--format', 'json')
    assert json.loads(out) == {'keys': None, 'lagging': [], 'sites': []}


def test_status_tells_each_site_and_the_laggards(cli, shared):
    code, out, err = cli('status')
    assert code == 0, err
    assert 'generation 1, hash %s, 2 keys' % shared['hash'][:12] in out
    assert 'Lagging sites:     far\n' in out
    assert "this site's [identity]secret matches" in out
    rows = table_rows(out)
    assert rows['here'][4] == 'yes'
    assert rows['far'][2:] == ['ffffffffffff', rows['far'][3], 'no (lagging)']
    assert rows['new'][2:] == ['', '', 'no (never acknowledged)']

    code, out, _ = cli('status', '--format', 'json')
    data = json.loads(out)
    assert data['lagging'] == ['far']
    assert data['keys']['generation'] == 1
    assert data['keys']['hash'] == shared['hash'][:12]
    assert data['keys']['key_ids'] == [BOX.key_id]
    by_site = {row['site']: row for row in data['sites']}
    assert by_site['here']['current'] is True
    assert by_site['far']['current'] is False and by_site['far']['lagging']
    assert by_site['new']['holds'] is None
    assert not by_site['new']['lagging']
    # Hashes only: no key leaves the KB, not even encrypted.
    for entry in shared['keys'].values():
        assert entry['ciphertext'] not in out


def test_status_tells_a_secret_that_cannot_read_the_keys(cli, shared, config):
    config.write_text(config.read_text().replace(SECRET, 'another one'))
    code, out, _ = cli('status')
    assert code == 0
    other = crypto.PasswordBox('another one').key_id
    assert '[identity]secret differs (this site has key %s)' % other in out


def test_status_tells_a_site_without_a_secret(cli, shared, config):
    config.write_text(config.read_text().replace('secret = ', 'x = '))
    code, out, _ = cli('status', '--format', 'json')
    assert code == 0
    assert json.loads(out)['keys']['secret'] == 'not set'


def test_replace_with_yes_makes_new_keys_for_every_site(cli, shared, knowmon):
    code, out, err = cli('replace', '--reason', 'key leak at lyon', '--yes')
    assert code == 0, err
    repo = repo_of(knowmon)
    assert (
        'fernet keys replaced: generation 2 (hash %s)' % repo['hash'][:12]
        in out
    )
    assert repo['generation'] == 2 and repo['hash'] != shared['hash']
    assert repo['reason'] == 'key leak at lyon' and repo['by'] == 'here'
    old = set(fernet.unseal(BOX, shared['keys']).values())
    new = fernet.unseal(BOX, repo['keys'])
    # A fresh repository, as fernet_setup makes one: no old key kept.
    assert sorted(new) == [0, 1] and not old & set(new.values())
    # Every site that took part now lags until it writes them.
    _, out, _ = cli('status', '--format', 'json')
    assert json.loads(out)['lagging'] == ['far', 'here']


def test_replace_asks_and_warns_that_every_token_goes(cli, shared, knowmon):
    code, out, err = cli('replace', '--reason', 'leak', stdin='yes\n')
    assert code == 0, err
    assert 'EVERY TOKEN OF EVERY SITE BECOMES INVALID' in out
    assert 'Sites: far, here, new' in out
    assert repo_of(knowmon)['generation'] == 2


@pytest.mark.parametrize('answer', ['no\n', 'y\n', ''])
def test_replace_not_confirmed_changes_nothing(cli, shared, knowmon, answer):
    code, out, err = cli('replace', '--reason', 'leak', stdin=answer)
    assert code == 1
    assert 'BECOMES INVALID' in out and 'keys are unchanged' in err
    assert repo_of(knowmon) == shared


@pytest.mark.parametrize(
    'args, message',
    [
        (('--reason', '  '), '--reason is empty'),
        (('--reason', 'x' * 256), 'at most 255 characters'),
        (('--reason', 'two\nlines'), 'one line'),
    ],
)
def test_a_bad_reason_is_a_clear_error(cli, shared, knowmon, args, message):
    code, _, err = cli('replace', *args, '--yes')
    assert code == 2 and message in err and 'Traceback' not in err
    assert repo_of(knowmon) == shared


def test_replace_refused_without_a_secret(cli, shared, knowmon, config):
    config.write_text(config.read_text().replace('secret = ', 'x = '))
    code, _, err = cli('replace', '--reason', 'leak', '--yes')
    assert code == 2 and '[identity]secret is not set' in err
    assert 'Traceback' not in err
    assert repo_of(knowmon) == shared


def test_replace_refused_with_another_secret(cli, shared, knowmon, config):
    config.write_text(config.read_text().replace(SECRET, 'another one'))
    code, _, err = cli('replace', '--reason', 'leak', '--yes')
    assert code == 2
    assert (
        'encrypted with another [identity]secret (key %s' % (BOX.key_id) in err
    )
    assert repo_of(knowmon) == shared


def test_replace_after_the_secret_changed_everywhere(
    cli, shared, knowmon, config
):
    # The leader cannot rotate keys of a former secret: a replacement
    # made with the new one is the way out.
    config.write_text(config.read_text().replace(SECRET, 'another one'))
    code, out, err = cli(
        'replace', '--reason', 'new secret', '--secret-changed', '--yes'
    )
    assert code == 0, err
    repo = repo_of(knowmon)
    assert repo['generation'] == 2
    other = crypto.PasswordBox('another one')
    assert {e['key_id'] for e in repo['keys'].values()} == {other.key_id}
    assert sorted(fernet.unseal(other, repo['keys'])) == [0, 1]


def test_replace_refused_when_the_federation_shares_no_keys(cli, knowmon):
    code, _, err = cli('replace', '--reason', 'leak', '--yes')
    assert code == 2 and 'nothing to replace' in err
    assert repo_of(knowmon) is None


def test_a_commit_timeout_says_to_look_before_trying_again(
    cli, shared, knowmon, api, monkeypatch
):
    monkeypatch.setattr(
        api,
        'submit',
        lambda command, timeout=None: {
            'ok': False,
            'timeout': True,
            'error': 'not in contact with a quorum',
        },
    )
    code, _, err = cli('replace', '--reason', 'leak', '--yes')
    assert code == 2
    assert 'not in contact with a quorum' in err
    assert 'identity keys status' in err and 'Traceback' not in err
    assert repo_of(knowmon) == shared
