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

from oslo_policy import policy

from sodos.api.policies import base

LIST = 'sodos:site:list'
GET = 'sodos:site:get'
DRAIN = 'sodos:site:drain'
UNDRAIN = 'sodos:site:undrain'
UPDATE = 'sodos:site:update'
NAMES = 'sodos:site:names'

rules: list[policy.RuleDefault] = [
    policy.DocumentedRuleDefault(
        name=LIST,
        check_str=base.READER,
        description='List the sites of the federation.',
        operations=[{'path': '/v1/sites', 'method': 'GET'}],
    ),
    policy.DocumentedRuleDefault(
        name=GET,
        check_str=base.READER,
        description='Show one site.',
        operations=[{'path': '/v1/sites/{name}', 'method': 'GET'}],
    ),
    policy.DocumentedRuleDefault(
        name=DRAIN,
        check_str=base.ADMIN,
        description='Drain a site: move its members away.',
        operations=[{'path': '/v1/sites/{name}/drain', 'method': 'POST'}],
    ),
    policy.DocumentedRuleDefault(
        name=UNDRAIN,
        check_str=base.ADMIN,
        description='Put a drained site back in service.',
        operations=[{'path': '/v1/sites/{name}/undrain', 'method': 'POST'}],
    ),
    policy.DocumentedRuleDefault(
        name=UPDATE,
        check_str=base.ADMIN,
        description="Override a site's published profile (region, "
        'location, labels, cost and energy figures).',
        operations=[{'path': '/v1/sites/{name}', 'method': 'PATCH'}],
    ),
    policy.DocumentedRuleDefault(
        name=NAMES,
        check_str=base.ADMIN_API,
        description="See sites' internal names in a project's appliances "
        '(members, refusals, unplaced reasons) and in alerts where '
        '[api]expose_site_names_to_tenants is false; others see an opaque '
        'label per site.',
        operations=[
            {'path': '/v1/appliances/{id}', 'method': 'GET'},
            {'path': '/v1/alerts', 'method': 'GET'},
        ],
    ),
]


def list_rules() -> list[policy.RuleDefault]:
    return rules
