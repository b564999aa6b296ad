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

"""What a stranger can send to a member's Raft port (sodos.kb.raft.frames).

A frame announced past [raft]max_frame_bytes is refused before anything
of it is buffered, and a frame that does not decrypt drops the
connection; both are logged, and the member keeps committing.
"""

import logging
import os
import socket
import struct
import time

import pytest

from sodos.kb.raft import backend as raft_backend
from sodos.kb.raft import frames
from sodos.sim import ports


@pytest.fixture(autouse=True)
def fresh_log_limit(monkeypatch):
    # Drops are logged once per peer host per LOG_EVERY seconds; every
    # test here connects from the same host.
    monkeypatch.setattr(frames, '_logged', {})


@pytest.fixture
def member(make_conf):
    member = raft_backend.RaftBackend(
        make_conf(address=ports.free_address(), voter_count=1)
    )
    member.start()
    try:
        assert member.wait_ready(15), member.problem
        yield member
    finally:
        member.stop()


def closed_by_peer(sock, timeout=20.0):
    """Whether the member closed the connection (within ``timeout``)."""
    sock.settimeout(timeout)
    try:
        return sock.recv(4096) == b''
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def connect(member):
    host, port = member.address.rsplit(':', 1)
    return socket.create_connection((host, int(port)), timeout=5)


def committed(member, n):
    result = member.propose(
        'alert.raise',
        {
            'alert_id': '%032x' % n,
            'site': member.site,
            'kind': 'test',
            'severity': 'info',
            'message': 'still committing',
        },
    )
    return result['ok']


def test_a_frame_announced_past_the_limit_is_refused_unbuffered(
    member, caplog
):
    with connect(member) as sock, caplog.at_level(logging.WARNING):
        sock.sendall(struct.pack('i', 30 * 1024 * 1024) + b'x' * 65536)
        assert closed_by_peer(sock)
    assert 'frame of 31457280 bytes' in caplog.text
    assert committed(member, 1)


def test_a_negative_length_is_refused(member, caplog):
    with connect(member) as sock, caplog.at_level(logging.WARNING):
        sock.sendall(struct.pack('i', -5) + b'x' * 16)
        assert closed_by_peer(sock)
    assert 'frame of -5 bytes' in caplog.text


def test_a_frame_that_does_not_decrypt_is_logged(member, caplog):
    junk = os.urandom(100_000)
    with connect(member) as sock, caplog.at_level(logging.WARNING):
        sock.sendall(struct.pack('i', len(junk)) + junk)
        assert closed_by_peer(sock)
        # Logged by the member's thread once the connection is closed.
        deadline = time.monotonic() + 10
        while 'failed authentication' not in caplog.text:
            assert time.monotonic() < deadline, caplog.text
            time.sleep(0.05)
    assert committed(member, 2)
