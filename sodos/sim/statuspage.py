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

"""The status page of a local federation's sites.

A site that serves it gets the ``api`` role, a port of its own,
``noauth`` (a local federation has no Keystone) and, unless its config
already says where it is, a location from :data:`LOCATIONS`, so that
the page's map shows the sites apart.
"""

from __future__ import annotations

from typing import Any

from sodos.sim import federation
from sodos.sim import ports

# Cities that a map tells apart at a glance, in order of use.
LOCATIONS = (
    '48.85,2.35',
    '40.71,-74.01',
    '35.68,139.69',
    '-33.87,151.21',
    '-23.55,-46.63',
    '1.35,103.82',
    '52.52,13.40',
    '37.77,-122.42',
    '-1.29,36.82',
    '55.75,37.62',
    '19.43,-99.13',
    '28.61,77.21',
)


def options(
    site: federation.LocalSite,
    extra: dict[str, dict[str, Any]] | None = None,
    location: str | None = None,
) -> tuple[dict[str, dict[str, Any]], str]:
    """``extra`` (the site's own config sections) with the API served
    and a location; and the status page's URL."""
    fed = site.federation
    out = {group: dict(opts) for group, opts in (extra or {}).items()}
    if 'api' not in fed.roles:
        out.setdefault('DEFAULT', {})['roles'] = list(fed.roles) + ['api']
    port = ports.free_port()
    out['api'] = {'bind_port': port, 'auth_strategy': 'noauth'}
    profile = out.setdefault(
        'site_profile', dict(fed.settings.get('site_profile') or {})
    )
    if location is None:
        index = list(fed.sites).index(site.name)
        location = LOCATIONS[index % len(LOCATIONS)]
    profile.setdefault('location', location)
    return out, 'http://127.0.0.1:%d/dashboard' % port


def serve(site: federation.LocalSite, location: str | None = None) -> str:
    """Configure ``site`` (not started yet) to serve the API and the
    status page; returns the page's URL."""
    extra, url = options(site, location=location)
    site.write_config(**extra)
    return url


def formed(view: dict[str, Any], count: int, voter_count: int) -> bool:
    """The API's federation view (``GET /v1/federation``) shows ``count``
    sites up and ``voter_count`` voters.

    A run that makes a fault waits for this first: a fault that meets a
    promotion under way (two voters, one of them faulted) leaves no
    quorum to notice it.
    """
    sites = view.get('sites') or {}
    return (
        sites.get('up') == count
        and len(view.get('voters') or ()) == voter_count
    )
