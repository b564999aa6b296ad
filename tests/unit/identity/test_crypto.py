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

"""Passwords are encrypted with the federation secret, never stored plain."""

import json

import pytest

from sodos.identity import crypto
from sodos.kb import commands


def test_round_trip_and_fresh_ciphertext_each_time(box):
    one, two = box.encrypt('pässword'), box.encrypt('pässword')
    assert one['ciphertext'] != two['ciphertext']
    assert box.decrypt(one) == box.decrypt(two) == 'pässword'
    assert one['key_id'] == box.key_id


def test_the_same_secret_gives_the_same_key_at_every_site(box):
    other_site = crypto.PasswordBox('federation identity secret')
    assert other_site.decrypt(box.encrypt('x')) == 'x'


def test_another_secret_is_named_as_the_cause(box):
    stored = box.encrypt('x')
    with pytest.raises(crypto.SecretError, match='another \\[identity\\]'):
        crypto.PasswordBox('not the same').decrypt(stored)


def test_a_damaged_ciphertext_is_refused(box):
    stored = box.encrypt('x')
    stored['ciphertext'] = stored['ciphertext'][:-4] + 'AAAA'
    with pytest.raises(crypto.SecretError, match='cannot be decrypted'):
        box.decrypt(stored)


@pytest.mark.parametrize('secret', [None, ''])
def test_no_secret_no_box(secret):
    with pytest.raises(crypto.SecretError, match='secret is not set'):
        crypto.PasswordBox(secret)


@pytest.mark.parametrize('bad', ['', 'x' * 1025, None])
def test_bad_passwords_are_refused(box, bad):
    with pytest.raises(crypto.SecretError):
        box.encrypt(bad)


def test_repr_shows_no_key(box):
    assert 'secret' not in repr(box) and box.key_id in repr(box)


def test_the_command_carries_only_ciphertext(box):
    plain = 'Plain-Text-Pa55'
    cmd = commands.make(
        'identity.user.put',
        {
            'user_id': 'a' * 32,
            'name': 'alice',
            'domain_id': 'default',
            'password': box.encrypt(plain),
        },
        'here',
    )
    assert plain not in json.dumps(cmd.to_wire())


def test_a_plaintext_password_is_refused_by_the_kb():
    from sodos import exception

    with pytest.raises(exception.InvalidCommand, match='password'):
        commands.make(
            'identity.user.put',
            {
                'user_id': 'a' * 32,
                'name': 'alice',
                'domain_id': 'default',
                'password': {'ciphertext': 'hunter2', 'key_id': '0' * 16},
            },
            'here',
        )
