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

from sodos.sim import certs


@pytest.fixture(scope='session')
def local_ca(tmp_path_factory):
    """A throwaway federation CA for the tests' sites: they talk mutual
    TLS, as real sites do."""
    return certs.LocalCA(str(tmp_path_factory.mktemp('ca')))


@pytest.fixture(scope='session')
def site_tls(local_ca):
    """The [raft]ssl_* options of a site certificate of local_ca."""
    return local_ca.issue('site')


def tls_lines(site_tls):
    """The same options as lines of a config file's [raft] section."""
    return ''.join('%s = %s\n' % item for item in site_tls.items())
