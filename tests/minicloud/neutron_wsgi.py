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

"""The uwsgi entry point of a site's neutron-server: neutron's own, plus
configured SQLAlchemy mappers.

neutron's get_ports() reads the backref ``Port.port_forwardings`` as a
class attribute, and SQLAlchemy makes backrefs only when the mappers are
configured, which the first query of a process does as a side effect.
In devstack a mechanism driver queries at start-up; with no mechanism
driver nova's ``GET /v2.0/ports?device_id=...`` (server delete) is often
the first request of the worker and got an HTTP 500 (AttributeError).

neutron.py copies this file into the site (SITE/wsgi/neutron_api.py), so
that uwsgi imports it without sodos on its path: it imports only neutron
and SQLAlchemy.
"""

import sqlalchemy.orm
from neutron.wsgi import api

application = api.application
sqlalchemy.orm.configure_mappers()
