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

"""JSON schemas of the identity commands of the Knowledge Base.

Merged into :data:`sodos.kb.schemas.ARGS`; the same rules apply (a
change of meaning bumps :data:`sodos.kb.commands.SCHEMA_VERSION`).
"""

from typing import Any

# The ids sodos gives: uuid4 hex, Keystone's own format for an explicit
# domain id.
GLOBAL_ID: dict[str, Any] = {'type': 'string', 'pattern': '^[0-9a-f]{32}$'}
DOMAIN_REF: dict[str, Any] = {
    'type': 'string',
    'pattern': '^([0-9a-f]{32}|default)$',
}
# Keystone allows up to 255 characters (64 for a domain); sodos keeps to
# printable names without a leading or trailing blank or a slash (its
# own key separator).
ENTITY_NAME: dict[str, Any] = {
    'type': 'string',
    'pattern': r'^[^\s/\x00-\x1f\x7f]'
    r'([^/\x00-\x1f\x7f]{0,62}[^\s/\x00-\x1f\x7f])?$',
}
ROLE_NAME: dict[str, Any] = {
    'type': 'string',
    'pattern': r'^[A-Za-z0-9_][A-Za-z0-9_.:\-]{0,63}$',
}
DESCRIPTION: dict[str, Any] = {'type': 'string', 'maxLength': 255}
EMAIL: dict[str, Any] = {
    'type': 'string',
    'pattern': r'^[^@\s]{1,128}@[^@\s]{1,126}$',
}
SITE: dict[str, Any] = {
    'type': 'string',
    'pattern': r'^[A-Za-z0-9][A-Za-z0-9_.\-]{0,62}$',
}
# A password, encrypted by the proposer (sodos.identity.crypto): a
# plaintext cannot match the Fernet token pattern.
PASSWORD: dict[str, Any] = {
    'type': 'object',
    'properties': {
        'ciphertext': {
            'type': 'string',
            'pattern': '^gAAAAA[A-Za-z0-9_=-]{50,4000}$',
        },
        'key_id': {'type': 'string', 'pattern': '^[0-9a-f]{16}$'},
    },
    'required': ['ciphertext', 'key_id'],
    'additionalProperties': False,
}
KIND: dict[str, Any] = {'enum': ['projects', 'users', 'groups']}
# A site's own id of an object (what Keystone 30 and LDAP backends give).
LOCAL_ID: dict[str, Any] = {
    'type': 'string',
    'pattern': '^[0-9A-Za-z_\\-]{1,64}$',
}
# Why an adoption failed, or what to know about one that was done.
ADOPTION_TEXT: dict[str, Any] = {'type': 'string', 'maxLength': 1024}


def _obj(required: list[str], **props: Any) -> dict[str, Any]:
    return {
        'type': 'object',
        'properties': props,
        'required': required,
        'additionalProperties': False,
    }


_LINK_ASSIGNMENT = _obj(
    ['role', 'actor_type', 'actor_id', 'target_type', 'target_id'],
    role=ROLE_NAME,
    actor_type={'enum': ['user', 'group']},
    actor_id=GLOBAL_ID,
    target_type={'enum': ['project', 'domain']},
    target_id=DOMAIN_REF,
)
_MAP_ENTRIES = {
    'type': 'array',
    'maxItems': 1000,
    'items': _obj(
        ['kind', 'id', 'local_id'],
        kind=KIND,
        id=GLOBAL_ID,
        local_id=LOCAL_ID,
    ),
}

ARGS: dict[str, dict[str, Any]] = {
    'identity.domain.put': _obj(
        ['domain_id', 'name'],
        domain_id=GLOBAL_ID,
        name=ENTITY_NAME,
        description=DESCRIPTION,
        enabled={'type': 'boolean'},
    ),
    'identity.project.put': _obj(
        ['project_id', 'name', 'domain_id'],
        project_id=GLOBAL_ID,
        name=ENTITY_NAME,
        domain_id=DOMAIN_REF,
        description=DESCRIPTION,
        enabled={'type': 'boolean'},
    ),
    'identity.user.put': _obj(
        ['user_id', 'name', 'domain_id'],
        user_id=GLOBAL_ID,
        name=ENTITY_NAME,
        domain_id=DOMAIN_REF,
        description=DESCRIPTION,
        email=EMAIL,
        enabled={'type': 'boolean'},
        password=PASSWORD,
    ),
    'identity.group.put': _obj(
        ['group_id', 'name', 'domain_id'],
        group_id=GLOBAL_ID,
        name=ENTITY_NAME,
        domain_id=DOMAIN_REF,
        description=DESCRIPTION,
    ),
    'identity.domain.delete': _obj(['domain_id'], domain_id=GLOBAL_ID),
    'identity.project.delete': _obj(['project_id'], project_id=GLOBAL_ID),
    'identity.user.delete': _obj(['user_id'], user_id=GLOBAL_ID),
    'identity.group.delete': _obj(['group_id'], group_id=GLOBAL_ID),
    'identity.membership.put': _obj(
        ['group_id', 'user_id'], group_id=GLOBAL_ID, user_id=GLOBAL_ID
    ),
    'identity.membership.delete': _obj(
        ['group_id', 'user_id'], group_id=GLOBAL_ID, user_id=GLOBAL_ID
    ),
    'identity.assignment.put': _LINK_ASSIGNMENT,
    'identity.assignment.delete': _LINK_ASSIGNMENT,
    # Written by a site's Exec: the ids its Keystone gave.
    'identity.map': _obj(
        ['site'],
        site=SITE,
        set=_MAP_ENTRIES,
        drop={
            'type': 'array',
            'maxItems': 1000,
            'items': _obj(['kind', 'id'], kind=KIND, id=GLOBAL_ID),
        },
    ),
    # Adoption (sodos.identity.adoption): asked by an operator, carried
    # out by the named site's Exec, which alone reads its Keystone.
    'identity.adopt': _obj(
        ['request_id', 'kind', 'name', 'domain_id', 'site', 'requested_by'],
        request_id=GLOBAL_ID,
        kind=KIND,
        name=ENTITY_NAME,
        domain_id=DOMAIN_REF,
        site=SITE,
        requested_by={'type': 'string', 'minLength': 1, 'maxLength': 255},
    ),
    'identity.adoption.finish': _obj(
        ['request_id', 'outcome'],
        request_id=GLOBAL_ID,
        outcome={'enum': ['done', 'failed']},
        # done: the object's global id, the site's id and the attributes
        # read at the site; failed: the reason.
        id=GLOBAL_ID,
        local_id=LOCAL_ID,
        attrs=_obj(
            [],
            description=DESCRIPTION,
            enabled={'type': 'boolean'},
            email=EMAIL,
        ),
        # The links that come with it: on a project, roles of federation
        # users and groups; in a group, federation users.
        assignments={
            'type': 'array',
            'maxItems': 1000,
            'items': _obj(
                ['role', 'actor_type', 'actor_id'],
                role=ROLE_NAME,
                actor_type={'enum': ['user', 'group']},
                actor_id=GLOBAL_ID,
            ),
        },
        members={'type': 'array', 'maxItems': 1000, 'items': GLOBAL_ID},
        reason=ADOPTION_TEXT,
        note=ADOPTION_TEXT,
    ),
}
