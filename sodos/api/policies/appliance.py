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

LIST = 'sodos:appliance:list'
GET = 'sodos:appliance:get'
CREATE = 'sodos:appliance:create'
DELETE = 'sodos:appliance:delete'

rules: list[policy.RuleDefault] = [
    policy.DocumentedRuleDefault(
        name=LIST,
        check_str=base.READER,
        description='List the appliances.',
        operations=[{'path': '/v1/appliances', 'method': 'GET'}],
    ),
    policy.DocumentedRuleDefault(
        name=GET,
        check_str=base.READER,
        description='Show an appliance and the state of its members.',
        operations=[{'path': '/v1/appliances/{id}', 'method': 'GET'}],
    ),
    policy.DocumentedRuleDefault(
        name=CREATE,
        check_str=base.ADMIN,
        description='Create an appliance; the federation places it.',
        operations=[{'path': '/v1/appliances', 'method': 'POST'}],
    ),
    policy.DocumentedRuleDefault(
        name=DELETE,
        check_str=base.ADMIN,
        description='Delete an appliance and its servers.',
        operations=[{'path': '/v1/appliances/{id}', 'method': 'DELETE'}],
    ),
]


def list_rules() -> list[policy.RuleDefault]:
    return rules
