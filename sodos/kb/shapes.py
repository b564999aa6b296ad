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

"""The shapes of the KB's entries that several packages read.

The KB holds plain data (what JSON can say) and a reader may meet an
entry from an older release, or one not written yet: every field is
optional here, and the accessors answer an empty value where the KB has
nothing, as each reader used to spell out with ``.get(...) or {}``. The
appliers (sodos.kb.sections) and the writers (Exec's monitor) remain the
authority on what is written; these only name it for the readers.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any
from typing import TypedDict


class Api(TypedDict, total=False):
    """Exec's probe of its site's cloud API."""

    ok: bool
    latency_ms: float
    # Why the probe failed (when not ok).
    error: str


class Resource(TypedDict, total=False):
    total: float
    used: float


class Server(TypedDict, total=False):
    """The server a site runs for one member (keyed by member key)."""

    id: str
    status: str
    fault: str
    # Its fixed IP addresses (a member on networks).
    addresses: list[str]
    # More servers for the same member: reconcile removes them.
    others: list[dict[str, Any]]


class Summary(TypedDict, total=False):
    """What Exec reports of its site (sodos.exec.monitor.collect); only
    ``api`` and ``collected_at`` when the site's API did not answer."""

    api: Api
    # Resource name ('vcpu', 'ram_mb'...) -> totals.
    capacity: dict[str, Resource]
    servers: dict[str, Server]
    images: list[str]
    # Image id -> its record at the site, whatever its status.
    image_details: dict[str, dict[str, Any]]
    flavors: dict[str, dict[str, Any]]
    collected_at: float


class Report(TypedDict, total=False):
    """An entry of the ``monitoring`` section (one per site)."""

    summary: Summary
    reported_at: float


class PlacementInfo(TypedDict, total=False):
    """What the planner noted with a placement, for Exec to create it."""

    image: str
    flavor: str
    # The image (its id, or the name asked when unknown) is on its way
    # to the site: the create waits until it is there.
    awaiting_image: str
    # Sites where creating the member failed, not to be tried again
    # before [analyseplan]failed_site_retry_after seconds; and site ->
    # when it failed there (optional: see analyseplan.keeping).
    failed_sites: list[str]
    failed_at: dict[str, float]
    # A guest moved for its host's own projects: the move's reason
    # ('reclaim: ...', sodos.analyseplan.reclaim), for reports.
    reason: str


# -- monitoring ---------------------------------------------------------


def summary_of(report: Mapping[str, Any] | None) -> Summary:
    """The summary in a ``monitoring`` entry (``{}`` if none)."""
    found = (report or {}).get('summary') or {}
    return typing.cast(Summary, found)


def summary(monitoring: Mapping[str, Any], site: str) -> Summary:
    """``site``'s last summary (``{}`` before its first report)."""
    return summary_of(monitoring.get(site))


def servers(found: Summary) -> dict[str, Server]:
    """The servers a summary lists, by member key."""
    return found.get('servers') or {}


def api(found: Summary) -> Api:
    """What the summary says of the site's API (``{}``: nothing yet)."""
    return found.get('api') or {}


# -- sites --------------------------------------------------------------


def is_up(sites: Mapping[str, Any], name: str) -> bool:
    """Whether the federation holds site ``name`` up."""
    return bool((sites.get(name) or {}).get('status') == 'up')


def profile(site: Mapping[str, Any]) -> dict[str, Any]:
    """A ``sites`` entry's profile (region, location, costs...)."""
    found: dict[str, Any] = (site.get('info') or {}).get('profile') or {}
    return found


# -- placements ---------------------------------------------------------


def placement_info(placed: Mapping[str, Any]) -> PlacementInfo:
    """What the planner noted with a ``placements`` entry."""
    return typing.cast(PlacementInfo, placed.get('info') or {})
