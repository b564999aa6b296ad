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

"""What a site needs installed in the venv that starts it.

The OpenStack services come from PyPI (integration-requirements.txt with
tools/openstack-constraints.txt), not with sodos; the tests and tools
check for them first to say what to install rather than fail mid-start.
"""

from __future__ import annotations

import importlib.util

from tests.minicloud import neutron as neutron_mod
from tests.minicloud import processes

_EXECUTABLES = (
    'keystone-manage',
    'glance-manage',
    'placement-manage',
    'nova-manage',
    'nova-conductor',
    'nova-scheduler',
    'nova-compute',
    'uwsgi',
)
_MODULES = ('pymysql', 'keystoneclient', 'glanceclient', 'novaclient')
INSTALL_HINT = (
    'pip install -c tools/openstack-constraints.txt '
    '-r integration-requirements.txt'
)


def missing_packages(neutron: str = neutron_mod.DEFAULT_MODE) -> list[str]:
    """The OpenStack executables and modules this venv lacks.

    neutron: the neutron mode the site would run.
    """
    missing = processes.missing(_EXECUTABLES)
    missing += [m for m in _MODULES if importlib.util.find_spec(m) is None]
    return missing + neutron_mod.missing(neutron)
