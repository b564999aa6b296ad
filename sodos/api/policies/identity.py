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

"""The federation identity: one rule per kind and method, so that an
operator can, say, let a role create projects but not users."""

from oslo_policy import policy

from sodos.api.policies import base

STATUS = 'sodos:identity:get'
GROUP_USERS = 'sodos:identity:group:list_users'
GROUP_ADD_USER = 'sodos:identity:group:add_user'
GROUP_REMOVE_USER = 'sodos:identity:group:remove_user'
ASSIGNMENT_LIST = 'sodos:identity:role_assignment:list'
ASSIGNMENT_CREATE = 'sodos:identity:role_assignment:create'
ASSIGNMENT_DELETE = 'sodos:identity:role_assignment:delete'
ADOPTION_LIST = 'sodos:identity:adoption:list'
ADOPTION_GET = 'sodos:identity:adoption:get'
ADOPTION_CREATE = 'sodos:identity:adoption:create'
KINDS = ('domain', 'project', 'user', 'group')
# (action, method, on one object, default, what it does)
_ACTIONS = (
    ('list', 'GET', False, base.READER, 'List the federation %ss.'),
    ('get', 'GET', True, base.READER, 'Show a federation %s.'),
    ('create', 'POST', False, base.ADMIN, 'Create a federation %s.'),
    ('update', 'PATCH', True, base.ADMIN, 'Change a federation %s.'),
    ('delete', 'DELETE', True, base.ADMIN, 'Delete a federation %s.'),
)


def rule(kind: str, action: str) -> str:
    """The name of the rule of ``action`` on ``kind`` (singular)."""
    return 'sodos:identity:%s:%s' % (kind, action)


def _object_rules() -> list[policy.RuleDefault]:
    made: list[policy.RuleDefault] = []
    for kind in KINDS:
        path = '/v1/identity/%ss' % kind
        for action, method, one, check, text in _ACTIONS:
            made.append(
                policy.DocumentedRuleDefault(
                    name=rule(kind, action),
                    check_str=check,
                    description=text % kind,
                    operations=[
                        {
                            'path': path + '/{ref}' if one else path,
                            'method': method,
                        }
                    ],
                )
            )
    return made


_MEMBER = '/v1/identity/groups/{ref}/users/{user}'
_ASSIGNMENTS = '/v1/identity/role-assignments'
_ADOPTIONS = '/v1/identity/adoptions'

rules: list[policy.RuleDefault] = [
    policy.DocumentedRuleDefault(
        name=STATUS,
        check_str=base.READER,
        description='Show the revision of the federation identity and '
        'how far each site has brought its Keystone in line.',
        operations=[{'path': '/v1/identity', 'method': 'GET'}],
    ),
    *_object_rules(),
    policy.DocumentedRuleDefault(
        name=GROUP_USERS,
        check_str=base.READER,
        description='List the users in a federation group.',
        operations=[
            {'path': '/v1/identity/groups/{ref}/users', 'method': 'GET'}
        ],
    ),
    policy.DocumentedRuleDefault(
        name=GROUP_ADD_USER,
        check_str=base.ADMIN,
        description='Put a user in a federation group.',
        operations=[{'path': _MEMBER, 'method': 'PUT'}],
    ),
    policy.DocumentedRuleDefault(
        name=GROUP_REMOVE_USER,
        check_str=base.ADMIN,
        description='Take a user out of a federation group.',
        operations=[{'path': _MEMBER, 'method': 'DELETE'}],
    ),
    policy.DocumentedRuleDefault(
        name=ASSIGNMENT_LIST,
        check_str=base.READER,
        description='List the role assignments of the federation.',
        operations=[{'path': _ASSIGNMENTS, 'method': 'GET'}],
    ),
    policy.DocumentedRuleDefault(
        name=ASSIGNMENT_CREATE,
        check_str=base.ADMIN,
        description='Give a role to a user or group on a project or '
        'domain, at every site.',
        operations=[{'path': _ASSIGNMENTS, 'method': 'POST'}],
    ),
    policy.DocumentedRuleDefault(
        name=ASSIGNMENT_DELETE,
        check_str=base.ADMIN,
        description='Take a role back, at every site.',
        operations=[{'path': _ASSIGNMENTS, 'method': 'DELETE'}],
    ),
    policy.DocumentedRuleDefault(
        name=ADOPTION_LIST,
        check_str=base.READER,
        description='List the requests to adopt objects of a site.',
        operations=[{'path': _ADOPTIONS, 'method': 'GET'}],
    ),
    policy.DocumentedRuleDefault(
        name=ADOPTION_GET,
        check_str=base.READER,
        description='Show a request to adopt an object of a site.',
        operations=[{'path': _ADOPTIONS + '/{request_id}', 'method': 'GET'}],
    ),
    policy.DocumentedRuleDefault(
        name=ADOPTION_CREATE,
        check_str=base.ADMIN,
        description="Make a project, user or group of a site's Keystone "
        'a federation object, present at every site.',
        operations=[{'path': _ADOPTIONS, 'method': 'POST'}],
    ),
]


def list_rules() -> list[policy.RuleDefault]:
    return rules
