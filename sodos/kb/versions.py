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

"""Which KB schema the federation's sites run, and what it lets us propose.

Every member applies every command. A member of older code refuses a
command its schema does not know, while the others apply it: the
replicated states would part. So during a rolling upgrade a command newer
than the oldest site's schema is not proposed at all, as Nova does with
its services' minimum version. A site publishes the schema its code knows
(``kb_schema`` in what it says of itself at each ``site.register``); a
site that says nothing runs code from before the schema was published,
that is version 1. Only sites that have left are not waited for: a site
that is down comes back with the code it had.
"""

from __future__ import annotations

from typing import Any

# Sites registered by code older than the published version.
UNPUBLISHED = 1


def published(site: dict[str, Any]) -> int:
    """The KB schema version ``site`` says its code knows."""
    info = site.get('published') or {}
    version = info.get('kb_schema', UNPUBLISHED)
    return version if isinstance(version, int) else UNPUBLISHED


def oldest(sites: dict[str, dict[str, Any]]) -> tuple[int | None, list[str]]:
    """The lowest version the federation's sites run, and those sites
    (``None`` and no site when every site has left)."""
    running = {
        name: published(site)
        for name, site in sites.items()
        if site.get('status') != 'left'
    }
    if not running:
        return None, []
    low = min(running.values())
    return low, sorted(name for name, v in running.items() if v == low)


def refusal(
    type_: str, needed: int, sites: dict[str, dict[str, Any]]
) -> str | None:
    """Why ``type_`` (of schema ``needed``) may not be proposed yet, or
    None when every site knows it."""
    low, behind = oldest(sites)
    if low is None or low >= needed:
        return None
    shown = ', '.join(behind[:5]) + (' ...' if len(behind) > 5 else '')
    return (
        '%s needs every site to run KB schema %d or newer; %d site(s) run '
        '%d (%s): upgrade sodos there first'
        % (type_, needed, len(behind), low, shown)
    )
