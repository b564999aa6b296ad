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

"""The openstack driver's error sorting and configuration errors."""

import pytest
from glanceclient import exc as glance_exc
from keystoneauth1 import exceptions as ks_exc
from novaclient import exceptions as nova_exc

from sodos import exception
from sodos.conf import keystoneauth
from sodos.exec.drivers import base as driver
from sodos.exec.drivers.openstack import driver as os_driver
from sodos.exec.drivers.openstack import errors


@pytest.mark.parametrize(
    'exc, kind',
    [
        (nova_exc.BadRequest(400, 'Image x could not be found.'), 'perm'),
        (nova_exc.Forbidden(403, 'Quota exceeded for instances'), 'perm'),
        (nova_exc.Conflict(409, 'Instance is in task_state'), 'transient'),
        (nova_exc.ClientException(503, 'unavailable'), 'transient'),
        (ks_exc.ConnectFailure('refused'), 'transient'),
        (ks_exc.ConnectTimeout('slow'), 'transient'),
        (glance_exc.HTTPNotFound('no image'), 'perm'),
        (glance_exc.HTTPServiceUnavailable('busy'), 'transient'),
        (ks_exc.Unauthorized('bad password'), 'perm'),
    ],
)
def test_errors_are_sorted_by_what_a_retry_can_do(exc, kind):
    with pytest.raises(exception.SodosError) as caught:
        with errors.translated('creating server vm'):
            raise exc
    expected = (
        driver.PermanentError if kind == 'perm' else driver.TransientError
    )
    assert type(caught.value) is expected


def test_permanent_errors_keep_the_services_own_text():
    with pytest.raises(driver.PermanentError) as caught:
        with errors.translated('creating server vm'):
            raise nova_exc.BadRequest(400, 'Flavor nope could not be found.')
    assert str(caught.value).startswith('Flavor nope could not be found.')


def test_refused_credentials_point_at_site_auth():
    with pytest.raises(driver.PermanentError, match=r'\[site_auth\]'):
        with errors.translated('listing'):
            raise ks_exc.Unauthorized('The request you have made requires')


def test_missing_credentials_are_a_config_error(conf):
    conf.set_override('driver', 'openstack', 'exec')
    with pytest.raises(exception.ConfigError, match='auth_type is not set'):
        driver.load(conf)


def test_unknown_driver_names_the_option(conf):
    conf.set_override('driver', 'vmware', 'exec')
    with pytest.raises(
        exception.ConfigError,
        match=r"\[exec\]driver: unknown Exec driver 'vmware' "
        r'\(known: openstack, simulator\)',
    ):
        driver.load(conf)


def test_incomplete_credentials_name_the_group(conf):
    keystoneauth.register_keystoneauth(conf, 'site_auth')
    conf.set_override('auth_type', 'password', 'site_auth')
    with pytest.raises(
        exception.ConfigError,
        match=r'\[site_auth\]: cannot load the auth plugin: .*: auth_url',
    ):
        os_driver.session(conf)
