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

"""sd_notify over a real AF_UNIX datagram socket."""

import os
import socket
import time
import uuid

import pytest

from sodos import systemd


@pytest.fixture
def listener(tmp_path):
    """A datagram socket in tmp_path, as systemd would bind it."""
    path = str(tmp_path / 'notify')
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(path)
        sock.settimeout(5)
        yield path, sock


def fields(sock):
    return sock.recv(4096).decode().split('\n')


def test_ready_stopping_status_reach_the_socket(listener):
    path, sock = listener
    notifier = systemd.Notifier(path)
    assert notifier.enabled
    assert notifier.ready() is True
    assert sock.recv(64) == b'READY=1'
    assert notifier.status('running\nknowmon,  exec') is True
    assert fields(sock) == ['STATUS=running knowmon, exec']
    assert notifier.stopping() is True
    assert sock.recv(64) == b'STOPPING=1'


def test_reloading_says_when_it_began(listener):
    path, sock = listener
    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    systemd.Notifier(path).reloading()
    after = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    reloading, usec = fields(sock)
    assert reloading == 'RELOADING=1'
    assert usec.startswith('MONOTONIC_USEC=')
    assert before <= int(usec.split('=')[1]) <= after


def test_the_address_comes_from_the_environment_then_leaves_it(
    listener, monkeypatch
):
    path, sock = listener
    monkeypatch.setenv('NOTIFY_SOCKET', path)
    notifier = systemd.Notifier()
    # A child process started from now on cannot speak for this one.
    assert 'NOTIFY_SOCKET' not in os.environ
    notifier.ready()
    notifier.stopping()  # still known after the environment is clean
    assert sock.recv(64) == b'READY=1'
    assert sock.recv(64) == b'STOPPING=1'


def test_the_environment_may_be_kept(listener, monkeypatch):
    path, _ = listener
    monkeypatch.setenv('NOTIFY_SOCKET', path)
    systemd.Notifier(unset_environment=False)
    assert os.environ['NOTIFY_SOCKET'] == path


def test_an_abstract_namespace_socket(monkeypatch):
    name = 'sodos-test-%s' % uuid.uuid4().hex
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind('\0' + name)
        sock.settimeout(5)
        monkeypatch.setenv('NOTIFY_SOCKET', '@' + name)
        assert systemd.Notifier().ready() is True
        assert sock.recv(64) == b'READY=1'


def test_without_systemd_nothing_is_sent(monkeypatch):
    monkeypatch.delenv('NOTIFY_SOCKET', raising=False)
    notifier = systemd.Notifier()
    assert not notifier.enabled
    assert notifier.ready() is False
    assert notifier.stopping() is False
    monkeypatch.setenv('NOTIFY_SOCKET', '')
    assert systemd.Notifier().ready() is False


def test_a_vanished_socket_is_logged_not_raised(tmp_path, caplog):
    notifier = systemd.Notifier(str(tmp_path / 'gone'))
    assert notifier.ready() is False
    assert 'cannot notify systemd at %s' % (tmp_path / 'gone') in caplog.text


def test_an_unsupported_address_is_ignored(caplog):
    notifier = systemd.Notifier('vsock:2:1234')
    assert not notifier.enabled
    assert notifier.ready() is False
    assert 'unsupported socket' in caplog.text
