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

import pytest

from sodos.exec.drivers.simulator import identity as simulator_identity
from sodos.exec.identity import sync as identity_sync
from sodos.identity import crypto
from sodos.knowmon import identity_api

SECRET = 'federation identity secret'


@pytest.fixture
def box():
    return crypto.PasswordBox(SECRET)


@pytest.fixture
def ident(api, box, conf):
    """The identity API over the in-memory KB, as the REST API uses it."""
    return identity_api.IdentityAPI(api, 'here', box=box)


@pytest.fixture
def sync(api, conf):
    """Exec's identity loop at site 'here' on a simulated Keystone."""
    conf.set_override('secret', SECRET, 'identity')
    keystone = simulator_identity.SimulatedKeystone()
    return identity_sync.IdentitySync(conf, keystone, lambda: api)
