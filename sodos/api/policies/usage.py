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

"""Who may read the accounting (/v1/usage), and whose.

Any reader may ask; what the answer covers is the widest of: every
owner (the federation admin, :data:`LIST_ALL`), the owner asked for or
the caller's own domain (an admin of that owner, :data:`LIST_OWNER`,
target ``{'owner': domain id}``), the caller's own project (a reader of
it, :data:`LIST_PROJECT`, target ``{'project_id': its id at this
site}``). Asking for more than that is refused (403).
"""

from oslo_policy import policy

from sodos.api.policies import base

LIST = 'sodos:usage:list'
LIST_ALL = 'sodos:usage:list:all'
LIST_OWNER = 'sodos:usage:list:owner'
LIST_PROJECT = 'sodos:usage:list:project'

rules: list[policy.RuleDefault] = [
    policy.DocumentedRuleDefault(
        name=LIST,
        check_str=base.READER,
        description='Read the accounting (usage per owner, project, site '
        'and hour), as far as one of the rules below allows.',
        operations=[{'path': '/v1/usage', 'method': 'GET'}],
    ),
    policy.DocumentedRuleDefault(
        name=LIST_ALL,
        check_str=base.FEDERATION_ADMIN_API,
        description="Read every owner's and project's usage.",
        operations=[{'path': '/v1/usage', 'method': 'GET'}],
    ),
    policy.DocumentedRuleDefault(
        name=LIST_OWNER,
        check_str=base.OWNER_ADMIN_API,
        description="Read the usage of every project of the target's "
        'owner (its Keystone domain).',
        operations=[{'path': '/v1/usage', 'method': 'GET'}],
    ),
    policy.DocumentedRuleDefault(
        name=LIST_PROJECT,
        check_str='rule:project_reader_api',
        description="Read the usage of the caller's own project.",
        operations=[{'path': '/v1/usage', 'method': 'GET'}],
    ),
]


def list_rules() -> list[policy.RuleDefault]:
    return rules
