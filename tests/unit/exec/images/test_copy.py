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

"""The verifying reader, and what a copy does with the image it finds."""

import hashlib
import io

import prometheus_client
import pytest

from sodos.exec.drivers import base as driver
from sodos.exec.drivers.simulator import driver as simulator
from sodos.exec.drivers.simulator import images as simulator_images
from sodos.exec.images import copy as image_copy

DATA = bytes(range(256)) * 4096 + b'tail'  # 1 MiB and 4 bytes
IMAGE = '5f0b6d3c-9a43-4e2a-9d5e-3c1f1a1d2e3f'


def expected(data=DATA, algo='sha512'):
    return {
        'size': len(data),
        'os_hash_algo': algo,
        'os_hash_value': hashlib.new(algo, data).hexdigest(),
    }


class Recorder:
    """A reader's consumer, as glanceclient's upload: what it got."""

    def __init__(self, reader, chunk=65536):
        self.got = bytearray()
        self.reader = reader
        self.chunk = chunk

    def drain(self):
        while True:
            data = self.reader.read(self.chunk)
            if not data:
                return bytes(self.got)
            self.got += data


@pytest.mark.parametrize('algo', ['sha512', 'sha256'])
def test_good_stream_is_passed_on_whole_and_verified(algo):
    reader = image_copy.HashingReader(
        io.BytesIO(DATA), expected(algo=algo), 'image x'
    )
    copied = copied_bytes()
    assert Recorder(reader).drain() == DATA
    assert reader.verified
    assert reader.error is None
    assert reader.hexdigest == hashlib.new(algo, DATA).hexdigest()
    assert copied_bytes() == copied + len(DATA)


def copied_bytes():
    return prometheus_client.REGISTRY.get_sample_value(
        'sodos_image_copy_bytes_total'
    )


def test_short_stream_never_reaches_its_end():
    reader = image_copy.HashingReader(
        io.BytesIO(DATA[:-10]), expected(), 'image x'
    )
    consumer = Recorder(reader)
    with pytest.raises(image_copy.ShortRead, match='short read: image x'):
        consumer.drain()
    # The consumer never saw an end of stream: it got everything sent,
    # then an error instead of the empty read that would end the upload.
    assert bytes(consumer.got) == DATA[:-10]
    assert not reader.verified
    assert isinstance(reader.error, driver.TransientError)
    with pytest.raises(image_copy.ShortRead):
        reader.read(10)  # the error sticks


def test_corrupted_stream_is_refused_before_its_last_chunk():
    corrupted = bytearray(DATA)
    corrupted[100] ^= 0xFF
    reader = image_copy.HashingReader(
        io.BytesIO(bytes(corrupted)), expected(), 'image x'
    )
    consumer = Recorder(reader)
    with pytest.raises(image_copy.HashMismatch, match='hash mismatch'):
        consumer.drain()
    assert len(consumer.got) < len(DATA)
    assert isinstance(reader.error, driver.PermanentError)


def test_longer_stream_is_refused():
    reader = image_copy.HashingReader(
        io.BytesIO(DATA + b'x'), expected(), 'image x'
    )
    with pytest.raises(image_copy.HashMismatch, match='longer than'):
        Recorder(reader, chunk=len(DATA) + 10).drain()


def test_unknown_algorithm_is_a_clear_error():
    with pytest.raises(driver.PermanentError, match='unknown os_hash_algo'):
        image_copy.HashingReader(
            io.BytesIO(DATA), dict(expected(), os_hash_algo='crc7'), 'x'
        )


@pytest.mark.parametrize(
    'found, step',
    [
        (None, 'create'),
        ({'status': 'queued'}, 'upload'),
        (dict(expected(), status='active'), 'done'),
    ],
)
def test_next_step(found, step):
    assert image_copy.next_step(IMAGE, found, expected()) == step


@pytest.mark.parametrize(
    'found, error, message',
    [
        ({'status': 'saving'}, driver.TransientError, 'upload is in progress'),
        ({'status': 'killed'}, driver.PermanentError, 'cannot be copied'),
        ({'status': 'deactivated'}, driver.PermanentError, 'operator'),
        (
            dict(expected(), status='active', os_hash_value='ab' * 64),
            image_copy.HashMismatch,
            'already active at this site with other data',
        ),
    ],
)
def test_next_step_refuses(found, error, message):
    with pytest.raises(error, match=message) as caught:
        image_copy.next_step(IMAGE, found, expected())
    burnt = getattr(caught.value, 'details', {}).get('id_burnt', False)
    assert burnt is (found['status'] == 'killed')


def test_simulated_content_is_deterministic_and_per_image():
    one = b''.join(simulator_images.content(IMAGE, 3 * 1048576 + 5))
    assert len(one) == 3 * 1048576 + 5
    assert one == b''.join(simulator_images.content(IMAGE, 3 * 1048576 + 5))
    other = b''.join(simulator_images.content('other', 3 * 1048576 + 5))
    assert one != other
    # Blocks differ from one another too.
    assert one[:1048576] != one[1048576 : 2 * 1048576]


@pytest.fixture
def sim(conf):
    return simulator.SimulatorDriver(conf)


def test_simulator_copy_in_is_idempotent_and_keeps_glance_rules(sim):
    data = b''.join(simulator_images.content(IMAGE, 5000))
    meta = {'name': 'golden', 'min_ram': 64, 'properties': {'os': 'x'}}
    made = sim.copy_in(IMAGE, meta, io.BytesIO(data), expected(data))
    assert made == {'created': True}
    details = sim.image_details()[IMAGE]
    assert details['status'] == 'active'
    assert details['os_hash_value'] == expected(data)['os_hash_value']
    assert 'golden' in sim.images()
    again = sim.copy_in(IMAGE, meta, io.BytesIO(b''), expected(data))
    assert again == {'created': False}
    # Served back, it is the same bytes.
    served, chunks = sim.open_image(IMAGE)
    assert b''.join(chunks) == data
    assert served['size'] == 5000
    assert sim.delete_image(IMAGE) is True
    assert sim.delete_image(IMAGE) is False
    assert IMAGE not in sim.image_details()
    with pytest.raises(driver.PermanentError) as caught:
        sim.copy_in(IMAGE, meta, io.BytesIO(data), expected(data))
    assert caught.value.details == {'id_burnt': True}


def test_simulator_failed_upload_leaves_the_image_queued(sim, conf):
    data = b''.join(simulator_images.content(IMAGE, 5000))
    with pytest.raises(image_copy.HashMismatch):
        sim.copy_in(IMAGE, {}, io.BytesIO(b'x' * 5000), expected(data))
    assert sim.image_details()[IMAGE]['status'] == 'queued'
    # Kept across a restart, as Glance keeps it.
    restarted = simulator.SimulatorDriver(conf)
    assert restarted.image_details()[IMAGE]['status'] == 'queued'
    made = restarted.copy_in(IMAGE, {}, io.BytesIO(data), expected(data))
    assert made == {'created': True}
    assert restarted.image_details()[IMAGE]['status'] == 'active'


class WrappingGlance:
    """An image API whose HTTP stack wraps what the body raised."""

    def __init__(self):
        self.images = self

    def upload(self, image_id, reader, image_size=None):
        try:
            while reader.read(65536):
                pass
        except Exception as exc:
            raise ConnectionError('connection aborted: %s' % exc) from None


def test_openstack_upload_reports_the_readers_error_not_the_wrapper():
    from sodos.exec.drivers.openstack import images as glance_images

    corrupted = bytearray(DATA)
    corrupted[-1] ^= 0xFF
    reader = image_copy.HashingReader(
        io.BytesIO(bytes(corrupted)), expected(), 'image x'
    )
    with pytest.raises(image_copy.HashMismatch, match='hash mismatch'):
        glance_images._upload(WrappingGlance(), IMAGE, reader, len(DATA))
