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

"""The image relay on loopback, and image actions between two simulated
sites through it."""

import logging
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request

import pytest
from oslo_config import cfg

from sodos import conf as sodos_conf
from sodos import exception
from sodos import tls
from sodos.conf import site_profile
from sodos.exec import actions
from sodos.exec import role as exec_role
from sodos.exec.drivers.simulator import driver as simulator
from sodos.exec.drivers.simulator import images as simulator_images
from sodos.exec.images import relay as image_relay
from sodos.sim import certs

IMAGE = '5f0b6d3c-9a43-4e2a-9d5e-3c1f1a1d2e3f'
SIZE = 3 * 1048576 + 123
PASSWORD = 'federation-secret'
METADATA = {
    'name': 'golden',
    'disk_format': 'raw',
    'container_format': 'bare',
    'min_disk': 1,
    'min_ram': 64,
    'visibility': 'public',
    'tags': ['gold'],
    'properties': {'os_distro': 'cirros', 'hw_disk_bus': 'scsi'},
}


# This site's TLS client context, for get() (set by _tls).
CLIENT = None


@pytest.fixture(autouse=True)
def _tls(site_tls):
    global CLIENT
    CLIENT = tls.from_conf(site_conf(None, 'x', site_tls)).client


def site_conf(tmp_path, name, tls_options):
    conf = cfg.ConfigOpts()
    sodos_conf.register_opts(conf)
    conf([], project='sodos', default_config_files=[])
    conf.set_override('site_name', name)
    if tmp_path is not None:
        conf.set_override('state_path', str(tmp_path / name))
    conf.set_override('password', PASSWORD, 'raft')
    for option, value in tls_options.items():
        conf.set_override(option, value, 'raft')
    conf.set_override('retry_delay', 0.0, 'exec')
    conf.set_override('action_retries', 1, 'exec')
    return conf


@pytest.fixture
def source(tmp_path, site_tls):
    """Site 'src': a simulated site with one image, its relay serving."""
    conf = site_conf(tmp_path, 'src', site_tls)
    drv = simulator.SimulatorDriver(conf)
    drv.add_image(IMAGE, SIZE, METADATA)
    relay = image_relay.Relay(conf, drv)
    relay.start()
    yield relay
    relay.stop()


@pytest.fixture
def target(tmp_path, site_tls):
    conf = site_conf(tmp_path, 'dst', site_tls)
    return conf, simulator.SimulatorDriver(conf)


def get(url, context=None):
    try:
        with urllib.request.urlopen(
            url, timeout=10, context=context or CLIENT
        ) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers


def test_signed_url_streams_the_image(source):
    url = image_relay.signed_url(source.conf, source.url, IMAGE, 'dst')
    status, body, headers = get(url)
    assert status == 200
    assert body == b''.join(simulator_images.content(IMAGE, SIZE))
    assert int(headers['Content-Length']) == SIZE
    details = source.driver.image_details()[IMAGE]
    assert headers['X-Image-os_hash_value'] == details['os_hash_value']


@pytest.mark.parametrize(
    'change, reason',
    [
        (lambda q: q.replace('target=dst', 'target=other'), 'bad signature'),
        (lambda q: q.replace('sig=', 'sig=0'), 'bad signature'),
        (lambda q: q.split('&sig=')[0], 'target and sig are required'),
    ],
)
def test_bad_signature_is_refused(source, change, reason):
    url = image_relay.signed_url(source.conf, source.url, IMAGE, 'dst')
    status, body, _ = get(change(url))
    assert (status, body.decode().strip()) == (403, reason)


def test_url_signed_with_another_password_is_refused(
    source, tmp_path, site_tls
):
    other = site_conf(tmp_path, 'dst', site_tls)
    other.set_override('password', 'not-the-federation', 'raft')
    status, body, _ = get(
        image_relay.signed_url(other, source.url, IMAGE, 'dst')
    )
    assert (status, body.decode().strip()) == (403, 'bad signature')


def test_expired_url_is_refused(source):
    long_ago = time.time() - source.conf.image_relay.url_ttl - 60
    url = image_relay.signed_url(
        source.conf, source.url, IMAGE, 'dst', now=long_ago
    )
    status, body, _ = get(url)
    assert status == 403
    assert body.decode().startswith('URL expired')


def test_missing_image_is_404(source):
    other = '00000000-0000-4000-8000-000000000000'
    status, body, _ = get(
        image_relay.signed_url(source.conf, source.url, other, 'dst')
    )
    assert status == 404
    assert b'not at this site' in body


class Held(simulator.SimulatorDriver):
    """Holds every stream open after its first chunk until released."""

    release = threading.Event()

    def open_image(self, image_id):
        meta, chunks = super().open_image(image_id)

        def held():
            for n, chunk in enumerate(chunks):
                if n == 1:
                    self.release.wait(30)
                yield chunk

        return meta, held()


def test_concurrent_uploads_are_limited(tmp_path, site_tls):
    conf = site_conf(tmp_path, 'src', site_tls)
    conf.set_override('max_uploads', 2, 'image_relay')
    drv = Held(conf)
    drv.add_image(IMAGE, SIZE, METADATA)
    relay = image_relay.Relay(conf, drv)
    relay.start()
    url = image_relay.signed_url(conf, relay.url, IMAGE, 'dst')
    results = []
    try:
        readers = [
            threading.Thread(target=lambda: results.append(get(url)[0]))
            for _ in range(2)
        ]
        for thread in readers:
            thread.start()
        deadline = time.monotonic() + 10
        while relay.sending < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        status, body, headers = get(url)
        assert status == 503
        assert headers['Retry-After'] == str(image_relay.RETRY_AFTER)
        assert b'max_uploads' in body
        Held.release.set()
        for thread in readers:
            thread.join(30)
        assert results == [200, 200]
        # Room again once they are done.
        assert get(url)[0] == 200
    finally:
        Held.release.set()
        relay.stop()


def copy_params(relay, **changes):
    details = relay.driver.image_details()[IMAGE]
    params = {
        'image_id': IMAGE,
        'source_site': 'src',
        'source_url': relay.url,
        'expected': {
            'size': details['size'],
            'os_hash_algo': details['os_hash_algo'],
            'os_hash_value': details['os_hash_value'],
        },
        'metadata': METADATA,
    }
    params.update(changes)
    return params


def run(handler, conf, drv, params, action_id='1' * 32):
    ctx = actions.Context(
        conf=conf,
        driver=drv,
        site=conf.site_name,
        stopping=lambda s: False,
        placement=lambda key: None,
    )
    return handler(ctx, {'action_id': action_id, 'params': params})


def test_copy_through_the_relay_then_replay(source, target):
    conf, drv = target
    params = copy_params(source)
    done = run(actions.CopyImage(), conf, drv, params)
    assert done['created'] is True
    assert (done['image_id'], done['size']) == (IMAGE, SIZE)
    assert done['os_hash_value'] == params['expected']['os_hash_value']
    here = drv.image_details()[IMAGE]
    assert here == source.driver.image_details()[IMAGE] | {'checksum': None}
    record = drv.site.images.get(IMAGE)
    assert record['properties'] == METADATA['properties']
    assert (record['min_ram'], record['tags']) == (64, ['gold'])
    sent = source.sent
    again = run(actions.CopyImage(), conf, drv, params)
    assert again['created'] is False
    assert source.sent == sent  # nothing fetched the second time
    # The copy serves in turn: the same bytes, from its own relay.
    relay = image_relay.Relay(conf, drv)
    relay.start()
    try:
        url = image_relay.signed_url(conf, relay.url, IMAGE, 'third')
        assert get(url)[1] == b''.join(simulator_images.content(IMAGE, SIZE))
    finally:
        relay.stop()


def test_corrupted_transfer_fails_and_a_retry_succeeds(source, target):
    conf, drv = target
    source.conf.set_override('test_corrupt_byte_at', SIZE - 1, 'image_relay')
    with pytest.raises(actions.driver.PermanentError, match='hash mismatch'):
        run(actions.CopyImage(), conf, drv, copy_params(source))
    assert drv.image_details()[IMAGE]['status'] == 'queued'
    source.conf.clear_override('test_corrupt_byte_at', 'image_relay')
    done = run(actions.CopyImage(), conf, drv, copy_params(source))
    assert done['created'] is True
    assert drv.image_details()[IMAGE]['status'] == 'active'


def test_bad_params_are_refused_before_anything_is_fetched(source, target):
    conf, drv = target
    with pytest.raises(actions.driver.PermanentError, match='invalid params'):
        run(
            actions.CopyImage(),
            conf,
            drv,
            copy_params(source, image_id='not-a-uuid'),
        )
    assert source.sent == 0
    assert drv.image_details() == {}


def test_unreachable_source_is_transient(target):
    conf, drv = target
    params = {
        'image_id': IMAGE,
        'source_site': 'src',
        'source_url': 'https://127.0.0.1:9',
        'expected': {'size': 10, 'os_hash_value': 'ab' * 64},
        'metadata': {},
    }
    with pytest.raises(actions.driver.TransientError, match='unreachable'):
        run(actions.CopyImage(), conf, drv, params)


def test_image_actions_through_exec_and_the_kb(
    source, tmp_path, conf, api, site_tls
):
    """The KB's image.copy then image.delete, run by Exec at 'here'."""
    from tests.unit.exec.test_exec_role import KB
    from tests.unit.exec.test_exec_role import settle

    conf.set_override('password', PASSWORD, 'raft')
    for option, value in site_tls.items():
        conf.set_override(option, value, 'raft')
    conf.set_override('retry_delay', 0.0, 'exec')
    role = exec_role.ExecRole(conf, api)
    role.relay.start()
    try:
        assert site_profile.profile(conf)['image_relay'] == role.relay.url
        kb = KB(api, role.knowmon_api)
        kb.action('1' * 32, kind='image.copy', **copy_params(source))
        done = settle(role, kb, '1' * 32)
        assert done['state'] == 'done', done
        assert done['result']['created'] is True
        kb.action('2' * 32, kind='image.delete', image_id=IMAGE)
        assert settle(role, kb, '2' * 32)['result'] == {'deleted': True}
        kb.action('3' * 32, kind='image.copy', **copy_params(source))
        burnt = settle(role, kb, '3' * 32)
        assert burnt['state'] == 'failed'
        assert burnt['result']['id_burnt'] is True
    finally:
        role._stop.set()
        role.relay.stop()
        role.executor.close()


def test_the_planners_copy_action_is_carried_out(source, target):
    """The params AnalysePlan writes are the ones this handler takes."""
    from sodos.analyseplan import images as plan_images

    conf, drv = target
    details = source.driver.image_details()[IMAGE]
    entry = dict(
        details,
        id=IMAGE,
        disk_format=METADATA['disk_format'],
        container_format=METADATA['container_format'],
        metadata={
            k: METADATA[k]
            for k in (
                'min_disk',
                'min_ram',
                'visibility',
                'tags',
                'properties',
            )
        },
    )
    item = plan_images.copy_action(entry, 'dst', 'src', source.url)
    assert item['kind'] == actions.CopyImage.kind
    done = run(actions.CopyImage(), conf, drv, item['params'])
    assert done['created'] is True
    assert (
        drv.image_details()[IMAGE]['os_hash_value']
        == (details['os_hash_value'])
    )


def _one_line_logs(caplog):
    for record in caplog.records:
        message = record.getMessage()
        assert not any(c in message for c in '\n\r\x1b'), message


@pytest.mark.parametrize(
    'image_id, target, said',
    [
        (IMAGE + '\nimage relay: sent image x', 'dst', 'not an image id'),
        ('../../etc/passwd', 'dst', 'not an image id'),
        (IMAGE.upper(), 'dst', 'not an image id'),
        (IMAGE, 'dst\nimage relay: forged', 'not a site name'),
    ],
)
def test_a_malformed_id_or_site_is_400_and_logged_on_one_line(
    source, caplog, image_id, target, said
):
    caplog.set_level(logging.DEBUG)
    # Signed, as a site knowing the password could: the shape is checked
    # whatever the signature.
    url = image_relay.signed_url(source.conf, source.url, image_id, target)
    status, body, _ = get(url)
    assert status == 400
    assert said in body.decode()
    assert 'refused a request from 127.0.0.1: ' in caplog.text
    _one_line_logs(caplog)
    # Unsigned too.
    status, _, _ = get(url.split('&sig=')[0] + '&sig=00')
    assert status == 400
    _one_line_logs(caplog)


def test_the_request_line_is_logged_without_control_characters(source, caplog):
    caplog.set_level(logging.DEBUG)
    host, port = source.url.split('//')[1].rsplit(':', 1)
    with CLIENT.wrap_socket(
        socket.create_connection((host, int(port)), timeout=10),
        server_hostname=host,
    ) as sock:
        sock.sendall(b'GET /images/\x1b[2J\rx HTTP/1.0\r\n\r\n')
        assert sock.makefile('rb').readline().startswith(b'HTTP/1.0 400')
    assert '\\x1b[2J' in caplog.text
    _one_line_logs(caplog)


def test_the_relay_is_https_and_wants_a_client_certificate(source, caplog):
    assert source.url.startswith('https://127.0.0.1:')
    url = image_relay.signed_url(source.conf, source.url, IMAGE, 'dst')
    # Trusting the relay, but showing no certificate of our own.
    anonymous = ssl.create_default_context(cafile=source.tls.files.ca)
    # (URLError, or under TLS 1.3 the alert or EOF after the handshake.)
    with pytest.raises(OSError):
        get(url, anonymous)
    # Plain HTTP to the HTTPS port.
    with pytest.raises(OSError):
        get(url.replace('https://', 'http://'))
    assert source.sent == 0
    assert 'image relay: refused a connection from 127.0.0.1: TLS' in (
        caplog.text
    )


def test_a_relay_of_another_ca_is_refused(target, tmp_path):
    conf, drv = target
    other = site_conf(
        tmp_path,
        'impostor',
        certs.LocalCA(str(tmp_path / 'other-ca')).issue('impostor'),
    )
    impostor_drv = simulator.SimulatorDriver(other)
    impostor_drv.add_image(IMAGE, SIZE, METADATA)
    impostor = image_relay.Relay(other, impostor_drv)
    impostor.start()
    try:
        with pytest.raises(actions.driver.PermanentError, match='TLS'):
            run(actions.CopyImage(), conf, drv, copy_params(impostor))
    finally:
        impostor.stop()
    assert impostor.sent == 0
    assert drv.image_details()[IMAGE]['status'] != 'active'


def test_a_plain_http_source_is_refused_outside_the_dev_mode(target):
    conf, drv = target
    params = {
        'image_id': IMAGE,
        'source_site': 'src',
        'source_url': 'http://127.0.0.1:9',
        'expected': {'size': 10, 'os_hash_value': 'ab' * 64},
        'metadata': {},
    }
    with pytest.raises(actions.driver.PermanentError, match='plain http'):
        run(actions.CopyImage(), conf, drv, params)


def test_the_dev_mode_relay_is_plain_http(tmp_path):
    conf = site_conf(tmp_path, 'src', {})
    with pytest.raises(exception.ConfigError, match='mutual TLS only'):
        image_relay.Relay(conf, simulator.SimulatorDriver(conf))
    conf.set_override('insecure_dev_mode', True, 'raft')
    drv = simulator.SimulatorDriver(conf)
    drv.add_image(IMAGE, SIZE, METADATA)
    relay = image_relay.Relay(conf, drv)
    relay.start()
    try:
        assert relay.url.startswith('http://127.0.0.1:')
        dst = site_conf(tmp_path, 'dst', {})
        dst.set_override('insecure_dev_mode', True, 'raft')
        done = run(
            actions.CopyImage(),
            dst,
            simulator.SimulatorDriver(dst),
            copy_params(relay),
        )
        assert done['created'] is True
    finally:
        relay.stop()
