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

"""Appliances belong to a project: the target of every rule here is
``{'project_id': the owner's id at this site}``.

A caller whose rule fails on another project's appliance gets 404, as
from Nova: what another project owns is not even said to exist.
"""

from oslo_policy import policy

from sodos.api.policies import base

LIST = 'sodos:appliance:list'
LIST_ALL_PROJECTS = 'sodos:appliance:list:all_projects'
GET = 'sodos:appliance:get'
CREATE = 'sodos:appliance:create'
CREATE_FOR_PROJECT = 'sodos:appliance:create:project_id'
UPDATE = 'sodos:appliance:update'
DELETE = 'sodos:appliance:delete'

rules: list[policy.RuleDefault] = [
    policy.DocumentedRuleDefault(
        name=LIST,
        check_str=base.PROJECT_READER_OR_ADMIN,
        description="List the appliances of the caller's project.",
        operations=[{'path': '/v1/appliances', 'method': 'GET'}],
        scope_types=base.PROJECT_SCOPE,
    ),
    policy.DocumentedRuleDefault(
        name=LIST_ALL_PROJECTS,
        check_str=base.ADMIN_API,
        description="List every project's appliances (all_projects=true).",
        operations=[
            {'path': '/v1/appliances?all_projects=true', 'method': 'GET'}
        ],
        scope_types=base.PROJECT_SCOPE,
    ),
    policy.DocumentedRuleDefault(
        name=GET,
        check_str=base.PROJECT_READER_OR_ADMIN,
        description='Show an appliance and the state of its members.',
        operations=[{'path': '/v1/appliances/{id}', 'method': 'GET'}],
        scope_types=base.PROJECT_SCOPE,
    ),
    policy.DocumentedRuleDefault(
        name=CREATE,
        check_str=base.PROJECT_MEMBER_OR_ADMIN,
        description='Create an appliance; the federation places it.',
        operations=[{'path': '/v1/appliances', 'method': 'POST'}],
        scope_types=base.PROJECT_SCOPE,
    ),
    policy.DocumentedRuleDefault(
        name=CREATE_FOR_PROJECT,
        check_str=base.ADMIN_API,
        description='Create an appliance owned by another project than '
        "the caller's (appliance.project_id).",
        operations=[{'path': '/v1/appliances', 'method': 'POST'}],
        scope_types=base.PROJECT_SCOPE,
    ),
    policy.DocumentedRuleDefault(
        name=UPDATE,
        check_str=base.PROJECT_MEMBER_OR_ADMIN,
        description='Change an appliance: its members and their counts, '
        'priority, constraints, key, user data and metadata (not its '
        'project, its networks or the image and flavor of a member).',
        operations=[{'path': '/v1/appliances/{id}', 'method': 'PATCH'}],
        scope_types=base.PROJECT_SCOPE,
    ),
    policy.DocumentedRuleDefault(
        name=DELETE,
        check_str=base.PROJECT_MEMBER_OR_ADMIN,
        description='Delete an appliance and its servers.',
        operations=[{'path': '/v1/appliances/{id}', 'method': 'DELETE'}],
        scope_types=base.PROJECT_SCOPE,
    ),
]


def list_rules() -> list[policy.RuleDefault]:
    return rules
