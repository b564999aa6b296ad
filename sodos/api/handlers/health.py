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

"""``/healthcheck``: oslo.middleware's health check of this API process
(:mod:`sodos.observe.health`), for load balancers without a token and
in detail for admins."""

from __future__ import annotations

import webob

from sodos.api import util
from sodos.api.policies import health as policies


def show(req: webob.Request) -> webob.Response:
    svc = util.services(req)
    detailed = util.allowed(req, policies.DETAIL)
    check = svc.healthchecks[detailed]
    # Its 503 is the answer load balancers act on, in oslo.middleware's
    # body: not an error of the API contract to rewrite.
    req.environ[util.AS_IS_KEY] = True
    response: webob.Response = req.get_response(check)
    return response
