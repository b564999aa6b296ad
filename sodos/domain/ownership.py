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

"""Which project owns an appliance, and what that project is called at
each site.

An appliance's ``spec.project_id`` is the owner's *global* id, the one
the KB's identity section names it by (:mod:`sodos.identity.model`).
With one Keystone per site a project has its own id at every site (the
ID map says which); with the shared identity it is the same everywhere,
and a project the federation does not manage keeps the id it has. An
appliance from before ownership has no ``project_id``: it belongs to
the service project (``[site_auth]``'s), which only admins see.

Pure functions of the KB's ``identity`` section, so that the API (which
gets a site's own id in the caller's token) and Exec (which acts at
another site) agree.
"""

from __future__ import annotations

from typing import Any


def owner(spec: dict[str, Any]) -> str | None:
    """The owner's global project id; None: the service project."""
    found = spec.get('project_id')
    return str(found) if found else None


def global_id(ident: dict[str, Any], site: str, local: str) -> str:
    """The global id of the project ``site`` calls ``local``."""
    projects = ((ident.get('idmap') or {}).get(site) or {}).get('projects')
    for gid, lid in (projects or {}).items():
        if lid == local:
            return str(gid)
    return local


def local_id(ident: dict[str, Any], site: str, gid: str) -> str:
    """What ``site`` calls the project of global id ``gid``."""
    projects = ((ident.get('idmap') or {}).get(site) or {}).get('projects')
    return str((projects or {}).get(gid, gid))


def known(ident: dict[str, Any], site: str, project: str) -> str | None:
    """The global id of ``project`` (a global id, or ``site``'s own id of
    a project the federation manages); None if the KB does not know it."""
    if project in (ident.get('projects') or {}):
        return project
    found = global_id(ident, site, project)
    return found if found != project else None
