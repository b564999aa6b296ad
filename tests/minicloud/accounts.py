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

"""Who logs in to a site, and how.

Fixed, well-known credentials: a site is a throw-away test bed on
loopback. The service users get both the admin and the service role on
project service, which the current nova and placement policies accept.
"""

from __future__ import annotations

from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

ADMIN_USER = 'admin'
ADMIN_PASSWORD = 'admin'
ADMIN_PROJECT = 'admin'
DOMAIN = 'Default'

SERVICE_PROJECT = 'service'
SERVICE_PASSWORD = 'service'
SERVICE_ROLES = ('admin', 'service')
# The users the services log in as (keystonemiddleware, and nova's calls
# to placement, glance and neutron). A real neutron-server adds its own,
# neutron.USER.
SERVICE_USERS = ('glance', 'placement', 'nova')


def session(
    auth_url: str,
    username: str = ADMIN_USER,
    password: str = ADMIN_PASSWORD,
    project: str = ADMIN_PROJECT,
) -> ks_session.Session:
    auth = v3.Password(
        auth_url=auth_url,
        username=username,
        password=password,
        project_name=project,
        user_domain_name=DOMAIN,
        project_domain_name=DOMAIN,
    )
    return ks_session.Session(auth=auth)
