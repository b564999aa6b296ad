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

"""Fixtures for tests that run real sodos processes on loopback."""

import os
import socket
import urllib.parse

import pytest

from sodos.sim import federation

DEFAULT_TRANSPORT_URL = 'rabbit://guest:guest@127.0.0.1:5672/'


def _reachable(url: str) -> bool:
    parsed = urllib.parse.urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or '127.0.0.1', parsed.port or 5672), 2
        ):
            return True
    except OSError:
        return False


@pytest.fixture(scope='session')
def transport_url():
    """RabbitMQ for RPC between processes; required under CI."""
    url = os.environ.get('SODOS_TEST_TRANSPORT_URL', DEFAULT_TRANSPORT_URL)
    if not _reachable(url):
        message = 'RabbitMQ is not reachable at %s' % url
        if os.environ.get('CI') == 'true':
            pytest.fail(message)
        pytest.skip(message)
    return url


@pytest.fixture
def local_federation(tmp_path, request):
    """Make LocalFederation objects; every site is stopped afterwards."""
    made = []

    def make(**kwargs):
        fed = federation.LocalFederation(
            str(tmp_path / ('fed%d' % len(made))), **kwargs
        )
        made.append(fed)
        return fed

    yield make
    for fed in made:
        fed.__exit__(None, None, None)
        if (
            request.node.rep_call.failed
            if hasattr(request.node, 'rep_call')
            else False
        ):
            for site in fed.sites.values():
                print(
                    '---- log of %s ----\n%s' % (site.name, site.log()[-4000:])
                )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # Lets fixtures see whether the test failed, to print the sites' logs.
    outcome = yield
    report = outcome.get_result()
    setattr(item, 'rep_' + report.when, report)
