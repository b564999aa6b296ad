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

"""The defaults every sodos rule starts from (secure-RBAC style).

Readers (``reader``, ``member`` or ``admin``) see the federation and may
ask what-if questions; only admins change it. What a project owns (its
appliances) goes by the usual OpenStack rules, named as Nova names them:
``project_reader_api`` and ``project_member_api`` match a token scoped
to the target's project, ``admin_api`` any admin. The roles are spelled
out (member, admin) rather than left to Keystone's implied roles, so a
deployment without them behaves the same.
"""

from oslo_policy import policy

READER = 'role:reader or role:member or role:admin'
ADMIN = 'role:admin'

ADMIN_API = 'rule:admin_api'
FEDERATION_ADMIN_API = 'rule:federation_admin_api'
OWNER_ADMIN_API = 'rule:owner_admin_api'
PROJECT_READER_OR_ADMIN = 'rule:project_reader_or_admin'
PROJECT_MEMBER_OR_ADMIN = 'rule:project_member_or_admin'
# Rules about a project's resources apply to project-scoped tokens.
PROJECT_SCOPE = ['project']

rules: list[policy.RuleDefault] = [
    policy.RuleDefault(
        name='admin_api',
        check_str=ADMIN,
        description='An administrator of the federation.',
    ),
    # Keystone's cloud admin: an admin of its admin project
    # ([resource]admin_project_name). Keystone marks every token as of
    # the admin project until one is configured: a community cloud
    # configures it, so that its owners' admins are not all federation
    # admins.
    policy.RuleDefault(
        name='federation_admin_api',
        check_str='role:admin and is_admin_project:True',
        description='An administrator of the whole federation, above '
        'the owners of its sites.',
    ),
    policy.RuleDefault(
        name='owner_admin_api',
        check_str='role:admin and (project_domain_id:%(owner)s or '
        'domain_id:%(owner)s)',
        description="An administrator of the target's owner: an admin "
        "in a project of the owner's Keystone domain, or of the domain.",
    ),
    policy.RuleDefault(
        name='project_reader_api',
        check_str='(role:reader or role:member or role:admin) and '
        'project_id:%(project_id)s',
        description="A reader of the target's project.",
    ),
    policy.RuleDefault(
        name='project_member_api',
        check_str='(role:member or role:admin) and project_id:%(project_id)s',
        description="A member of the target's project.",
    ),
    policy.RuleDefault(
        name='project_reader_or_admin',
        check_str='rule:project_reader_api or rule:admin_api',
        description="A reader of the target's project, or an admin.",
    ),
    policy.RuleDefault(
        name='project_member_or_admin',
        check_str='rule:project_member_api or rule:admin_api',
        description="A member of the target's project, or an admin.",
    ),
]


def list_rules() -> list[policy.RuleDefault]:
    return rules
