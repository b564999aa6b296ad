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

"""``openstack sodos identity ...``: the federation's domains, projects,
users and groups, which every site's Keystone is kept in line with.

Objects are named by id or by name, a name being looked up in
``--domain`` (``default`` when not given). A password is read from a
prompt or from standard input, never from the command line (other users
of the host can read command lines); the API encrypts it with the
federation's ``[identity]secret`` and never shows it back.
"""

from __future__ import annotations

import argparse
from typing import Any

from osc_lib.command import command

from sodos.osc.v1 import common
from sodos.osc.v1 import identity_base as base


class CreateDomain(base.Create):
    """Create a domain at every site (its id is the same everywhere)."""

    kind = 'domains'


class ListDomain(base.List):
    """List the federation's domains."""

    kind = 'domains'


class ShowDomain(base.Show):
    """Show a federation domain."""

    kind = 'domains'


class SetDomain(base.Set):
    """Change a federation domain: name, description, enabled."""

    kind = 'domains'


class DeleteDomain(base.Delete):
    """Delete federation domains (each must hold no project, user or
    group any more)."""

    kind = 'domains'


class CreateProject(base.Create):
    """Create a project at every site."""

    kind = 'projects'


class ListProject(base.List):
    """List the federation's projects."""

    kind = 'projects'


class ShowProject(base.Show):
    """Show a federation project, with its id at each site."""

    kind = 'projects'


class SetProject(base.Set):
    """Change a federation project: name, description, enabled."""

    kind = 'projects'


class DeleteProject(base.Delete):
    """Delete federation projects, and the role assignments on them."""

    kind = 'projects'


class CreateUser(base.Create):
    """Create a user at every site, with one password everywhere."""

    kind = 'users'


class ListUser(base.List):
    """List the federation's users (never their passwords)."""

    kind = 'users'


class ShowUser(base.Show):
    """Show a federation user, with its groups and its id at each site."""

    kind = 'users'


class SetUser(base.Set):
    """Change a federation user: name, description, email, enabled,
    password."""

    kind = 'users'


class DeleteUser(base.Delete):
    """Delete federation users, their memberships and role
    assignments."""

    kind = 'users'


class CreateGroup(base.Create):
    """Create a group at every site."""

    kind = 'groups'


class ListGroup(base.List):
    """List the federation's groups."""

    kind = 'groups'


class ShowGroup(base.Show):
    """Show a federation group, with its users and its id at each site."""

    kind = 'groups'


class SetGroup(base.Set):
    """Change a federation group: name, description."""

    kind = 'groups'


class DeleteGroup(base.Delete):
    """Delete federation groups, their memberships and role
    assignments."""

    kind = 'groups'


class IdentityStatus(command.ShowOne):
    """Show the revision of the federation identity and, per site, how
    many of its projects, users and groups the site reports holding."""

    def take_action(self, parsed_args: argparse.Namespace) -> Any:
        status = common.api(self.app).identity_status()
        return common.show(status, ('revision', 'counts', 'sites'))
