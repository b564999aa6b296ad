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

"""Which method an image copy uses ([image_transfer]method), and what
its result says."""

import logging

import pytest

from sodos.exec.drivers import base as driver
from sodos.exec.drivers.simulator import driver as simulator
from sodos.exec.images import copy as image_copy
from sodos.exec.images import errors as image_errors
from sodos.exec.images import pull as image_pull

IMAGE = '5f0b6d3c-9a43-4e2a-9d5e-3c1f1a1d2e3f'
PARAMS = {
    'image_id': IMAGE,
    'source_site': 'a',
    'source_url': 'https://127.0.0.1:1',
    'expected': {'size': 10, 'os_hash_algo': 'sha512', 'os_hash_value': 'ab'},
    'metadata': {'name': 'golden'},
}


class Site(driver.Driver):
    """A site that records how it was asked for the image. The stream
    is never read (the image is "already here"), so no relay is met."""

    def __init__(self, conf, pull=None):
        super().__init__(conf)
        self.pull = pull
        self.calls = []

    def pull_in(self, image_id, metadata, expected, source_site, wait):
        self.calls.append(('pull', source_site))
        if isinstance(self.pull, Exception):
            raise self.pull
        return self.pull or {'created': True}

    def copy_in(self, image_id, metadata, reader, expected):
        self.calls.append(('stream', type(reader).__name__))
        return {'created': False}

    list_servers = boot = get_server = delete = None
    capacity = images = flavors = None


@pytest.fixture
def conf(conf, site_tls):
    conf.set_override('password', 'federation secret', 'raft')
    for name, value in site_tls.items():
        conf.set_override(name, value, 'raft')
    conf.set_override('mode', 'shared', 'identity')
    image_pull._told.clear()
    return conf


def copy(conf, site):
    return image_copy.copy(conf, site, 'here', dict(PARAMS), wait=None)


def test_auto_pulls_in_shared_mode_and_says_so(conf):
    site = Site(conf)
    result = copy(conf, site)
    assert site.calls == [('pull', 'a')]
    assert result['method'] == 'glance-download'
    assert result['created'] is True


def test_stream_never_asks_for_a_pull(conf):
    conf.set_override('method', 'stream', 'image_transfer')
    site = Site(conf)
    result = copy(conf, site)
    assert site.calls == [('stream', 'HashingReader')]
    assert result['method'] == 'stream'


def test_auto_streams_in_api_mode_and_says_why_once(conf, caplog):
    conf.set_override('mode', 'api', 'identity')
    site = Site(conf)
    with caplog.at_level(logging.INFO, logger='sodos.exec.images.pull'):
        copy(conf, site)
        result = copy(conf, site)
    assert [c[0] for c in site.calls] == ['stream', 'stream']
    assert result['method'] == 'stream'
    told = [r for r in caplog.records if 'said once' in r.getMessage()]
    assert len(told) == 1
    assert '[identity]mode is api, not shared' in told[0].getMessage()


def test_auto_streams_when_the_site_cannot_pull_and_says_why_once(
    conf, caplog
):
    site = Site(conf, pull=image_errors.PullUnavailable('no region of site a'))
    with caplog.at_level(logging.INFO, logger='sodos.exec.images.pull'):
        copy(conf, site)
        result = copy(conf, site)
    assert [c[0] for c in site.calls] == ['pull', 'stream'] * 2
    assert result['method'] == 'stream'
    told = [r for r in caplog.records if 'said once' in r.getMessage()]
    assert [r.levelno for r in told] == [logging.WARNING]
    assert 'no region of site a' in told[0].getMessage()


def test_auto_streams_into_the_image_a_failed_pull_left(conf):
    site = Site(conf, pull=image_errors.PullFailed('HTTP Error 401'))
    result = copy(conf, site)
    assert [c[0] for c in site.calls] == ['pull', 'stream']
    assert result['method'] == 'stream'


def test_a_wrong_pulled_copy_is_not_streamed_again(conf):
    burnt = image_copy.HashMismatch('hash mismatch', {'id_burnt': True})
    site = Site(conf, pull=burnt)
    with pytest.raises(image_copy.HashMismatch) as caught:
        copy(conf, site)
    assert site.calls == [('pull', 'a')]
    assert caught.value.details == {
        'id_burnt': True,
        'method': 'glance-download',
    }


@pytest.mark.parametrize(
    'error',
    [
        image_errors.PullUnavailable('no region'),
        image_errors.PullFailed('401'),
    ],
)
def test_forced_glance_download_fails_rather_than_streams(conf, error):
    conf.set_override('method', 'glance-download', 'image_transfer')
    # Forced, it does not depend on the identity mode.
    conf.set_override('mode', 'api', 'identity')
    site = Site(conf, pull=error)
    with pytest.raises(type(error)) as caught:
        copy(conf, site)
    assert site.calls == [('pull', 'a')]
    if isinstance(error, driver.PermanentError):
        assert caught.value.details == {'method': 'glance-download'}


def test_a_stream_failure_names_its_method(conf):
    conf.set_override('method', 'stream', 'image_transfer')
    conf.set_override('password', None, 'raft')
    with pytest.raises(driver.PermanentError, match='raft') as caught:
        copy(conf, Site(conf))
    assert caught.value.details == {'method': 'stream'}


def test_the_simulator_cannot_pull(conf):
    with pytest.raises(image_errors.PullUnavailable, match='simulator'):
        simulator.SimulatorDriver(conf).pull_in(
            IMAGE, {}, PARAMS['expected'], 'a', lambda s: False
        )
