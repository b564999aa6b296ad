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

LIST = 'sodos:alert:list'
GET = 'sodos:alert:get'
ACK = 'sodos:alert:ack'
ALL_PROJECTS = 'sodos:alert:list:all_projects'

rules: list[policy.RuleDefault] = [
    policy.DocumentedRuleDefault(
        name=LIST,
        check_str=base.READER,
        description='List the open alerts.',
        operations=[{'path': '/v1/alerts', 'method': 'GET'}],
    ),
    policy.DocumentedRuleDefault(
        name=GET,
        check_str=base.READER,
        description='Show an open alert.',
        operations=[{'path': '/v1/alerts/{id}', 'method': 'GET'}],
    ),
    policy.DocumentedRuleDefault(
        name=ALL_PROJECTS,
        check_str=base.ADMIN_API,
        description="See every alert as raised: other projects' unplaced "
        "members, the operators' own alerts (identity, keys, the "
        "Knowledge Base, images) and the sharing reasons that name sites' "
        "owners. Others see the sites' health alerts and the unplaced "
        "members of their project's appliances, owners unnamed.",
        operations=[
            {'path': '/v1/alerts', 'method': 'GET'},
            {'path': '/v1/alerts/{id}', 'method': 'GET'},
        ],
    ),
    policy.DocumentedRuleDefault(
        name=ACK,
        check_str=base.ADMIN,
        description='Acknowledge an alert.',
        operations=[{'path': '/v1/alerts/{id}/ack', 'method': 'POST'}],
    ),
]


def list_rules() -> list[policy.RuleDefault]:
    return rules
