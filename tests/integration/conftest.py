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

"""Two real minicloud sites (keystone, glance, placement, nova) per session.

Needs RabbitMQ (SODOS_TEST_TRANSPORT_URL, default 127.0.0.1:5672) and
MariaDB (SODOS_TEST_MARIADB_URL, default root@127.0.0.1:3306), and the
OpenStack packages of integration-requirements.txt in this venv. Without
them the tests are skipped, and under CI=true they fail.

SODOS_TEST_KEEP_SITES=1 leaves the sites running after the session, to
look at them with tools/minicloud (they are under pytest's basetemp).
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import time
from concurrent import futures

import pytest

from tests import minicloud
from tests.minicloud import backends

# Three sites: the third takes the members of a site lost (AnalysePlan).
SITE_NAMES = ('sodos-it-a', 'sodos-it-b', 'sodos-it-c')
# Site names are global on the shared MariaDB and RabbitMQ: a second
# session on this machine must wait, not wipe the first one's sites.
LOCK_PATH = os.path.join(tempfile.gettempdir(), 'sodos-it-minicloud.lock')
LOCK_WAIT = 900.0

_ready_seconds: dict[str, float] = {}


def _unavailable(message: str) -> None:
    if os.environ.get('CI') == 'true':
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _check_prerequisites(transport_url: str, database_url: str) -> None:
    if not backends.reachable(transport_url, 5672):
        _unavailable(
            'RabbitMQ is not reachable at %s (set SODOS_TEST_TRANSPORT_URL)'
            % transport_url
        )
    if not backends.reachable(database_url, 3306):
        _unavailable(
            'MariaDB is not reachable at %s (set SODOS_TEST_MARIADB_URL)'
            % database_url
        )
    missing = minicloud.missing_packages()
    if missing:
        _unavailable(
            'OpenStack packages missing (%s): %s'
            % (', '.join(missing), minicloud.INSTALL_HINT)
        )


def _lock():
    f = open(LOCK_PATH, 'a+')
    deadline = time.monotonic() + LOCK_WAIT
    while True:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return f
        except BlockingIOError:
            if time.monotonic() > deadline:
                f.close()
                pytest.fail(
                    'another integration session still holds %s after %d s'
                    % (LOCK_PATH, LOCK_WAIT),
                    pytrace=False,
                )
            time.sleep(2)


def _failure_report(site: minicloud.Site, error: BaseException) -> str:
    text = 'site %s failed to start: %s\n(its files stay in %s)' % (
        site.name,
        error,
        site.dir,
    )
    log_file = getattr(error, 'log_file', None)
    if log_file:
        text += '\n---- tail of %s ----\n%s' % (log_file, site.tail(log_file))
    return text


@pytest.fixture(scope='session')
def minicloud_sites(tmp_path_factory):
    """{name: started minicloud.Site} for SITE_NAMES; torn down at the end."""
    transport_url = os.environ.get(
        'SODOS_TEST_TRANSPORT_URL', minicloud.DEFAULT_TRANSPORT_URL
    )
    database_url = os.environ.get(
        'SODOS_TEST_MARIADB_URL', minicloud.DEFAULT_DATABASE_URL
    )
    _check_prerequisites(transport_url, database_url)
    lock = _lock()
    root = tmp_path_factory.mktemp('minicloud')
    sites = {
        name: minicloud.Site(
            name,
            base,
            str(root),
            transport_url=transport_url,
            database_url=database_url,
        )
        for name, base in zip(
            SITE_NAMES, minicloud.free_port_bases(len(SITE_NAMES)), strict=True
        )
    }
    failed: set[str] = set()
    try:
        # Start-up is CPU-bound: two at once take about as long as one
        # after the other, but the sites are ready at the same moment.
        with futures.ThreadPoolExecutor(len(sites)) as pool:
            starts = {pool.submit(s.start): s for s in sites.values()}
        failures = []
        for future, site in starts.items():
            error = future.exception()
            if error is None:
                _ready_seconds[site.name] = future.result()
            else:
                failures.append(_failure_report(site, error))
                failed.add(site.name)
        if failures:
            pytest.fail('\n\n'.join(failures), pytrace=False)
        yield sites
    finally:
        if os.environ.get('SODOS_TEST_KEEP_SITES'):
            for site in sites.values():
                print('kept site %s under %s' % (site.name, root))
        else:
            errors = []
            for site in sites.values():
                try:
                    # A site that failed to start keeps its logs.
                    site.destroy(keep_files=site.name in failed)
                except Exception as e:
                    errors.append('destroy %s: %s' % (site.name, e))
            if errors:
                pytest.fail('; '.join(errors), pytrace=False)
        lock.close()


@pytest.fixture(scope='module', autouse=True)
def _every_site_up(request):
    """A module may kill a site whole (sodos_sites.kill_site): the site
    is rebuilt afresh before the next module that uses the sites, not
    when the killing one ends, so a loss in the session's last module
    costs no rebuild."""
    if not any(
        'minicloud_sites' in item.fixturenames
        for item in request.session.items
        if item.getparent(pytest.Module) is request.node
    ):
        return
    sites = request.getfixturevalue('minicloud_sites')
    stopped = [
        s for s in sites.values() if s.state().get('state') == 'stopped'
    ]
    if stopped:
        with futures.ThreadPoolExecutor(len(stopped)) as pool:
            list(pool.map(lambda site: site.start(), stopped))


@pytest.fixture(scope='session')
def site_a(minicloud_sites):
    return minicloud_sites[SITE_NAMES[0]]


@pytest.fixture(scope='session')
def site_b(minicloud_sites):
    return minicloud_sites[SITE_NAMES[1]]


def pytest_terminal_summary(terminalreporter):
    if _ready_seconds:
        terminalreporter.write_line(
            'minicloud: '
            + ', '.join(
                '%s READY in %.1f s' % item
                for item in sorted(_ready_seconds.items())
            )
        )
