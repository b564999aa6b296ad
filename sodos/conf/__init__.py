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

"""sodos configuration: one module per option group.

Nothing here registers options on a global object: callers make a
``cfg.ConfigOpts()`` and pass it to :func:`register_opts`.
"""

from oslo_config import cfg

from sodos.conf import analyseplan
from sodos.conf import api
from sodos.conf import database
from sodos.conf import default
from sodos.conf import exec as exec_
from sodos.conf import identity
from sodos.conf import image_relay
from sodos.conf import image_transfer
from sodos.conf import knowmon
from sodos.conf import metrics
from sodos.conf import raft
from sodos.conf import simulator
from sodos.conf import site_auth
from sodos.conf import site_profile

MODULES = (
    default,
    raft,
    knowmon,
    exec_,
    identity,
    image_relay,
    image_transfer,
    simulator,
    site_auth,
    site_profile,
    analyseplan,
    database,
    api,
    metrics,
)


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register every sodos option group on ``conf`` (idempotent)."""
    for module in MODULES:
        module.register_opts(conf)
