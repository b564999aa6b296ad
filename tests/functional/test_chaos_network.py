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

"""The chaos suite's network namespaces: a cut link drops what goes
between two namespaces, a healed one carries it again, and nothing is
left behind."""

import os
import subprocess
import sys

import pytest

from tests.chaos import network

LISTEN = (
    'import socket, sys\n'
    's = socket.create_server(("0.0.0.0", 7000))\n'
    'print("ready", flush=True)\n'
    'while True:\n'
    '    s.accept()[0].close()\n'
)
CONNECT = (
    'import socket, sys\n'
    'socket.create_connection((sys.argv[1], 7000), timeout=2).close()\n'
)


@pytest.fixture
def net():
    why = network.available()
    if why:
        if os.environ.get('CI') == 'true':
            pytest.fail(why)
        pytest.skip(why)
    net = network.Network()
    try:
        yield net
    finally:
        net.close()


def reaches(net, source, target):
    out = subprocess.run(
        ['ip', 'netns', 'exec', net.namespaces[source], sys.executable]
        + ['-c', CONNECT, net.address(target)],
        capture_output=True,
        timeout=30,
    )
    return out.returncode == 0


def test_a_cut_link_drops_and_a_healed_one_carries(net):
    for number in (1, 2, 3):
        net.add(number)
    server = subprocess.Popen(
        ['ip', 'netns', 'exec', net.namespaces[1], sys.executable]
        + ['-c', LISTEN],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout.readline().strip() == 'ready'
        assert reaches(net, 2, 1)
        net.partition([[1], [2]])
        assert not reaches(net, 2, 1)
        # Only the link cut: site 3 still reaches site 1.
        assert reaches(net, 3, 1)
        net.heal_all()
        assert reaches(net, 2, 1)
    finally:
        server.kill()
        server.wait()


def test_close_leaves_no_namespace_or_link(net):
    net.add(1)
    net.close()
    namespaces = subprocess.run(
        ['ip', 'netns', 'list'], capture_output=True, text=True
    ).stdout
    links = subprocess.run(
        ['ip', '-o', 'link'], capture_output=True, text=True
    ).stdout
    assert net.tag not in namespaces
    assert net.tag not in links
