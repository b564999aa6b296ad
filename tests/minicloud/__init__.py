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

"""minicloud: real, minimal OpenStack sites for the integration tests.

Keystone, Glance, Placement and Nova (fake virt driver) from their PyPI
releases, each site on its own block of ports on 127.0.0.1, with its own
MariaDB databases, RabbitMQ vhost and directory. ``tools/minicloud`` is
the command line; tests/integration starts two sites per session.

The OpenStack packages come from integration-requirements.txt (with
tools/openstack-constraints.txt) and must be in the running venv.
"""

from tests.minicloud.backends import DEFAULT_DATABASE_URL
from tests.minicloud.backends import DEFAULT_TRANSPORT_URL
from tests.minicloud.errors import MinicloudError
from tests.minicloud.layout import free_port_base
from tests.minicloud.layout import free_port_bases
from tests.minicloud.packages import INSTALL_HINT
from tests.minicloud.packages import missing_packages
from tests.minicloud.site import Site

__all__ = [
    'DEFAULT_DATABASE_URL',
    'DEFAULT_TRANSPORT_URL',
    'INSTALL_HINT',
    'MinicloudError',
    'Site',
    'free_port_base',
    'free_port_bases',
    'missing_packages',
]
