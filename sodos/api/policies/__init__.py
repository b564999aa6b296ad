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

"""The oslo.policy rules of the REST API, one module per resource."""

import itertools

from oslo_policy import policy

from sodos.api.policies import alert
from sodos.api.policies import appliance
from sodos.api.policies import base
from sodos.api.policies import catalog
from sodos.api.policies import dashboard
from sodos.api.policies import federation
from sodos.api.policies import health
from sodos.api.policies import history
from sodos.api.policies import identity
from sodos.api.policies import image
from sodos.api.policies import owner
from sodos.api.policies import site
from sodos.api.policies import usage
from sodos.api.policies import whatif


def list_rules() -> list[policy.RuleDefault]:
    return list(
        itertools.chain(
            base.list_rules(),
            federation.list_rules(),
            health.list_rules(),
            site.list_rules(),
            owner.list_rules(),
            appliance.list_rules(),
            image.list_rules(),
            catalog.list_rules(),
            dashboard.list_rules(),
            alert.list_rules(),
            whatif.list_rules(),
            history.list_rules(),
            usage.list_rules(),
            identity.list_rules(),
        )
    )
