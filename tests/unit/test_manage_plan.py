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

"""sodos-manage site drain|undrain, policy set and plan whatif (what an
operator needs when the API is down), against the in-memory KB."""

import json

import pytest

from sodos.cmd import manage
from sodos.knowmon import rpcapi


class _Client:
    """The site's KnowMon as sodos-manage reaches it, in-process."""

    def __init__(self, api):
        self.api = api

    def __getattr__(self, name):
        return getattr(self.api, name)

    def close(self):
        pass


@pytest.fixture
def cli(api, tmp_path, monkeypatch, capsys):
    path = tmp_path / 'sodos.conf'
    path.write_text(
        '[DEFAULT]\nsite_name = here\nstate_path = %s\n' % tmp_path
    )
    monkeypatch.setattr(
        rpcapi, 'KnowMonAPI', lambda conf, *a, **k: _Client(api)
    )

    def run(*args):
        code = manage.main(['--config-file', str(path), *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_drain_and_undrain(cli, api):
    code, out, _ = cli('site', 'drain', 'here')
    assert code == 0 and 'site here draining' in out
    assert api.read('sites')['here']['maintenance'] == 'draining'
    code, out, _ = cli('site', 'undrain', 'here')
    assert code == 0 and 'site here back in service' in out
    assert api.read('sites')['here']['maintenance'] == ''


def test_the_pause_switch(cli, api):
    assert cli('policy', 'set', 'paused', 'TRUE')[0] == 0
    assert api.read('policy')['paused'] is True
    assert cli('policy', 'set', 'paused', 'false')[0] == 0
    assert api.read('policy')['paused'] is False


def test_the_fair_share_half_life(cli, api):
    code, out, _ = cli('policy', 'set', 'fairshare_half_life_s', '86400')
    assert code == 0 and 'policy fairshare_half_life_s = 86400.0' in out
    assert api.read('policy')['fairshare_half_life_s'] == 86400.0


def test_whatif_answers_without_changing_anything(cli, api):
    before = api.read()
    code, out, _ = cli(
        'plan', 'whatif', '--drain-site', 'here', '--format', 'json'
    )
    assert code == 0
    report = json.loads(out)
    assert report['events'] == {'failed': [], 'drained': ['here']}
    assert report['moves'] == [] and report['unplaced'] == []
    code, out, _ = cli('plan', 'whatif', '--fail-site', 'here')
    assert code == 0 and out.startswith('What if here fails:')
    assert api.read() == before


@pytest.mark.parametrize(
    'args, message',
    [
        (('plan', 'whatif'), 'name at least one --fail-site or --drain-site'),
        (
            ('plan', 'whatif', '--fail-site', 'nowhere'),
            'no site named nowhere in the federation',
        ),
        (('site', 'drain', 'nowhere'), "unknown site 'nowhere'"),
        (
            ('policy', 'set', 'paused', 'maybe'),
            "policy paused takes true or false, not 'maybe'",
        ),
        (
            ('policy', 'set', 'fairshare_half_life_s', 'nan'),
            "policy fairshare_half_life_s takes a number, not 'nan'",
        ),
        (
            ('policy', 'set', 'fairshare_half_life_s', '60'),
            'policy.fairshare_half_life_s must be bigger than or equal',
        ),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(cli, api, args, message):
    before = api.read()
    code, out, err = cli(*args)
    assert code == 2, (out, err)
    assert err.startswith('sodos-manage: error: ') and message in err
    assert len(err.splitlines()) == 1
    assert api.read() == before
