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

"""oslo.policy for the REST API.

The rules and their defaults are in code (:mod:`sodos.api.policies`);
an operator overrides some in ``[oslo_policy]policy_file``. A sample is
generated, never committed::

    oslopolicy-sample-generator \
        --config-file etc/sodos/sodos-policy-generator.conf
"""

from __future__ import annotations

from typing import Any

from oslo_config import cfg
from oslo_context import context as oslo_context
from oslo_policy import policy

from sodos.api import errors
from sodos.api import policies


def make_enforcer(conf: cfg.ConfigOpts) -> policy.Enforcer:
    enforcer = policy.Enforcer(conf)
    enforcer.register_defaults(policies.list_rules())
    return enforcer


def get_enforcer() -> policy.Enforcer:
    """For the oslopolicy-* tools (entry point ``oslo.policy.enforcer``).

    They read the config files named on their own command line; this
    makes a fresh configuration so nothing global is touched.
    """
    conf = cfg.ConfigOpts()
    conf([], project='sodos')
    return make_enforcer(conf)


def authorize(
    enforcer: policy.Enforcer,
    context: oslo_context.RequestContext,
    rule: str,
    target: dict[str, Any] | None = None,
) -> None:
    """:raises ApiError: 403 ``forbidden`` naming the rule."""
    credentials = context.to_policy_values()
    try:
        enforcer.authorize(rule, target or {}, credentials, do_raise=True)
    except policy.InvalidScope as exc:
        raise errors.ApiError(
            403,
            errors.FORBIDDEN,
            'policy %s is for tokens scoped to a project: %s' % (rule, exc),
        ) from exc
    except policy.PolicyNotAuthorized as exc:
        raise errors.ApiError(
            403,
            errors.FORBIDDEN,
            'policy %s does not allow this request (roles: %s)'
            % (rule, ', '.join(sorted(context.roles)) or 'none'),
        ) from exc
