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

"""``openstack sodos site ...``: list, show, drain, undrain, set.

``site set`` changes the operator's overrides of a site's profile
(labels, region, location, cost and energy figures); they are checked
here first so that a typo is refused before anything is sent.
"""

from __future__ import annotations

import argparse
from typing import Any

from osc_lib import exceptions
from osc_lib.command import command

from sodos.osc.v1 import common

LIST_KEYS = (
    'name',
    'status',
    'role',
    'maintenance',
    'region',
    'members',
    'api_healthy',
)
LONG_KEYS = LIST_KEYS + (
    'labels',
    'location',
    'cost_per_vcpu_hour',
    'carbon_intensity',
    'pue',
    'idle_power_kw',
    'owner',
    'capacity',
    'kb_schema',
)
NUMBERS = ('cost_per_vcpu_hour', 'carbon_intensity', 'pue', 'idle_power_kw')


class ListSite(command.Lister):
    """List the sites of the federation."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument(
            '--long',
            action='store_true',
            help='also show labels, location, cost, energy and capacity',
        )
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> Any:
        sites = common.api(self.app).site_list()
        keys = LONG_KEYS if parsed_args.long else LIST_KEYS
        return common.listing(sites, keys)


def _site_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('site', metavar='<site>', help='name of the site')


class ShowSite(command.ShowOne):
    """Show one site: status, profile, capacity."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        _site_argument(parser)
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> Any:
        site = common.api(self.app).site_get(parsed_args.site)
        return common.show(site, LONG_KEYS, ('updated_at',))


def _drained(site: dict[str, Any]) -> tuple[bool, str]:
    state = site.get('maintenance') or 'not in maintenance'
    members = site.get('members')
    text = 'site %s: %s' % (site.get('name'), state)
    if members is not None:
        text += ', %s member(s) left' % members
    return site.get('maintenance') == 'drained', text


class DrainSite(command.ShowOne):
    """Move every appliance member off a site, and place none there."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        _site_argument(parser)
        parser.add_argument(
            '--reason', metavar='<text>', help='why, kept with the site'
        )
        common.wait_arguments(parser, 'the site is drained')
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> Any:
        api = common.api(self.app)
        site = api.site_drain(parsed_args.site, parsed_args.reason)
        if parsed_args.wait:
            site = common.wait_for(
                lambda: api.site_get(parsed_args.site),
                _drained,
                parsed_args.timeout,
                'site %s to be drained' % parsed_args.site,
                self.app.stderr,
            )
        return common.show(site, LONG_KEYS, ('updated_at',))


def _placeable(site: dict[str, Any]) -> tuple[bool, str]:
    state = site.get('maintenance') or 'not in maintenance'
    status = site.get('status', 'unknown')
    text = 'site %s: %s, %s' % (site.get('name'), status, state)
    return status == 'up' and not site.get('maintenance'), text


class UndrainSite(command.ShowOne):
    """Let the planner place appliance members on a site again."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        _site_argument(parser)
        common.wait_arguments(parser, 'the site is up and out of maintenance')
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> Any:
        api = common.api(self.app)
        site = api.site_undrain(parsed_args.site)
        if parsed_args.wait:
            site = common.wait_for(
                lambda: api.site_get(parsed_args.site),
                _placeable,
                parsed_args.timeout,
                'site %s to be up and out of maintenance' % parsed_args.site,
                self.app.stderr,
            )
        return common.show(site, LONG_KEYS, ('updated_at',))


def _label(text: str) -> tuple[str, str]:
    key, sep, value = text.partition('=')
    if not sep or not key.strip():
        raise exceptions.CommandError(
            '--label %r is not KEY=VALUE (for example --label tier=gold)'
            % text
        )
    return key.strip(), value.strip()


def _location(text: str) -> dict[str, float]:
    try:
        lat, lon = (float(part) for part in text.split(','))
    except ValueError:
        raise exceptions.CommandError(
            '--location %r is not LAT,LON in degrees (for example '
            '--location 48.85,2.35)' % text
        ) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise exceptions.CommandError(
            '--location %r is out of range: latitude -90..90, longitude '
            '-180..180' % text
        )
    return {'lat': lat, 'lon': lon}


def changes_from(parsed_args: argparse.Namespace) -> dict[str, Any]:
    """The PATCH body for ``site set``; raises naming a bad option."""
    changes: dict[str, Any] = {}
    if parsed_args.labels:
        changes['labels'] = dict(_label(t) for t in parsed_args.labels)
    if parsed_args.region is not None:
        changes['region'] = parsed_args.region
    if parsed_args.owner is not None:
        changes['owner'] = parsed_args.owner
    if parsed_args.location is not None:
        changes['location'] = _location(parsed_args.location)
    for key in NUMBERS:
        if getattr(parsed_args, key) is not None:
            changes[key] = getattr(parsed_args, key)
    if not changes:
        raise exceptions.CommandError(
            'nothing to set: give --label, --region, --owner, --location, '
            '--cost-per-vcpu-hour, --carbon-intensity, --pue or '
            '--idle-power-kw'
        )
    return changes


class SetSite(command.Command):
    """Override a site's profile: labels, region, location, figures."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        _site_argument(parser)
        parser.add_argument(
            '--label',
            dest='labels',
            action='append',
            metavar='<key=value>',
            help='a label of the site (repeat for several)',
        )
        parser.add_argument('--region', metavar='<region>')
        parser.add_argument(
            '--owner',
            metavar='<domain-id>',
            help="the site's owner, a Keystone domain id (its owner's "
            'admins or the federation admin only)',
        )
        parser.add_argument(
            '--location', metavar='<lat,lon>', help='in degrees'
        )
        for key, unit in (
            ('cost_per_vcpu_hour', 'cost of one vCPU for an hour'),
            ('carbon_intensity', 'grid carbon intensity, gCO2/kWh'),
            ('pue', 'power usage effectiveness of the data centre'),
            ('idle_power_kw', 'power drawn by the idle site, kW'),
        ):
            parser.add_argument(
                '--' + key.replace('_', '-'),
                dest=key,
                type=common.non_negative,
                metavar='<number>',
                help=unit,
            )
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> None:
        changes = changes_from(parsed_args)
        common.api(self.app).site_update(parsed_args.site, changes)


# ``site unset`` options: what each takes back, as the API names it.
UNSETTABLE = (
    ('labels', 'every label the operator set'),
    ('region', 'the region'),
    ('owner', 'the owner'),
    ('location', 'the location'),
    ('cost_per_vcpu_hour', 'the cost of one vCPU for an hour'),
    ('carbon_intensity', 'the grid carbon intensity'),
    ('pue', 'the power usage effectiveness'),
    ('idle_power_kw', 'the idle power'),
)


class UnsetSite(command.Command):
    """Take back overrides of a site's profile: the values the site
    publishes itself (its [site_profile] options) show again."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        _site_argument(parser)
        for key, what in UNSETTABLE:
            parser.add_argument(
                '--' + key.replace('_', '-'),
                dest=key,
                action='store_true',
                help='take back the override of %s' % what,
            )
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> None:
        unset = {k: None for k, _ in UNSETTABLE if getattr(parsed_args, k)}
        if not unset:
            raise exceptions.CommandError(
                'nothing to unset: give one or more of %s'
                % ', '.join('--' + k.replace('_', '-') for k, _ in UNSETTABLE)
            )
        common.api(self.app).site_update(parsed_args.site, unset)
