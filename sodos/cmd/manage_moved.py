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

"""The sodos-manage commands that moved to ``openstack sodos``.

sodos-manage keeps what cannot go through the REST API (federation
membership, the history database, the shared fernet keys) and the few
commands an operator needs when the API cannot be used (drain, the
pause switch, what-if). The appliance and identity commands only
repeated the API: they are gone, and this table is the one place that
says where each went, so that an old script or habit gets a pointer
instead of argparse's "invalid choice".
"""

from __future__ import annotations

from collections.abc import Sequence

# Removed command (its words after "sodos-manage") -> what replaces it
# (the words after "openstack sodos"), the usual replacement first.
MOVED: dict[tuple[str, ...], tuple[str, ...]] = {
    ('appliance', 'create'): ('appliance create',),
    ('appliance', 'list'): ('appliance list',),
    ('appliance', 'show'): ('appliance show',),
    ('appliance', 'delete'): ('appliance delete',),
    ('identity', 'membership', 'create'): ('identity group add user',),
    ('identity', 'membership', 'delete'): ('identity group remove user',),
    # The API lists members per group (and groups per user), not all.
    ('identity', 'membership', 'list'): (
        'identity group show',
        'identity user show',
    ),
}
for _kind in ('domain', 'project', 'user', 'group'):
    # "create" of an existing name used to change it: "set" does now.
    MOVED[('identity', _kind, 'create')] = (
        'identity %s create' % _kind,
        'identity %s set' % _kind,
    )
    for _verb in ('list', 'show', 'delete'):
        MOVED[('identity', _kind, _verb)] = (
            'identity %s %s' % (_kind, _verb),
        )
for _verb in ('create', 'list', 'delete'):
    MOVED[('identity', 'role-assignment', _verb)] = (
        'identity role-assignment %s' % _verb,
    )

# The groups of removed commands, typed without (or with a wrong) verb:
# "sodos-manage appliance", "sodos-manage identity user --help".
GROUPS = {words[:-1] for words in MOVED}


def _replacements(words: tuple[str, ...]) -> list[str]:
    if words in MOVED:
        return list(MOVED[words])
    found: list[str] = []
    for command, targets in MOVED.items():
        if command[: len(words)] == words:
            found.extend(t for t in targets if t not in found)
    return found


def _match(words: Sequence[str]) -> tuple[str, ...] | None:
    """The longest removed command, or group of them, ``words`` start
    with; None when they name a command sodos-manage still has."""
    for length in range(min(len(words), 3), 0, -1):
        candidate = tuple(words[:length])
        if candidate in MOVED or candidate in GROUPS:
            return candidate
    return None


def message(argv: Sequence[str], categories: Sequence[str]) -> str | None:
    """What to tell the operator whose ``argv`` names a removed command,
    or None. The command starts at the first word of ``argv`` that is a
    category (an option's value, such as a config file, is no category);
    nothing else of ``argv`` is looked at, so ``--help`` after a removed
    command gets the pointer too."""
    known = set(categories) | {words[0] for words in MOVED}
    start = next((i for i, word in enumerate(argv) if word in known), None)
    if start is None:
        return None
    words = _match(argv[start:])
    if words is None:
        return None
    uses = ' or '.join(
        '`openstack sodos %s`' % target for target in _replacements(words)
    )
    return (
        '`sodos-manage %s` was removed (it repeated the REST API): use %s'
        % (
            ' '.join(words),
            uses,
        )
    )
