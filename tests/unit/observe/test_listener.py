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

"""The [metrics] listener of a process: /metrics and /healthcheck over
the KnowMon of an in-memory KB."""

import socket
import urllib.error
import urllib.request

import pytest

from sodos import exception
from sodos import instruments
from sodos import roles
from sodos.db import migration
from sodos.observe import listener
from sodos.observe import scrape


@pytest.fixture
def serving(conf, api):
    conf.set_override('enabled', True, 'metrics')
    conf.set_override('bind_port', 0, 'metrics')
    found = listener.start(conf, api, database=True)
    yield found
    found.stop()


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_off_by_default(conf, api):
    assert listener.start(conf, api, database=True) is None


def test_metrics_read_the_kb_at_each_scrape(serving, knowmon):
    text = scrape.fetch(serving.url + '/metrics')
    assert scrape.value(text, 'sodos_knowmon_up') == 1
    assert scrape.value(text, 'sodos_sites', state='up') == 1
    knowmon.backend.propose(
        'site.register', {'site': 'there', 'address': 't:1'}
    )
    knowmon.backend.propose(
        'site.status', {'site': 'there', 'status': 'down', 'reason': 'test'}
    )
    again = scrape.fetch(serving.url + '/metrics')
    assert scrape.value(again, 'sodos_sites', state='up') == 1
    assert scrape.value(again, 'sodos_sites', state='down') == 1


def test_durations_observed_in_the_process_are_exported(serving):
    loop = roles.Loop('observed', lambda: 'observed: did nothing', lambda: 1)
    loop.run_once()
    text = scrape.fetch(serving.url + '/metrics')
    assert (
        scrape.value(
            text, 'sodos_role_cycle_duration_seconds_count', role='observed'
        )
        == 1
    )
    # Families nothing observed yet are there, empty, for dashboards.
    for family in (
        'sodos_failure_detection_duration_seconds_count',
        'sodos_recovery_duration_seconds_count',
    ):
        assert scrape.value(text, family) is not None
    before = scrape.value(text, 'sodos_image_copy_bytes_total')
    instruments.IMAGE_COPY_BYTES.inc(1000)
    after = scrape.fetch(serving.url + '/metrics')
    assert scrape.value(after, 'sodos_image_copy_bytes_total') == before + 1000


def test_healthcheck_follows_the_database_and_the_kb(serving, conf, knowmon):
    assert get(serving.url + '/healthcheck') == (
        503,
        'KB member in quorum\nhistory database schema not current',
    )
    migration.upgrade(conf)
    assert get(serving.url + '/healthcheck') == (
        200,
        'KB member in quorum\nhistory database reachable',
    )
    knowmon.backend.stop()
    status, body = get(serving.url + '/healthcheck')
    assert status == 503
    assert body.startswith('KB member not caught up with a leader')


def test_other_paths_are_404(serving):
    assert get(serving.url + '/v1/sites')[0] == 404


def test_a_port_in_use_names_the_options(conf, api):
    with socket.socket() as taken:
        taken.bind(('127.0.0.1', 0))
        taken.listen()
        conf.set_override('enabled', True, 'metrics')
        conf.set_override('bind_port', taken.getsockname()[1], 'metrics')
        with pytest.raises(exception.ConfigError) as caught:
            listener.start(conf, api, database=False)
    assert str(caught.value).startswith(
        '[metrics]bind_host/bind_port: cannot listen on 127.0.0.1:'
    )


def test_count_series_counts_every_sample(serving):
    text = scrape.fetch(serving.url + '/metrics')
    lines = [
        line for line in text.splitlines() if line and not line.startswith('#')
    ]
    assert scrape.count_series(text) == len(lines)
