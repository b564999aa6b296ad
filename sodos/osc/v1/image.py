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

"""``openstack sodos image ...``: distribute, list, show, status, delete.

An image is uploaded to one site's Glance as usual; ``image distribute``
registers it with the federation by its id (the first time) or changes
where it should be, and the AnalysePlan leader copies it there, site to
site. Registered images can be named by id or, when unambiguous, name.
"""

from __future__ import annotations

import argparse
import re
from typing import Any

from cliff import columns
from osc_lib import exceptions
from osc_lib.command import command

from sodos.osc import client
from sodos.osc.v1 import common

_UUID = re.compile(
    r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
)
LIST_COLUMNS = (
    ('id', 'ID'),
    ('name', 'Name'),
    ('state', 'State'),
    ('target', 'Target'),
    ('size', 'Size'),
    ('present', 'Present'),
    ('copying', 'Copying'),
    ('failed', 'Failed'),
    ('desired', 'Desired'),
)
SHOW_ORDER = (
    'id',
    'name',
    'state',
    'target',
    'site_states',
    'sites',
    'origin_site',
    'size',
    'disk_format',
    'container_format',
    'os_hash_algo',
    'os_hash_value',
    'checksum',
    'metadata',
)
STATUS_KEYS = ('site', 'state', 'desired', 'detail')


def target_text(target: dict[str, Any]) -> str:
    """``all``, ``needed``, ``sites: a,b`` or ``labels: k=v``."""
    kind = str(target.get('kind'))
    if kind == 'sites':
        return 'sites: %s' % ','.join(target.get('sites') or ())
    if kind == 'labels':
        labels = sorted((target.get('labels') or {}).items())
        return 'labels: %s' % ','.join('%s=%s' % kv for kv in labels)
    return kind


class TargetColumn(columns.FormattableColumn[Any]):
    def human_readable(self) -> str:
        return target_text(self._value or {})

    def machine_readable(self) -> Any:
        return self._value


class SitesColumn(columns.FormattableColumn[Any]):
    """Per site, one ``site: state (detail)`` line, ``*`` where the
    image should be."""

    def human_readable(self) -> str:
        return '\n'.join(
            '%s%s: %s%s'
            % (
                r.get('site'),
                '*' if r.get('desired') else '',
                r.get('state'),
                ' (%s)' % r['detail'] if r.get('detail') else '',
            )
            for r in self._value or []
        )

    def machine_readable(self) -> Any:
        return self._value


def _show(image: dict[str, Any]) -> Any:
    return common.show(
        image,
        SHOW_ORDER,
        ('created_at', 'updated_at'),
        {'target': TargetColumn, 'sites': SitesColumn},
    )


def resolve(api: client.Client, ref: str) -> dict[str, Any]:
    """The registered image whose id, or else whose name, is ``ref``."""
    if _UUID.match(ref):
        return api.image_get(ref)
    found = common.named(api.image_list(), ref, 'images')
    if found is None:
        raise exceptions.CommandError(
            'no registered image is named %s (an image is registered by '
            'its id: "openstack sodos image distribute <id> --to ...")' % ref
        )
    return api.image_get(found['id'])


def progress(image: dict[str, Any]) -> tuple[bool, str]:
    """(every site that should have the image has it, a progress line)."""
    counts = image.get('site_states') or {}
    desired = counts.get('desired', 0)
    present = counts.get('desired_present', 0)
    text = 'image %s: %d/%d sites present' % (
        image.get('name') or image.get('id'),
        present,
        desired,
    )
    for state in ('copying', 'failed'):
        if counts.get(state):
            text += ', %d %s' % (counts[state], state)
    return present >= desired, text


def _labels(text: str) -> dict[str, str]:
    """argparse type of --labels: ``k=v[,k=v...]``."""
    labels = {}
    for item in text.split(','):
        key, sep, value = item.partition('=')
        if not sep or not key.strip():
            raise argparse.ArgumentTypeError(
                'labels are key=value[,key=value...], not %r' % text
            )
        labels[key.strip()] = value.strip()
    return labels


def _sites(text: str) -> list[str]:
    """argparse type of --to: ``all`` or ``SITE[,SITE...]``."""
    names = [n.strip() for n in text.split(',')]
    if not all(names):
        raise argparse.ArgumentTypeError(
            '--to takes "all" or site names separated by commas, not %r' % text
        )
    return names


def _target(parsed_args: argparse.Namespace) -> dict[str, Any]:
    if parsed_args.labels is not None:
        return {'kind': 'labels', 'labels': parsed_args.labels}
    if parsed_args.needed:
        return {'kind': 'needed'}
    if parsed_args.to == ['all']:
        return {'kind': 'all'}
    return {'kind': 'sites', 'sites': parsed_args.to}


class DistributeImage(command.ShowOne):
    """Distribute an image to sites: registers it the first time (from
    the site whose Glance has it), else changes where it should be."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument(
            'image',
            metavar='<image>',
            help='image id (as Glance shows it), or the name of an image '
            'registered already',
        )
        where = parser.add_mutually_exclusive_group(required=True)
        where.add_argument(
            '--to',
            type=_sites,
            metavar='all|<site>[,<site>...]',
            help='every site, or the sites named',
        )
        where.add_argument(
            '--labels',
            type=_labels,
            metavar='<key>=<value>[,<key>=<value>...]',
            help='the sites whose profile has all these labels',
        )
        where.add_argument(
            '--needed',
            action='store_true',
            help='only where members using the image are placed, and '
            'where they would move if their site failed',
        )
        common.wait_arguments(parser, 'every site it should be at has it')
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> Any:
        api = common.api(self.app)
        target = _target(parsed_args)
        try:
            image = resolve(api, parsed_args.image)
        except client.ApiError as exc:
            if exc.code != 'not_found':
                raise
            image = api.image_register(parsed_args.image, target)
        else:
            image = api.image_set_target(image['id'], target)
        if parsed_args.wait:
            image_id = image['id']
            image = common.wait_for(
                lambda: api.image_get(image_id),
                progress,
                parsed_args.timeout,
                'image %s to reach %s'
                % (image.get('name'), target_text(target)),
                self.app.stderr,
            )
        return _show(image)


class ListImage(command.Lister):
    """List the images the federation distributes, with how many sites
    have each."""

    def take_action(self, parsed_args: argparse.Namespace) -> Any:
        images = common.api(self.app).image_list()
        rows = []
        for image in images:
            counts = image.get('site_states') or {}
            rows.append(
                (
                    image.get('id'),
                    image.get('name'),
                    image.get('state'),
                    TargetColumn(image.get('target')),
                    image.get('size'),
                    counts.get('present', 0),
                    counts.get('copying', 0),
                    counts.get('failed', 0),
                    counts.get('desired', 0),
                )
            )
        return tuple(h for _, h in LIST_COLUMNS), rows


def _image_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('image', metavar='<image>', help='id or name')


class ShowImage(command.ShowOne):
    """Show an image: its content, target and state at every site."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        _image_argument(parser)
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> Any:
        return _show(resolve(common.api(self.app), parsed_args.image))


class ImageStatus(command.Lister):
    """Where an image is, site by site: present, copying (with the copy's
    state), failed (why) or absent, and whether it should be there."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        _image_argument(parser)
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> Any:
        image = resolve(common.api(self.app), parsed_args.image)
        return common.listing(image.get('sites') or [], STATUS_KEYS)


def _left(name: str, image: dict[str, Any]) -> str:
    held = (image.get('site_states') or {}).get('present', 0)
    held += (image.get('site_states') or {}).get('deleting', 0)
    return 'image %s: deleting, at %d site(s)' % (name, held)


class DeleteImage(command.Command):
    """Stop distributing images and delete them at every site (the site
    they were uploaded to too)."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument(
            'images',
            metavar='<image>',
            nargs='+',
            help='id or name (repeat for several)',
        )
        common.wait_arguments(parser, 'no site has the images any more')
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> None:
        api = common.api(self.app)

        def wait(image: dict[str, Any]) -> None:
            name = image.get('name') or image['id']
            common.wait_gone(
                lambda: api.image_get(image['id']),
                lambda left: _left(name, left),
                'image %s: deleted at every site' % name,
                parsed_args.timeout,
                'image %s to be deleted' % name,
                self.app.stderr,
            )

        common.delete_each(
            self.app,
            parsed_args.images,
            lambda ref: resolve(api, ref),
            api.image_delete,
            'image(s)',
            wait if parsed_args.wait else None,
        )
