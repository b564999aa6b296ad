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

"""The federated catalog: every site's Keystone endpoints.

``site.catalog`` (:mod:`sodos.kb.sections.catalog`) replaces a
site's published endpoints, each a service type and name, an interface,
a region and a URL. Only the site itself writes its catalog: its Exec
reads it from the site's Keystone and commits it when it changed
(:mod:`sodos.exec.catalog.sync`). The section keeps the catalog of a
site that left; the readers skip it.

This module lists what the section holds.
"""

from __future__ import annotations

from typing import Any


def rows(
    catalog: dict[str, Any],
    sites: dict[str, Any],
    region: str | None = None,
    service_type: str | None = None,
    site: str | None = None,
) -> list[dict[str, Any]]:
    """One row per endpoint of the sites still in the federation, sorted
    by site, region, service and interface; filtered by the arguments
    given."""
    out = []
    for name in sorted(catalog):
        known = sites.get(name)
        if known is None or known.get('status') == 'left':
            continue
        if site is not None and name != site:
            continue
        entry = catalog[name]
        for endpoint in entry.get('endpoints') or []:
            if region is not None and endpoint['region'] != region:
                continue
            if (
                service_type is not None
                and endpoint['service_type'] != service_type
            ):
                continue
            out.append(
                dict(endpoint, site=name, updated_at=entry.get('updated_at'))
            )
    out.sort(
        key=lambda r: (
            r['site'],
            r['region'],
            r['service_type'],
            r['service_name'],
            r['interface'],
            r['url'],
        )
    )
    return out
