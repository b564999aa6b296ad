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

GET = 'sodos:dashboard:get'

rules: list[policy.RuleDefault] = [
    policy.DocumentedRuleDefault(
        name=GET,
        # Every project's appliances, actions and alerts: the operators'
        # view, as Nova keeps its hypervisors' to admins; a deployment
        # gives its read-only staff this rule if it wants.
        check_str=base.ADMIN_API,
        description='Show the status page snapshot: sites, members, '
        'alerts, recent actions and the last hour.',
        operations=[{'path': '/v1/dashboard', 'method': 'GET'}],
    ),
]


def list_rules() -> list[policy.RuleDefault]:
    return rules
