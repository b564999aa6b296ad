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

LIST = 'sodos:image:list'
GET = 'sodos:image:get'
CREATE = 'sodos:image:create'
DISTRIBUTE = 'sodos:image:distribute'
DELETE = 'sodos:image:delete'

rules: list[policy.RuleDefault] = [
    policy.DocumentedRuleDefault(
        name=LIST,
        check_str=base.READER,
        description='List the images the federation distributes.',
        operations=[{'path': '/v1/images', 'method': 'GET'}],
    ),
    policy.DocumentedRuleDefault(
        name=GET,
        check_str=base.READER,
        description='Show an image and where it is, site by site.',
        operations=[{'path': '/v1/images/{id}', 'method': 'GET'}],
    ),
    policy.DocumentedRuleDefault(
        name=CREATE,
        check_str=base.ADMIN,
        description='Register an image found at a site, to distribute it.',
        operations=[{'path': '/v1/images', 'method': 'POST'}],
    ),
    policy.DocumentedRuleDefault(
        name=DISTRIBUTE,
        check_str=base.ADMIN,
        description='Change the sites an image is distributed to.',
        operations=[{'path': '/v1/images/{id}/target', 'method': 'PUT'}],
    ),
    policy.DocumentedRuleDefault(
        name=DELETE,
        check_str=base.ADMIN,
        description='Stop distributing an image and delete its copies '
        'at every site.',
        operations=[{'path': '/v1/images/{id}', 'method': 'DELETE'}],
    ),
]


def list_rules() -> list[policy.RuleDefault]:
    return rules
