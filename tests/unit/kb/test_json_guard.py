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

"""The KB's last guard: a command carrying what JSON cannot is refused
before it is proposed, whoever made it."""

import math

import pytest

from sodos import exception
from sodos.kb import commands


@pytest.fixture
def proposed(knowmon, monkeypatch):
    """The commands that reached the backend's submit_async."""
    backend = knowmon.backend
    seen = []
    submit_async = backend.submit_async

    def recording(command, timeout=None):
        seen.append(command.type)
        return submit_async(command, timeout)

    monkeypatch.setattr(backend, 'submit_async', recording)
    return seen


def profile(**fields):
    return {'site': 'here', 'profile': fields}


@pytest.mark.parametrize(
    'args, where',
    [
        (profile(pue=math.nan), 'site.profile.profile.pue: NaN'),
        (
            profile(carbon_intensity=math.nan),
            'site.profile.profile.carbon_intensity: NaN',
        ),
        (profile(region='lab\ud800'), 'site.profile.profile.region: string'),
        (profile(labels={'\udc00': 'x'}), 'site.profile.profile.labels: key'),
    ],
)
def test_propose_refuses_it_and_the_kb_is_unchanged(
    knowmon, proposed, args, where
):
    backend = knowmon.backend
    before, applied = backend.read(), backend.status().last_applied
    with pytest.raises(exception.InvalidCommand) as info:
        backend.propose('site.profile', args)
    assert str(info.value).startswith(where)
    assert proposed == []
    assert backend.read() == before
    assert backend.status().last_applied == applied


def test_a_bad_command_in_a_batch_is_answered_alone(knowmon, proposed):
    backend = knowmon.backend
    results = backend.submit_many(
        [
            backend.command('site.profile', profile(pue=1.5)),
            backend.command('site.profile', profile(pue=math.nan)),
            backend.command('site.profile', profile(region='eu')),
        ]
    )
    assert [r['ok'] for r in results] == [True, False, True]
    assert 'NaN is not allowed' in results[1]['error']
    assert proposed == ['site.profile', 'site.profile']
    assert backend.read('sites')['here']['profile_overrides'] == {
        'pue': 1.5,
        'region': 'eu',
    }


def test_a_command_over_rpc_carrying_nan_is_refused(knowmon, proposed):
    # What a KnowMon receives: JSON decoders accept NaN, the schemas too.
    wire = commands.make('site.profile', profile(pue=math.nan), 'x').to_wire()
    before = knowmon.backend.read()
    result = knowmon.manager.submit(None, wire)
    assert result['ok'] is False
    assert 'site.profile.profile.pue: NaN is not allowed' in result['error']
    assert proposed == []
    assert knowmon.backend.read() == before
