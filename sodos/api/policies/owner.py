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

"""Who may read and change the owners of sites and their sharing
policies: an owner's admins change its own, the federation admin any
(and alone the fair-share weights, which weigh owners against each
other). The target is ``{'owner': the owner's domain id}``."""

from oslo_policy import policy

from sodos.api.policies import base

LIST = 'sodos:owner:list'
GET = 'sodos:owner:get'
UPDATE = 'sodos:owner:update'
UPDATE_WEIGHT = 'sodos:owner:update:weight'
SET_SITE_OWNER = 'sodos:site:update:owner'

_OWNER_OR_FEDERATION = '%s or %s' % (
    base.OWNER_ADMIN_API,
    base.FEDERATION_ADMIN_API,
)

rules: list[policy.RuleDefault] = [
    policy.DocumentedRuleDefault(
        name=LIST,
        check_str=base.READER,
        description='List the owners of sites and their sharing policies.',
        operations=[{'path': '/v1/owners', 'method': 'GET'}],
    ),
    policy.DocumentedRuleDefault(
        name=GET,
        check_str=base.READER,
        description="Show an owner's sites, sharing policy and usage.",
        operations=[{'path': '/v1/owners/{owner}', 'method': 'GET'}],
    ),
    policy.DocumentedRuleDefault(
        name=UPDATE,
        check_str=_OWNER_OR_FEDERATION,
        description="Change an owner's sharing policy.",
        operations=[{'path': '/v1/owners/{owner}', 'method': 'PATCH'}],
    ),
    policy.DocumentedRuleDefault(
        name=UPDATE_WEIGHT,
        check_str=base.FEDERATION_ADMIN_API,
        description="Change an owner's weight in the fair share.",
        operations=[{'path': '/v1/owners/{owner}', 'method': 'PATCH'}],
    ),
    policy.DocumentedRuleDefault(
        name=SET_SITE_OWNER,
        check_str=_OWNER_OR_FEDERATION,
        description="Change a site's owner; the target is the site's "
        'current owner (none: the federation admin only).',
        operations=[{'path': '/v1/sites/{name}', 'method': 'PATCH'}],
    ),
]


def list_rules() -> list[policy.RuleDefault]:
    return rules
