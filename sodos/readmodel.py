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

"""The read model: what operators are shown of the Knowledge Base.

The REST API shows sites, appliances and alerts through these rows,
built here once, from KB sections as
:meth:`KnowMonClient.read` returns them. Pure functions: no I/O, and
nothing here changes the data it is given.

It sits above the Knowledge Base and the domain (:mod:`sodos.domain`)
and below the REST API; the KB itself never needs it.
"""

from __future__ import annotations

from typing import Any

from sodos.domain import appliance as appliance_mod
from sodos.domain import imageview
from sodos.kb import failure_domains
from sodos.kb import shapes
from sodos.kb import versions

Section = dict[str, Any]
# The state shown for a member the planner has not placed (yet).
UNPLACED = 'unplaced'
# A placed member whose site has not reported its server yet.
BUILDING = 'building'


def member_states(
    appliance_id: str,
    spec: dict[str, Any] | None,
    placements: Section,
    monitoring: Section,
) -> list[dict[str, Any]]:
    """Every member of an appliance with its site, state, server id and
    fixed addresses.

    Members of ``spec`` without a placement are shown ``unplaced``; a
    placed member its site has not reported yet, ``building``; otherwise
    the state is the server's Nova status (ACTIVE, BUILD, ERROR...).
    """
    rows: dict[str, dict[str, Any]] = {}
    for instance in appliance_mod.instances(
        appliance_id, spec or {'members': []}
    ):
        rows[instance.name] = {
            'member': instance.name,
            'site': '',
            'state': UNPLACED,
            'server_id': '',
            'addresses': [],
        }
    for key, placed in sorted(placements.items()):
        if placed.get('appliance_id') != appliance_id:
            continue
        site = placed.get('site', '')
        entry = shapes.servers(shapes.summary(monitoring, site)).get(key) or {}
        rows[placed['member']] = {
            'member': placed['member'],
            'site': site,
            'state': entry.get('status', BUILDING),
            'server_id': entry.get('id', ''),
            'addresses': list(entry.get('addresses') or []),
        }
    return [rows[name] for name in sorted(rows)]


def _appliance_head(appliance_id: str, spec: dict[str, Any]) -> dict[str, Any]:
    """What names an appliance, in its list line and its detail."""
    return {
        'id': appliance_id,
        'name': spec.get('name', ''),
        'priority': spec.get('priority', 50),
    }


def appliance_row(
    appliance_id: str,
    record: dict[str, Any],
    placements: Section,
    monitoring: Section,
) -> dict[str, Any]:
    """One line of an appliance list: its name and how far it runs."""
    spec = record.get('spec') or {}
    members = member_states(appliance_id, spec, placements, monitoring)
    return {
        **_appliance_head(appliance_id, spec),
        'members_total': len(members),
        'members_placed': sum(1 for m in members if m['site']),
        'members_active': sum(1 for m in members if m['state'] == 'ACTIVE'),
    }


def appliance_rows(
    appliances: Section, placements: Section, monitoring: Section
) -> list[dict[str, Any]]:
    return [
        appliance_row(aid, record, placements, monitoring)
        for aid, record in sorted(appliances.items())
    ]


def appliance_detail(
    appliance_id: str,
    record: dict[str, Any],
    placements: Section,
    monitoring: Section,
) -> dict[str, Any]:
    """An appliance with its spec and the state of every member."""
    spec = record.get('spec') or {}
    return {
        **_appliance_head(appliance_id, spec),
        'spec': spec,
        'members': member_states(appliance_id, spec, placements, monitoring),
        'created_at': record.get('created_at'),
        'updated_at': record.get('updated_at'),
    }


def location(value: Any) -> dict[str, float] | None:
    """``{'lat', 'lon'}`` of a profile's ``LATITUDE,LONGITUDE``."""
    if not isinstance(value, str):
        return None
    try:
        lat, lon = (float(part) for part in value.split(','))
    except ValueError:
        return None
    return {'lat': lat, 'lon': lon}


def _capacity(summary: shapes.Summary) -> dict[str, Any]:
    capacity = summary.get('capacity') or {}
    if not capacity:
        return {}
    vcpu = capacity.get('vcpu') or {}
    ram = capacity.get('ram_mb') or {}
    return {
        'vcpus': vcpu.get('total', 0),
        'ram_mb': ram.get('total', 0),
        'used_vcpus': vcpu.get('used', 0),
        'used_ram_mb': ram.get('used', 0),
    }


def site_row(
    name: str, site: dict[str, Any], monitoring: Section, placements: Section
) -> dict[str, Any]:
    """A site as operators see it: status, profile, capacity, load."""
    profile = shapes.profile(site)
    summary = shapes.summary(monitoring, name)
    status = site.get('status', 'unknown')
    # The last summary of a site that is not up says how its API was
    # before it went silent, not how it is: unknown (None) until it
    # reports again.
    api = summary.get('api') if status == 'up' else None
    return {
        'name': name,
        'status': status,
        'role': site.get('role', ''),
        'maintenance': site.get('maintenance', ''),
        'region': profile.get('region', name),
        'location': location(profile.get('location')),
        'labels': dict(profile.get('labels') or {}),
        'cost_per_vcpu_hour': profile.get('cost_per_vcpu_hour'),
        'carbon_intensity': profile.get('carbon_intensity'),
        'pue': profile.get('pue'),
        'idle_power_kw': profile.get('idle_power_kw'),
        'owner': profile.get('owner'),
        'capacity': _capacity(summary),
        'members': sum(
            1 for p in placements.values() if p.get('site') == name
        ),
        'api_healthy': bool(api.get('ok')) if isinstance(api, dict) else None,
        'kb_schema': versions.published(site),
        'updated_at': site.get('updated_at'),
    }


def site_rows(
    sites: Section, monitoring: Section, placements: Section
) -> list[dict[str, Any]]:
    return [
        site_row(name, site, monitoring, placements)
        for name, site in sorted(sites.items())
    ]


def alert_row(alert_id: str, alert: dict[str, Any]) -> dict[str, Any]:
    """An open alert; ``acknowledged`` once an operator has seen it."""
    acknowledged = alert.get('acknowledged_at') is not None
    return {
        'id': alert_id,
        'kind': alert.get('kind', ''),
        'site': alert.get('site', ''),
        'severity': alert.get('severity', ''),
        'message': alert.get('message', ''),
        'state': 'acknowledged' if acknowledged else 'open',
        'raised_at': alert.get('raised_at'),
        'acknowledged_at': alert.get('acknowledged_at'),
        'acknowledged_by': alert.get('acknowledged_by'),
        'comment': alert.get('comment'),
    }


def federation(
    status: dict[str, Any], policy: Section, sites: Section
) -> dict[str, Any]:
    """The federation: its leader and voters (by site name where known,
    from a KnowMon's ``status()``), its policy switches, site counts and
    the failure domains (regions) its voters sit in."""
    voters = sorted(
        {v.get('site') or v['address'] for v in status.get('voters') or []}
    )
    return {
        'leader': status.get('leader_site') or status.get('leader'),
        'term': status.get('term', 0),
        'voters': voters,
        'voter_count': policy.get('voter_count'),
        'paused': bool(policy.get('paused')),
        'consolidate': bool(policy.get('consolidate')),
        'sites': site_counts(sites),
        'failure_domains': failure_domains.summary(voters, sites),
    }


def site_counts(sites: Section) -> dict[str, int]:
    """How many sites are up and down, of those that have not left."""
    present = [s for s in sites.values() if s.get('status') != 'left']
    return {
        'up': sum(1 for s in present if s.get('status') == 'up'),
        'down': sum(1 for s in present if s.get('status') == 'down'),
        'total': len(present),
    }


# Where an image is, per site, as operators are shown it.
IMAGE_STATES = ('present', 'copying', 'failed', 'absent', 'deleting')


def _image_site(
    kb: dict[str, Any],
    entry: dict[str, Any],
    site: str,
    mine: list[dict[str, Any]],
    holders: set[str],
) -> tuple[str, str, dict[str, Any] | None]:
    """(state, detail, running action) of ``entry`` at ``site``;
    ``mine``: the image's actions at the site, oldest first."""
    running = [a for a in mine if a['state'] in imageview.RUNNING]
    action = None
    if running:
        last = running[-1]
        action = {
            'id': last['action_id'],
            'kind': last['kind'],
            'state': last['state'],
            'source_site': (last.get('params') or {}).get('source_site'),
        }
    failed = (entry.get('failed_sites') or {}).get(site)
    if entry['state'] == 'deleting':
        listed = site in holders or entry['id'] in (
            imageview.site_summary(kb, site).get('image_details') or {}
        )
        if action is not None:
            return (
                'deleting',
                '%s %s' % (action['kind'], action['state']),
                action,
            )
        if listed:
            return 'present', 'to be deleted', None
        return 'absent', '', None
    if site in holders:
        return 'present', '', None
    if action is not None and action['kind'] == imageview.COPY:
        return (
            'copying',
            'copy %s from %s'
            % (
                action['state'],
                action['source_site'],
            ),
            action,
        )
    if failed is not None:
        return 'failed', str(failed.get('reason', '')), None
    return _image_absent(kb, entry, site, mine)


def _image_absent(
    kb: dict[str, Any],
    entry: dict[str, Any],
    site: str,
    mine: list[dict[str, Any]],
) -> tuple[str, str, dict[str, Any] | None]:
    details = (
        imageview.site_summary(kb, site).get('image_details') or {}
    ).get(entry['id'])
    if details and details.get('status') == 'active':
        return 'failed', 'the site holds other data under this ID', None
    copies = [a for a in mine if a['kind'] == imageview.COPY]
    if copies and copies[-1]['state'] == 'failed':
        error = (copies[-1].get('result') or {}).get('error', '')
        return 'failed', 'last copy failed (retried): %s' % error, None
    if details:
        return 'absent', '%s at the site' % details.get('status'), None
    return 'absent', '', None


def image_sites(
    kb: dict[str, Any], entry: dict[str, Any]
) -> list[dict[str, Any]]:
    """Every site with the image's state there and whether it should be
    there. ``kb``: the sections images, sites, monitoring, actions and
    placements. For target ``needed``, the sites a pre-staging copy
    goes to count as desired while it runs."""
    actions = imageview.copies(kb).get(entry['id'], [])
    holders = imageview.holders(kb, entry, actions)
    copying = {
        a['site']
        for a in actions
        if a['kind'] == imageview.COPY and a['state'] in imageview.RUNNING
    }
    desired = set()
    if entry['state'] == 'active':
        desired = imageview.desired(kb, entry, copying)
    rows = []
    for site in sorted(set(imageview.live_sites(kb)) | holders):
        mine = [a for a in actions if a['site'] == site]
        state, detail, action = _image_site(kb, entry, site, mine, holders)
        rows.append(
            {
                'site': site,
                'state': state,
                'desired': site in desired,
                'detail': detail,
                'action': action,
            }
        )
    return rows


def image_row(
    kb: dict[str, Any], entry: dict[str, Any], sites: list | None = None
) -> dict[str, Any]:
    """A registry entry and how many sites have it in each state
    (``desired``: how many should have it)."""
    sites = image_sites(kb, entry) if sites is None else sites
    counts = {state: 0 for state in IMAGE_STATES}
    for row in sites:
        counts[row['state']] += 1
    counts['desired'] = sum(1 for row in sites if row['desired'])
    counts['desired_present'] = sum(
        1 for row in sites if row['desired'] and row['state'] == 'present'
    )
    return {
        'id': entry['id'],
        'name': entry.get('name', ''),
        'state': entry['state'],
        'target': entry.get('target') or {'kind': 'needed'},
        'size': entry.get('size'),
        'disk_format': entry.get('disk_format'),
        'container_format': entry.get('container_format'),
        'os_hash_algo': entry.get('os_hash_algo'),
        'os_hash_value': entry.get('os_hash_value'),
        'origin_site': entry.get('origin_site'),
        'site_states': counts,
        'created_at': entry.get('created_at'),
        'updated_at': entry.get('updated_at'),
    }


def image_rows(kb: dict[str, Any]) -> list[dict[str, Any]]:
    registry = kb.get('images') or {}
    return [image_row(kb, registry[i]) for i in sorted(registry)]


def image_detail(kb: dict[str, Any], entry: dict[str, Any]) -> dict:
    """An entry with its metadata and its state at every site."""
    sites = image_sites(kb, entry)
    detail = image_row(kb, entry, sites)
    detail.update(
        checksum=entry.get('checksum'),
        metadata=entry.get('metadata') or {},
        failed_sites=entry.get('failed_sites') or {},
        sites=sites,
    )
    return detail
