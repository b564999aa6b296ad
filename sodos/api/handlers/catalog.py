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

"""The federated catalog: every site's Keystone endpoints, by region.

Each site's Exec publishes its own catalog in the KB when it changes
(:mod:`sodos.exec.catalog.sync`); a site that left is not listed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import fastjsonschema
import webob

from sodos.api import util
from sodos.api.policies import catalog as policies
from sodos.api.schemas import catalog as schemas
from sodos.kb import catalog as kb_catalog


def _checked(key: str) -> Callable[[str], str]:
    """A query converter that checks the value against LIST_QUERY."""
    check = util.validator(schemas.LIST_QUERY)

    def convert(value: str) -> str:
        try:
            check({key: value})
        except fastjsonschema.JsonSchemaValueException as exc:
            shown = value if len(value) <= 64 else value[:64] + '...'
            raise ValueError(
                '%r %s' % (shown, exc.message.split(' ', 1)[-1])
            ) from None
        return value

    return convert


QUERY: dict[str, Callable[[str], Any]] = {
    key: _checked(key) for key in schemas.LIST_QUERY['properties']
}


def list_catalog(req: webob.Request) -> webob.Response:
    util.authorize(req, policies.LIST)
    filters = util.query(req, QUERY)
    rows = kb_catalog.rows(
        util.read(req, 'catalog') or {},
        util.read(req, 'sites') or {},
        **filters,
    )
    return util.respond({'catalog': rows})
