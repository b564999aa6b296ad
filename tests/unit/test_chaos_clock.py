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

"""The chaos suite's clock skew: libfaketime's environment."""

import pytest

from tests.chaos import clock


def test_offsets_are_signed_whole_seconds():
    assert clock.offset(90.4) == '+90'
    assert clock.offset(-300) == '-300'


def test_only_the_wall_clock_is_skewed():
    env = clock.environment('/lib/libfaketime.so.1', -12)
    assert env == {
        'LD_PRELOAD': '/lib/libfaketime.so.1',
        'FAKETIME': '-12',
        'FAKETIME_DONT_FAKE_MONOTONIC': '1',
    }


def test_a_library_that_cannot_be_installed_is_named(monkeypatch):
    monkeypatch.setattr(clock, 'find', lambda: None)
    monkeypatch.setattr(clock, 'install', lambda: 'apt-get: no network')
    with pytest.raises(clock.Unavailable, match='apt-get: no network'):
        clock.ensure()
