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

"""A site's Keystone catalog: what it publishes, what it should list of
the other sites, and the changes that get it there.

Pure functions over a :class:`Snapshot` of the catalog (regions,
services, endpoints) and the KB's ``catalog`` section; the I/O is in the
stores (:class:`CatalogStore`: :mod:`sodos.exec.drivers.openstack.catalog`,
:mod:`sodos.exec.drivers.simulator.catalog`) and the loop in
:mod:`sodos.exec.catalog.sync`.

Ownership: Keystone endpoints carry no description, but regions do.
sodos marks each region it creates with :func:`mark` ("sodos: site X")
and manages only those regions and the endpoints in them. A region
without the mark is the site's own and is never touched, nor is any
endpoint in it; a region with the mark is never published as the
site's own (that would echo another site's endpoints back to it).
"""

from __future__ import annotations

import abc
import dataclasses
import json
from typing import Any

# Marks a region sodos created for another site; followed by its name.
MARK = 'sodos: site '
# The interfaces published in the other sites' Keystone. Internal and
# admin URLs are usually on networks only the site itself reaches.
REMOTE_INTERFACES = ('public',)
INTERFACES = ('public', 'internal', 'admin')
# What one published endpoint says, in this order.
ENTRY_KEYS = ('service_type', 'service_name', 'interface', 'region', 'url')
# The bounds of the KB's site.catalog command (sodos.kb.schemas).
MAX_ENDPOINTS = 500
MAX_URL = 1024
MAX_TEXT = 255


@dataclasses.dataclass(frozen=True)
class Region:
    id: str
    description: str = ''


@dataclasses.dataclass(frozen=True)
class Service:
    id: str
    type: str
    name: str
    enabled: bool = True


@dataclasses.dataclass(frozen=True)
class Endpoint:
    id: str
    service_id: str
    interface: str
    region: str
    url: str
    enabled: bool = True


@dataclasses.dataclass
class Snapshot:
    """One read of a Keystone's catalog."""

    regions: list[Region]
    services: list[Service]
    endpoints: list[Endpoint]


class CatalogStore(abc.ABC):
    """A site's Keystone catalog. Errors are ``sodos.exec.drivers.base``'s
    TransientError and PermanentError, with the service's own text."""

    # True if Exec's clients find the site's services in this catalog,
    # so that other regions may be listed only once they pick by region.
    region_required = False

    @abc.abstractmethod
    def regions(self) -> list[Region]:
        """Every region (a cheap call: any user may make it)."""

    @abc.abstractmethod
    def snapshot(self) -> Snapshot:
        """Every region, service and endpoint."""

    @abc.abstractmethod
    def create_region(self, region_id: str, description: str) -> None: ...

    @abc.abstractmethod
    def update_region(self, region_id: str, description: str) -> None: ...

    @abc.abstractmethod
    def delete_region(self, region_id: str) -> None: ...

    @abc.abstractmethod
    def create_endpoint(
        self, service_id: str, interface: str, region: str, url: str
    ) -> None: ...

    @abc.abstractmethod
    def update_endpoint(self, endpoint_id: str, url: str) -> None:
        """Set the endpoint's url, and enable it."""

    @abc.abstractmethod
    def delete_endpoint(self, endpoint_id: str) -> None: ...

    def close(self) -> None:
        """Release connections; the default store holds none."""
        return None


def mark(site: str) -> str:
    """The description of a region sodos creates for ``site``."""
    return MARK + site


def marked_site(description: str | None) -> str | None:
    """The site a region was created for, None if sodos did not make it."""
    if description and description.startswith(MARK):
        return description[len(MARK) :].strip() or None
    return None


def own_regions(snap: Snapshot) -> set[str]:
    """The regions that are the site's own (not made by sodos)."""
    marked = {r.id for r in snap.regions if marked_site(r.description)}
    found = {r.id for r in snap.regions} | {e.region for e in snap.endpoints}
    return {r for r in found if r and r not in marked}


def own_entries(snap: Snapshot) -> tuple[list[dict[str, str]], list[str]]:
    """What the site publishes: its enabled endpoints outside the sodos
    regions, sorted, without duplicates; and why some were left out."""
    services = {s.id: s for s in snap.services if s.enabled}
    marked = {r.id for r in snap.regions if marked_site(r.description)}
    entries: dict[tuple[str, ...], dict[str, str]] = {}
    skipped: list[str] = []
    for ep in snap.endpoints:
        service = services.get(ep.service_id)
        if service is None or not ep.enabled or ep.region in marked:
            continue
        entry = {
            'service_type': service.type,
            'service_name': service.name or '',
            'interface': ep.interface,
            'region': ep.region or '',
            'url': ep.url,
        }
        problem = _invalid(entry)
        if problem:
            skipped.append(
                '%s %s endpoint: %s' % (service.type, ep.interface, problem)
            )
            continue
        entries[tuple(entry[k] for k in ENTRY_KEYS)] = entry
    ordered = [entries[key] for key in sorted(entries)]
    if len(ordered) > MAX_ENDPOINTS:
        skipped.append(
            '%d endpoints beyond the first %d'
            % (len(ordered) - MAX_ENDPOINTS, MAX_ENDPOINTS)
        )
        ordered = ordered[:MAX_ENDPOINTS]
    return ordered, skipped


def _invalid(entry: dict[str, str]) -> str | None:
    if entry['interface'] not in INTERFACES:
        return 'unknown interface %r' % entry['interface']
    if not entry['service_type']:
        return 'no service type'
    for key in ('service_type', 'service_name', 'region'):
        if len(entry[key]) > MAX_TEXT:
            return '%s longer than %d characters' % (key, MAX_TEXT)
    url = entry['url']
    if not url.startswith(('http://', 'https://')) or len(url) > MAX_URL:
        return 'url %r is not an http(s) URL of at most %d characters' % (
            url[:80],
            MAX_URL,
        )
    return None


@dataclasses.dataclass
class Desired:
    """The other sites' regions and endpoints this Keystone should list."""

    # Region id -> the site it belongs to.
    regions: dict[str, str] = dataclasses.field(default_factory=dict)
    # (region, service_type, service_name, interface, url).
    endpoints: list[tuple[str, str, str, str, str]] = dataclasses.field(
        default_factory=list
    )
    notes: list[str] = dataclasses.field(default_factory=list)


def fingerprint(
    catalog: dict[str, Any], sites: dict[str, Any], site: str, on: bool
) -> str:
    """What :func:`desired` depends on in the KB, as one string: the
    remote endpoints are looked at again only when it changes."""
    relevant = {
        name: entry.get('endpoints')
        for name, entry in sorted(catalog.items())
        if name != site and _member(sites, name)
    }
    return json.dumps([on, _member(sites, site), relevant], sort_keys=True)


def _member(sites: dict[str, Any], name: str) -> bool:
    site = sites.get(name)
    return site is not None and site.get('status') != 'left'


def desired(
    catalog: dict[str, Any],
    sites: dict[str, Any],
    site: str,
    own: set[str],
) -> Desired:
    """The remote regions and endpoints site ``site`` should list.

    Every other site still in the federation, each of its regions that
    is not one of ``own`` (this Keystone's own regions). A region two
    sites publish goes to the first by name; a site that left lists
    nobody's.
    """
    wanted = Desired()
    if not _member(sites, site):
        return wanted
    for name in sorted(catalog):
        if name == site or not _member(sites, name):
            continue
        for entry in catalog[name].get('endpoints') or []:
            region = entry.get('region') or ''
            if not region or entry['interface'] not in REMOTE_INTERFACES:
                continue
            if region in own:
                _note(
                    wanted,
                    'region %s of site %s is also a region of this site: '
                    'not listed' % (region, name),
                )
                continue
            owner = wanted.regions.setdefault(region, name)
            if owner != name:
                _note(
                    wanted,
                    'region %s is published by sites %s and %s: listed '
                    'for %s only' % (region, owner, name, owner),
                )
                continue
            wanted.endpoints.append(
                (
                    region,
                    entry['service_type'],
                    entry.get('service_name') or '',
                    entry['interface'],
                    entry['url'],
                )
            )
    return wanted


def _note(wanted: Desired, text: str) -> None:
    if text not in wanted.notes:
        wanted.notes.append(text)


@dataclasses.dataclass(frozen=True)
class Op:
    """One change to a Keystone catalog."""

    action: str  # a CatalogStore method name
    args: tuple[str, ...]
    text: str

    def apply(self, store: CatalogStore) -> None:
        getattr(store, self.action)(*self.args)


def plan(wanted: Desired, snap: Snapshot) -> tuple[list[Op], list[str]]:
    """The changes that make ``snap`` list ``wanted``, in a safe order:
    regions first, stale endpoints before new ones, regions left empty
    last. Returns them and the endpoints that cannot be listed."""
    marked = {r.id: r for r in snap.regions if marked_site(r.description)}
    existing = {r.id for r in snap.regions}
    ops: list[Op] = []
    for region, owner in sorted(wanted.regions.items()):
        text = mark(owner)
        if region not in existing:
            ops.append(
                Op(
                    'create_region',
                    (region, text),
                    'create region %s' % region,
                )
            )
        elif region in marked and marked[region].description != text:
            ops.append(
                Op(
                    'update_region',
                    (region, text),
                    'mark region %s for site %s' % (region, owner),
                )
            )
    want, unlisted = _wanted_endpoints(wanted, snap.services)
    seen: set[tuple[str, str, str]] = set()
    updates: list[Op] = []
    for ep in sorted(snap.endpoints, key=lambda e: e.id):
        if ep.region not in marked:
            continue  # not sodos's: never touched
        key = (ep.service_id, ep.interface, ep.region)
        if key not in want or key in seen:
            ops.append(
                Op(
                    'delete_endpoint',
                    (ep.id,),
                    'delete endpoint %s (%s in %s)'
                    % (ep.id, ep.interface, ep.region),
                )
            )
            continue
        seen.add(key)
        if ep.url != want[key] or not ep.enabled:
            updates.append(
                Op(
                    'update_endpoint',
                    (ep.id, want[key]),
                    'update endpoint %s to %s' % (ep.id, want[key]),
                )
            )
    ops.extend(updates)
    types = {s.id: s.type for s in snap.services}
    for key in sorted(set(want) - seen):
        service_id, interface, region = key
        ops.append(
            Op(
                'create_endpoint',
                (service_id, interface, region, want[key]),
                'create %s %s endpoint %s in region %s'
                % (interface, types[service_id], want[key], region),
            )
        )
    for region in sorted(set(marked) - set(wanted.regions)):
        ops.append(Op('delete_region', (region,), 'delete region %s' % region))
    return ops, unlisted


def _wanted_endpoints(
    wanted: Desired, services: list[Service]
) -> tuple[dict[tuple[str, str, str], str], list[str]]:
    """(local service id, interface, region) -> url; the remote
    services this Keystone has no service of the same type for."""
    by_type: dict[str, list[Service]] = {}
    for service in sorted(services, key=lambda s: (not s.enabled, s.id)):
        by_type.setdefault(service.type, []).append(service)
    want: dict[tuple[str, str, str], str] = {}
    unlisted: list[str] = []
    for region, stype, sname, interface, url in wanted.endpoints:
        candidates = by_type.get(stype)
        if not candidates:
            text = 'no %s service here for region %s' % (stype, region)
            if text not in unlisted:
                unlisted.append(text)
            continue
        # The service of the same name, else the first of that type.
        service = next(
            (s for s in candidates if s.name == sname), candidates[0]
        )
        want.setdefault((service.id, interface, region), url)
    return want, unlisted
