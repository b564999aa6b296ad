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

"""``openstack sodos owner list|show|set|unset``: the owners of sites
and their sharing policies.

``owner set`` changes fields of an owner's policy, ``owner unset`` takes
them back to the defaults (lend everything to everyone). The API checks
the whole policy and names the field that is wrong.
"""

from __future__ import annotations

import argparse
from typing import Any

from osc_lib import exceptions
from osc_lib.command import command

from sodos.osc.v1 import common

LIST_KEYS = ('owner', 'sites', 'admit_owners', 'lend_share_pct', 'weight')
SHOW_KEYS = (
    'owner',
    'sites',
    'admit_owners',
    'admit_projects',
    'lend_share_pct',
    'lend_vcpus',
    'lend_ram_mb',
    'preemptible',
    'preempt_notice_s',
    'weight',
    'usage',
    'reclaims',
)


def flat(row: dict[str, Any]) -> dict[str, Any]:
    """An owner row with its policy's fields beside its own."""
    out = {k: v for k, v in row.items() if k != 'policy'}
    out.update(row.get('policy') or {})
    usage = row.get('usage')
    out['usage'] = usage.get('mean') if usage else None
    return out


class ListOwner(command.Lister):
    """List the owners of sites and their sharing policies."""

    def take_action(self, parsed_args: argparse.Namespace) -> Any:
        rows = [flat(r) for r in common.api(self.app).owner_list()]
        return common.listing(rows, LIST_KEYS)


def _owner_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        'owner', metavar='<owner>', help="the owner's Keystone domain id"
    )


class ShowOwner(command.ShowOne):
    """Show an owner's sites, sharing policy and recorded usage."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        _owner_argument(parser)
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> Any:
        row = common.api(self.app).owner_get(parsed_args.owner)
        return common.show(flat(row), SHOW_KEYS, ('updated_at',))


class SetOwner(command.ShowOne):
    """Change an owner's sharing policy (its admins, or the federation
    admin; the weight: the federation admin only)."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        _owner_argument(parser)
        parser.add_argument(
            '--admit-owner',
            dest='admit_owners',
            action='append',
            metavar='<owner>',
            help="an owner whose projects may use this owner's sites "
            "(repeat for several; '*' for every owner); replaces the list",
        )
        parser.add_argument(
            '--admit-project',
            dest='admit_projects',
            action='append',
            metavar='<project-id>',
            help='a project that may use them whatever its owner '
            '(repeat for several); replaces the list',
        )
        parser.add_argument(
            '--lend-share',
            dest='lend_share_pct',
            type=common.percentage,
            metavar='<percent>',
            help="part of each site's capacity lent to others, 0-100; "
            'the rest is reserved for the owner',
        )
        parser.add_argument(
            '--lend-vcpus',
            type=common.count,
            metavar='<count>',
            help='at most this many vCPUs of each site lent',
        )
        parser.add_argument(
            '--lend-ram-mb',
            type=common.count,
            metavar='<MB>',
            help='at most this much RAM of each site lent',
        )
        preempt = parser.add_mutually_exclusive_group()
        preempt.add_argument(
            '--preemptible',
            dest='preemptible',
            action='store_true',
            default=None,
            help="the owner's projects may reclaim the room guests hold: "
            'they are moved elsewhere, or stopped after the notice',
        )
        preempt.add_argument(
            '--no-preemptible',
            dest='preemptible',
            action='store_false',
            help='guests are never preempted',
        )
        parser.add_argument(
            '--preempt-notice',
            dest='preempt_notice_s',
            type=common.count,
            metavar='<seconds>',
            help='notice given before a preemption',
        )
        parser.add_argument(
            '--weight',
            type=float,
            metavar='<number>',
            help="the owner's weight in the fair share (federation admin)",
        )
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> Any:
        changes = {
            key: getattr(parsed_args, key)
            for key in SET_FIELDS
            if getattr(parsed_args, key) is not None
        }
        if not changes:
            raise exceptions.CommandError(
                'nothing to set: give one or more of %s'
                % ', '.join(sorted(OPTIONS.values()))
            )
        row = common.api(self.app).owner_update(parsed_args.owner, changes)
        return common.show(flat(row), SHOW_KEYS, ('updated_at',))


# Policy field -> its option of ``owner set``.
OPTIONS = {
    'admit_owners': '--admit-owner',
    'admit_projects': '--admit-project',
    'lend_share_pct': '--lend-share',
    'lend_vcpus': '--lend-vcpus',
    'lend_ram_mb': '--lend-ram-mb',
    'preemptible': '--preemptible',
    'preempt_notice_s': '--preempt-notice',
    'weight': '--weight',
}
SET_FIELDS = tuple(OPTIONS)


class UnsetOwner(command.ShowOne):
    """Take fields of an owner's sharing policy back to the defaults."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        _owner_argument(parser)
        for key in SET_FIELDS:
            parser.add_argument(
                '--' + key.replace('_', '-'),
                dest=key,
                action='store_true',
                help='take %s back to its default' % key,
            )
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> Any:
        unset = {k: None for k in SET_FIELDS if getattr(parsed_args, k)}
        if not unset:
            raise exceptions.CommandError(
                'nothing to unset: give one or more of %s'
                % ', '.join('--' + k.replace('_', '-') for k in SET_FIELDS)
            )
        row = common.api(self.app).owner_update(parsed_args.owner, unset)
        return common.show(flat(row), SHOW_KEYS, ('updated_at',))
