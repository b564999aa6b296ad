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

"""Bodies of the identity routes.

Objects are referred to by name or by global id (a name is looked up in
a domain, ``default`` unless one is given). A password is plain text
here only: the API encrypts it before it is proposed to the KB.
"""

from typing import Any

from sodos.api.schemas import common
from sodos.identity import crypto
from sodos.identity import model
from sodos.identity import schemas as identity_schemas

NAME = identity_schemas.ENTITY_NAME
# A name or a global id (a global id is a name's worth of hex digits).
REF = identity_schemas.ENTITY_NAME
ROLE = identity_schemas.ROLE_NAME
PASSWORD: dict[str, Any] = {
    'type': 'string',
    'minLength': 1,
    'maxLength': crypto.MAX_PASSWORD,
}
ENABLED: dict[str, Any] = {'type': 'boolean'}
# null clears an attribute in a PATCH.
DESCRIPTION: dict[str, Any] = dict(
    identity_schemas.DESCRIPTION, type=['string', 'null']
)
EMAIL: dict[str, Any] = dict(identity_schemas.EMAIL, type=['string', 'null'])

# What each kind has besides its name and domain.
_ATTRS: dict[str, dict[str, Any]] = {
    'domains': {'description': DESCRIPTION, 'enabled': ENABLED},
    'projects': {'description': DESCRIPTION, 'enabled': ENABLED},
    'users': {
        'description': DESCRIPTION,
        'email': EMAIL,
        'enabled': ENABLED,
        'password': PASSWORD,
    },
    'groups': {'description': DESCRIPTION},
}


def _create(kind: str) -> dict[str, Any]:
    props = dict(_ATTRS[kind], name=NAME)
    if kind != 'domains':
        props['domain'] = REF
    return common.obj(
        [model.SINGULAR[kind]],
        **{model.SINGULAR[kind]: common.obj(['name'], **props)},
    )


def _update(kind: str) -> dict[str, Any]:
    inner = dict(common.obj(**dict(_ATTRS[kind], name=NAME)), minProperties=1)
    return common.obj([model.SINGULAR[kind]], **{model.SINGULAR[kind]: inner})


CREATE = {kind: _create(kind) for kind in model.KINDS}
UPDATE = {kind: _update(kind) for kind in model.KINDS}

# One actor (user or group) and one target (project or domain) are
# checked by the handler, which names what is missing or doubled.
ASSIGNMENT_FIELDS: dict[str, Any] = {
    'role': ROLE,
    'user': REF,
    'group': REF,
    'project': REF,
    'domain': REF,
    'user_domain': REF,
    'group_domain': REF,
    'project_domain': REF,
}
ASSIGNMENT: dict[str, Any] = common.obj(
    ['role_assignment'],
    role_assignment=common.obj(['role'], **ASSIGNMENT_FIELDS),
)

# Adoption: the site's object of that kind, name and domain becomes a
# federation object.
ADOPTION: dict[str, Any] = common.obj(
    ['adoption'],
    adoption=common.obj(
        ['kind', 'name', 'site'],
        kind={'enum': ['project', 'user', 'group']},
        name=NAME,
        domain=REF,
        site=identity_schemas.SITE,
    ),
)
