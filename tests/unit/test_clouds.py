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

"""The helpers the integration tests and benchmarks share, without a
real site: the config they write is the one sodos reads, an upload
that does not end active is an error, and the scratch directory takes
its sites with it."""

import io
import os

import pytest

from tests import clouds


class FakeImages:
    """Glance's ``images`` manager, keeping what it is given."""

    def __init__(self, status='active'):
        self.status = status
        self.images = {}

    def create(self, **fields):
        self.images[fields['id']] = dict(fields, status='queued')
        return self.images[fields['id']]

    def upload(self, image_id, data, image_size=None):
        self.images[image_id].update(
            status=self.status, size=len(data.read()), declared=image_size
        )

    def get(self, image_id):
        return dict(self.images[image_id])


class FakeGlance:
    def __init__(self, status='active'):
        self.images = FakeImages(status)


class FakeSite:
    def __init__(self):
        self.destroyed = False

    def destroy(self):
        self.destroyed = True


def test_load_conf_writes_the_sections_sodos_reads(tmp_path):
    root = str(tmp_path / 'site')
    conf = clouds.load_conf(
        root,
        {
            'DEFAULT': {'site_name': 'alpha', 'state_path': root},
            'raft': {'password': 'pw', 'batch_append_entries': False},
            'exec': {'driver': 'openstack', 'workers': 3},
        },
    )
    assert conf.site_name == 'alpha'
    assert conf.raft.batch_append_entries is False
    assert conf.exec.workers == 3
    assert os.path.exists(os.path.join(root, 'sodos.conf'))


def test_upload_gives_a_new_id_and_the_metadata():
    glance = FakeGlance()
    first = clouds.upload(glance, 'one', io.BytesIO(b'x' * 10), 10, tags=['t'])
    second = clouds.upload(glance, 'one', io.BytesIO(b'y' * 10), 10)
    assert first['id'] != second['id']
    assert first['status'] == 'active'
    assert first['disk_format'] == 'raw'
    assert first['tags'] == ['t']
    assert first['declared'] == 10


def test_an_upload_that_does_not_end_active_is_an_error():
    with pytest.raises(RuntimeError, match='image broken ended killed'):
        clouds.upload(FakeGlance('killed'), 'broken', io.BytesIO(b'z'), 1)


def test_a_short_upload_is_an_error():
    with pytest.raises(RuntimeError, match='image short ended active'):
        clouds.upload(FakeGlance(), 'short', io.BytesIO(b'z'), 2)


def test_copy_params_expect_the_source_content():
    image = {
        'id': 'i1',
        'size': 5,
        'os_hash_algo': 'sha512',
        'os_hash_value': 'ab',
        'name': 'n',
    }
    params = clouds.copy_params(image, 'a', 'http://relay', {'name': 'n'})
    assert params == {
        'image_id': 'i1',
        'source_site': 'a',
        'source_url': 'http://relay',
        'expected': {
            'size': 5,
            'os_hash_algo': 'sha512',
            'os_hash_value': 'ab',
        },
        'metadata': {'name': 'n'},
    }


def test_scratch_destroys_its_sites_and_directory_even_on_error():
    site = FakeSite()
    with pytest.raises(ValueError):
        with clouds.scratch('sodos-test-') as (work, own):
            own.append(site)
            assert os.path.isdir(work)
            raise ValueError('boom')
    assert site.destroyed
    assert not os.path.exists(work)
