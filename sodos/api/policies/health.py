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

DETAIL = 'sodos:healthcheck:detail'

rules: list[policy.RuleDefault] = [
    policy.DocumentedRuleDefault(
        name=DETAIL,
        check_str=base.ADMIN_API,
        description='See the details of the health check (each check '
        "with what it found, the API process's threads). Without a "
        'token, or without this rule, /healthcheck answers its status '
        'and reasons only.',
        operations=[{'path': '/healthcheck', 'method': 'GET'}],
    ),
]


def list_rules() -> list[policy.RuleDefault]:
    return rules
