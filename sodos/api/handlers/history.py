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

"""This site's history store: executed actions, closed alerts and
monitoring samples, kept in SQL ([database]connection)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import webob

from sodos.api import errors
from sodos.api import util
from sodos.api.policies import history as policies
from sodos.db import api as db_api


def read_rows(req: webob.Request, fetch: Callable[[], Any]) -> Any:
    try:
        return fetch()
    except db_api.DatabaseError as exc:
        raise errors.unavailable(
            'the history database of site %s cannot be read (%s): is it '
            'set up? run "sodos-manage db sync"'
            % (util.services(req).site, exc)
        ) from exc


def actions(req: webob.Request) -> webob.Response:
    util.authorize(req, policies.LIST)
    args = util.query(req, {'site': util.name, 'limit': util.limit})
    conf = util.services(req).conf
    rows = read_rows(
        req,
        lambda: db_api.recent_actions(
            conf, limit=args.get('limit', 50), site=args.get('site')
        ),
    )
    return util.respond({'actions': rows})


def alerts(req: webob.Request) -> webob.Response:
    util.authorize(req, policies.LIST)
    args = util.query(req, {'site': util.name, 'limit': util.limit})
    conf = util.services(req).conf
    rows = read_rows(
        req,
        lambda: db_api.alerts(
            conf, site=args.get('site'), limit=args.get('limit', 100)
        ),
    )
    return util.respond({'alerts': rows})


def monitoring(req: webob.Request) -> webob.Response:
    util.authorize(req, policies.LIST)
    args = util.query(req, {'site': util.name, 'limit': util.limit})
    if 'site' not in args:
        raise errors.invalid_query("site: which site's samples? (site=NAME)")
    conf = util.services(req).conf
    rows = read_rows(
        req,
        lambda: db_api.monitoring_history(
            conf, args['site'], limit=args.get('limit', 100)
        ),
    )
    return util.respond({'samples': rows})
