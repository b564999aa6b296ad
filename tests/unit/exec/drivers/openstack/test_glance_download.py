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

"""The glance-download copy: Keystone and the source's Glance faked by
requests-mock, this site's Glance by :class:`FakeGlance` (the import
runs as Glance 33 runs it: a lock, ``importing``, then active, or back
to ``queued`` when it fails)."""

import hashlib

import pytest
from glanceclient import exc as glance_exc
from keystoneauth1 import fixture
from keystoneauth1 import session
from keystoneauth1.identity import v3

from sodos.exec.drivers import base as driver
from sodos.exec.drivers.openstack import glance_download
from sodos.exec.images import copy as image_copy
from sodos.exec.images import errors as image_errors

AUTH = 'http://keystone.b.test/v3'
SOURCE = 'http://glance.a.test:9292'
IMAGE = '5f0b6d3c-9a43-4e2a-9d5e-3c1f1a1d2e3f'
DATA = b'image bytes ' * 1000
GOOD = hashlib.sha512(DATA).hexdigest()
EXPECTED = {'size': len(DATA), 'os_hash_algo': 'sha512', 'os_hash_value': GOOD}
METADATA = {
    'name': 'golden',
    'disk_format': 'raw',
    'container_format': 'bare',
    'min_ram': 64,
    'tags': ['gold'],
    'protected': True,
    'properties': {'os_distro': 'cirros', 'sodos_x': 'y'},
}
MD5 = hashlib.md5(DATA).hexdigest()  # noqa: S324 (Glance's checksum)
SOURCE_IMAGE = dict(EXPECTED, id=IMAGE, status='active', checksum=MD5)


class FakeGlance:
    """This site's image API as glanceclient shows it, one store shared
    by the Exec user's client and the transfer user's (``user``)."""

    def __init__(self, store=None, user='exec'):
        self.store = {} if store is None else store
        self.user = user
        self.images = self
        self.http_client = _Tasks(self.store)
        self.store.setdefault('_imports', [])
        self.store.setdefault('_deleted', set())
        self.store.setdefault('_methods', ['glance-direct', 'glance-download'])
        # What the next import ends in, after this many looks.
        self.store.setdefault('_outcome', ('active', GOOD, 2))

    def view(self, user):
        return FakeGlance(self.store, user)

    def get_import_info(self):
        return {'import-methods': {'value': self.store['_methods']}}

    def get(self, image_id):
        image = self.store.get(image_id)
        if image is None:
            raise glance_exc.HTTPNotFound('no image %s' % image_id)
        if image.get('_looks') is not None:
            self._progress(image)
        return {k: v for k, v in image.items() if not k.startswith('_')}

    def create(self, id, **fields):  # noqa: A002 (glanceclient's name)
        if id in self.store or id in self.store['_deleted']:
            raise glance_exc.HTTPConflict('Image ID %s already exists!' % id)
        self.store[id] = dict(fields, id=id, status='queued')
        return dict(self.store[id])

    def image_import(self, image_id, method, **remote):
        image = self.store[image_id]
        if image['status'] != 'queued' or glance_download.LOCK in image:
            raise glance_exc.HTTPConflict('Image needs to be queued')
        self.store['_imports'].append(
            dict(remote, method=method, by=self.user)
        )
        image[glance_download.LOCK] = 'task-%d' % len(self.store['_imports'])
        image['_looks'] = 0
        return {}, None

    def _progress(self, image):
        outcome, digest, after = self.store['_outcome']
        image['_looks'] += 1
        if image['_looks'] == 1:
            image['status'] = 'importing'
        if outcome == 'hang' or image['_looks'] < after:
            return
        del image['_looks'], image[glance_download.LOCK]
        if outcome == 'active':
            image.update(
                status='active',
                size=len(DATA),
                os_hash_algo='sha512',
                os_hash_value=digest,
                checksum=MD5,
            )
        elif outcome == 'failed':
            image['status'] = 'queued'
            self.store['_task_message'] = 'HTTP Error 401: Unauthorized'
        else:
            image['status'] = outcome

    def update(self, image_id, **fields):
        self.store[image_id].update(fields)

    def delete(self, image_id):
        if image_id not in self.store:
            raise glance_exc.HTTPNotFound('no image')
        if self.store[image_id].get('protected'):
            raise glance_exc.HTTPForbidden('Image is protected')
        del self.store[image_id]
        self.store['_deleted'].add(image_id)


class _Tasks:
    def __init__(self, store):
        self.store = store

    def get(self, url):
        message = self.store.get('_task_message')
        tasks = [{'status': 'failure', 'message': message}] if message else []
        return None, {'tasks': tasks}


def _token(regions=('R-A',)):
    token = fixture.V3Token()
    token.set_project_scope()
    token.add_service('identity', id='s-ks').add_endpoint(
        'public', AUTH, region='R-B'
    )
    image = token.add_service('image', id='s-img')
    image.add_endpoint('public', 'http://glance.b.test:9292', region='R-B')
    if 'R-A' in regions:
        image.add_endpoint('public', SOURCE, region='R-A')
    return token


@pytest.fixture
def keystone(requests_mock):
    login = requests_mock.post(
        AUTH + '/auth/tokens',
        json=_token(),
        headers={'X-Subject-Token': 'transfer-token'},
    )
    requests_mock.get(
        AUTH + '/regions',
        json={
            'regions': [
                {'id': 'R-B', 'description': ''},
                {'id': 'R-A', 'description': 'sodos: site a'},
            ]
        },
    )
    source = requests_mock.get(
        '%s/v2/images/%s' % (SOURCE, IMAGE), json=SOURCE_IMAGE
    )
    return login, source


class Clock:
    """The poll loop's clock and sleep: each sleep moves the time."""

    def __init__(self):
        self.now = 1000.0
        self.stop_after = None

    def __call__(self):
        return self.now

    def wait(self, seconds):
        self.now += seconds
        if self.stop_after is not None:
            self.stop_after -= 1
            return self.stop_after < 0
        return False


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def glance():
    return FakeGlance()


def _session(user):
    return session.Session(
        auth=v3.Password(
            auth_url=AUTH,
            username=user,
            password='pw',
            project_name='images',
            user_domain_id='default',
            project_domain_id='default',
        )
    )


@pytest.fixture
def puller(conf, keystone, glance, clock):
    conf.set_override('region_name', 'R-B', 'site_auth')
    conf.set_override('valid_interfaces', ['public'], 'site_auth')
    conf.set_override('poll_interval', 2.0, 'image_transfer')
    conf.set_override('import_timeout', 60.0, 'image_transfer')
    made = glance_download.Puller(
        conf, glance, _session('sodos'), _session('sodos-images'), clock=clock
    )
    made.transfer_glance = glance.view('transfer')
    return made


def pull(puller, clock, expected=EXPECTED):
    return puller.pull_in(IMAGE, METADATA, expected, 'a', clock.wait)


def test_the_copy_keeps_the_id_and_metadata_and_is_pulled_as_transfer_user(
    puller, glance, clock, keystone
):
    assert pull(puller, clock) == {'created': True}
    made = glance.store[IMAGE]
    assert made['status'] == 'active'
    assert made['os_hash_value'] == GOOD
    assert made['name'] == 'golden'
    assert made['tags'] == ['gold']
    assert made['min_ram'] == 64
    assert (made['os_distro'], made['sodos_x']) == ('cirros', 'y')
    assert glance.store['_imports'] == [
        {
            'method': 'glance-download',
            'remote_region': 'R-A',
            'remote_image_id': IMAGE,
            'remote_service_interface': 'public',
            'by': 'transfer',
        }
    ]
    # The source's record was read with the transfer user's token.
    _, source = keystone
    assert source.last_request.headers['X-Auth-Token'] == 'transfer-token'


def test_a_rerun_finds_the_copy_and_pulls_nothing(puller, glance, clock):
    pull(puller, clock)
    assert pull(puller, clock) == {'created': False}
    assert len(glance.store['_imports']) == 1


def test_a_queued_image_of_an_earlier_attempt_is_imported_into(
    puller, glance, clock
):
    glance.create(IMAGE, name='golden', disk_format='raw')
    assert pull(puller, clock) == {'created': True}
    assert glance.store[IMAGE]['status'] == 'active'
    assert len(glance.store['_imports']) == 1


def test_a_hash_mismatch_deletes_the_copy_and_burns_the_id(
    puller, glance, clock
):
    glance.store['_outcome'] = ('active', 'ab' * 64, 2)
    with pytest.raises(image_copy.HashMismatch) as caught:
        pull(puller, clock)
    assert str(caught.value).startswith('hash mismatch: image %s' % IMAGE)
    assert 'the copy was deleted' in str(caught.value)
    assert caught.value.details == {'id_burnt': True}
    # Deleted although protected (the metadata asked for it).
    assert IMAGE not in glance.store
    assert IMAGE in glance.store['_deleted']


def test_a_failed_import_leaves_the_image_queued_with_glances_reason(
    puller, glance, clock
):
    glance.store['_outcome'] = ('failed', None, 2)
    with pytest.raises(
        image_errors.PullFailed, match='HTTP Error 401'
    ) as caught:
        pull(puller, clock)
    assert isinstance(caught.value, driver.TransientError)
    assert glance.store[IMAGE]['status'] == 'queued'
    # Tried again, it imports into the same image.
    glance.store['_outcome'] = ('active', GOOD, 2)
    assert pull(puller, clock) == {'created': True}
    assert len(glance.store['_imports']) == 2


def test_a_killed_import_is_deleted_and_burns_the_id(puller, glance, clock):
    glance.store['_outcome'] = ('killed', None, 2)
    with pytest.raises(driver.PermanentError, match='ended killed') as caught:
        pull(puller, clock)
    assert caught.value.details == {'id_burnt': True}
    assert IMAGE not in glance.store


def test_a_timeout_leaves_the_import_running_and_the_rerun_waits_for_it(
    puller, glance, clock
):
    glance.store['_outcome'] = ('hang', None, 0)
    with pytest.raises(driver.TransientError, match='still running after'):
        pull(puller, clock)
    assert glance.store[IMAGE]['status'] == 'importing'
    # It ends during the next attempt, which waits and starts none.
    looks = glance.store[IMAGE]['_looks']
    glance.store['_outcome'] = ('active', GOOD, looks + 3)
    assert pull(puller, clock) == {'created': True}
    assert len(glance.store['_imports']) == 1


def test_exec_stopping_ends_the_wait_not_the_import(puller, glance, clock):
    glance.store['_outcome'] = ('hang', None, 0)
    clock.stop_after = 1
    with pytest.raises(driver.TransientError, match='Exec is stopping'):
        pull(puller, clock)
    assert glance.store[IMAGE]['status'] == 'importing'


def test_without_the_import_method_nothing_is_made(puller, glance, clock):
    glance.store['_methods'] = ['glance-direct', 'web-download']
    with pytest.raises(
        image_errors.PullUnavailable, match='enabled_import_methods'
    ):
        pull(puller, clock)
    assert IMAGE not in glance.store


def test_a_source_without_a_region_here_is_unavailable(
    puller, glance, clock, requests_mock
):
    requests_mock.get(AUTH + '/regions', json={'regions': [{'id': 'R-B'}]})
    with pytest.raises(
        image_errors.PullUnavailable, match='no region of site a'
    ):
        pull(puller, clock)
    assert IMAGE not in glance.store


def test_a_region_missing_from_the_catalog_is_looked_up_with_a_new_token(
    puller, glance, clock, requests_mock
):
    # The transfer user's tokens: first one whose catalog predates the
    # source's region, then one that lists it.
    catalogs = [('t1', ()), ('t2', ('R-A',))]

    def login(request, context):
        user = request.json()['auth']['identity']['password']['user']
        token, regions = ('exec', ('R-A',))
        if user['name'] == 'sodos-images':
            token, regions = catalogs.pop(0) if catalogs else ('t3', ())
        context.headers['X-Subject-Token'] = token
        return _token(regions=regions)

    requests_mock.post(AUTH + '/auth/tokens', json=login)
    assert pull(puller, clock) == {'created': True}
    assert catalogs == []
    # The source was read with the new token.
    assert requests_mock.request_history[-1].headers['X-Auth-Token'] == 't2'
    # A region that stays missing: unavailable, unless the image is here.
    puller.session.invalidate()
    assert pull(puller, clock) == {'created': False}
    del glance.store[IMAGE]
    with pytest.raises(image_errors.PullUnavailable, match='no public image'):
        pull(puller, clock)
    assert IMAGE not in glance.store


@pytest.mark.parametrize('status', [401, 403])
def test_a_source_refusing_the_token_is_unavailable(
    puller, glance, clock, requests_mock, status
):
    requests_mock.get('%s/v2/images/%s' % (SOURCE, IMAGE), status_code=status)
    with pytest.raises(image_errors.PullUnavailable, match='refused the'):
        pull(puller, clock)
    assert IMAGE not in glance.store


def test_a_source_holding_other_data_serves_nothing(
    puller, glance, clock, requests_mock
):
    requests_mock.get(
        '%s/v2/images/%s' % (SOURCE, IMAGE),
        json=dict(SOURCE_IMAGE, os_hash_value='cd' * 64),
    )
    with pytest.raises(driver.PermanentError, match='not the registered'):
        pull(puller, clock)
    assert IMAGE not in glance.store
    assert glance.store['_imports'] == []


def test_no_transfer_credentials_is_a_clear_unavailability(conf):
    with pytest.raises(
        image_errors.PullUnavailable, match='auth_type is not set'
    ):
        glance_download.transfer_session(conf)
    conf.set_override('auth_type', 'password', 'image_transfer')
    with pytest.raises(image_errors.PullUnavailable, match='cannot load'):
        glance_download.transfer_session(conf)  # no auth_url
    conf.set_override('auth_url', AUTH, 'image_transfer')
    conf.set_override('username', 'sodos-images', 'image_transfer')
    conf.set_override('password', 'pw', 'image_transfer')
    made = glance_download.transfer_session(conf)
    assert made.auth.auth_url == AUTH


def test_transfer_credentials_refused_here_are_unavailable(
    puller, glance, clock, requests_mock
):
    def login(request, context):
        user = request.json()['auth']['identity']['password']['user']
        if user['name'] == 'sodos':
            context.headers['X-Subject-Token'] = 'exec-token'
            return _token()
        context.status_code = 401
        return {'error': {'code': 401, 'message': 'The request you have'}}

    requests_mock.post(AUTH + '/auth/tokens', json=login)
    with pytest.raises(
        image_errors.PullUnavailable, match=r'credentials \(HTTP 401\)$'
    ):
        pull(puller, clock)
    assert IMAGE not in glance.store
