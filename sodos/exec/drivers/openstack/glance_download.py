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

"""Copies the site's Glance fetches itself: the glance-download import.

The image is made here with the source's id and metadata, as a stream
copy makes it (:func:`images.create`), then ``POST
/v2/images/{id}/import`` asks Glance to fetch it from the source site's
Glance, named by region. Glance sends the *caller's* token to the
source, twice (metadata, then data): the import is asked as the
``[image_transfer]`` user, a federation user whose token is valid at
every site (``[identity]mode = shared``). Glance finds the source
through the catalog its Keystone returns with that token, so the
source's region and image endpoint must be listed here
(``[identity]publish_remote_endpoints``).

Glance checks only the size of what it fetched. The source's own record
of the image is compared with the registry's before anything is made
here, and the copy's hash once it is active: a copy with other data is
deleted, which burns its id at this site. A failed import puts the
image back to ``queued`` (Glance reverts it and drops its import lock),
so a retry, pulled or streamed, goes into the same image.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from glanceclient import client as glance_client
from glanceclient import exc as glance_exc
from glanceclient.v2 import client as glance_v2
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading as ks_loading
from keystoneauth1 import session as ks_session
from oslo_config import cfg

from sodos.conf import keystoneauth
from sodos.exec.drivers import base as driver
from sodos.exec.drivers.openstack import catalog
from sodos.exec.drivers.openstack import errors
from sodos.exec.drivers.openstack import glance_source
from sodos.exec.drivers.openstack import images
from sodos.exec.drivers.openstack.glance_source import INTERFACE
from sodos.exec.drivers.openstack.glance_source import METHOD
from sodos.exec.images import copy as image_copy
from sodos.exec.images import errors as image_errors

LOG = logging.getLogger(__name__)
# Set by Glance, with the task's id, from the import request until the
# import ends, whatever the end.
LOCK = 'os_glance_import_task'
# Seconds between two progress lines of one import.
PROGRESS_EVERY = 30.0


def transfer_session(conf: cfg.ConfigOpts) -> ks_session.Session:
    """The ``[image_transfer]`` user's session."""
    keystoneauth.register_keystoneauth(conf, 'image_transfer')
    try:
        auth = ks_loading.load_auth_from_conf_options(conf, 'image_transfer')
    except Exception as exc:
        raise image_errors.PullUnavailable(
            '[image_transfer]: cannot load the auth plugin: %s' % exc
        ) from exc
    if auth is None:
        raise image_errors.PullUnavailable(
            '[image_transfer]auth_type is not set: no federation user whose '
            "token this site's Glance could send to the source"
        )
    return ks_loading.load_session_from_conf_options(
        conf, 'image_transfer', auth=auth
    )


class Puller:
    """glance-download copies into one site's Glance.

    ``glance`` and ``site_session`` are Exec's own (``[site_auth]``),
    ``session`` the ``[image_transfer]`` user's; ``clock`` is for tests.
    """

    def __init__(
        self,
        conf: cfg.ConfigOpts,
        glance: glance_v2.Client,
        site_session: ks_session.Session,
        session: ks_session.Session,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        opts = conf.site_auth
        if not opts.region_name:
            raise image_errors.PullUnavailable(
                "[site_auth]region_name is not set: with the other sites' "
                "regions listed in this site's Keystone, the import would "
                'not know which Glance is this one'
            )
        self.conf = conf
        self.glance = glance
        self.site_session = site_session
        self.session = session
        self.region = opts.region_name
        interfaces = list(opts.valid_interfaces)
        # The import must reach this site's Glance, as Exec's does.
        self.transfer_glance = glance_client.Client(
            '2',
            session=session,
            region_name=opts.region_name,
            interface=interfaces[0] if interfaces else 'public',
        )
        self.regions = catalog.KeystoneCatalog(conf, site_session)
        self.sources = glance_source.Sources(glance, self.regions, session)
        self.clock = clock

    def pull_in(
        self,
        image_id: str,
        metadata: dict[str, Any],
        expected: dict[str, Any],
        source_site: str,
        wait: Callable[[float], bool],
    ) -> dict[str, Any]:
        """:meth:`sodos.exec.drivers.base.Driver.pull_in`, for Glance."""
        what = 'image %s from site %s' % (image_id, source_site)
        step = pull_step(image_id, images.get(self.glance, image_id), expected)
        if step == 'done':
            return {'created': False}
        self.sources.check_enabled()
        region, url = self.sources.find(source_site)
        source = None
        if step in ('create', 'import'):
            source = self.sources.check(url, image_id, expected, source_site)
            if step == 'create':
                images.create(
                    self.glance, self.site_session, image_id, metadata
                )
            self.start(image_id, region, what)
        found = self.wait(image_id, region, what, wait)
        self.verify(found, expected, source, what)
        return {'created': True}

    # -- the import ---------------------------------------------------------

    def start(self, image_id: str, region: str, what: str) -> None:
        try:
            self.transfer_glance.images.image_import(
                image_id,
                method=METHOD,
                remote_region=region,
                remote_image_id=image_id,
                remote_service_interface=INTERFACE,
            )
        except glance_exc.HTTPConflict:
            # Not queued any more: another attempt's import is running.
            return
        except (glance_exc.HTTPForbidden, glance_exc.HTTPBadRequest) as exc:
            raise image_errors.PullUnavailable(
                "%s: this site's Glance refused the %s import: %s"
                % (what, METHOD, exc)
            ) from exc
        except (
            glance_exc.BaseException,
            glance_exc.ClientException,
            ks_exc.ClientException,
        ) as exc:
            raise image_errors.PullFailed(
                '%s: starting the %s import: %s' % (what, METHOD, exc)
            ) from exc
        LOG.info('%s: %s import started (region %s)', what, METHOD, region)

    def wait(
        self,
        image_id: str,
        region: str,
        what: str,
        wait: Callable[[float], bool],
    ) -> dict[str, Any]:
        """The image once Glance's import of it ended well."""
        opts = self.conf.image_transfer
        started = self.clock()
        next_log = started + PROGRESS_EVERY
        while True:
            found = images.get(self.glance, image_id)
            status = (found or {}).get('status')
            if status == 'active':
                assert found is not None
                return found
            if not importing(found):
                self._ended_badly(image_id, found, what)
            now = self.clock()
            if now - started >= opts.import_timeout:
                raise driver.TransientError(
                    '%s: the %s import is still running after %d s '
                    '([image_transfer]import_timeout); the next attempt '
                    'waits for it' % (what, METHOD, now - started)
                )
            if now >= next_log:
                LOG.info(
                    '%s: %s import from region %s: %s for %d s',
                    what,
                    METHOD,
                    region,
                    status,
                    now - started,
                )
                next_log = now + PROGRESS_EVERY
            if wait(opts.poll_interval):
                raise driver.TransientError(
                    '%s: Exec is stopping; the import goes on in Glance' % what
                )

    def _ended_badly(
        self, image_id: str, found: dict[str, Any] | None, what: str
    ) -> None:
        status = (found or {}).get('status')
        if found is None or status in image_copy.BURNT:
            if found is not None:
                self.delete(image_id, found)
            raise image_copy.burnt(
                image_id, 'its %s import ended %s' % (METHOD, status or 'gone')
            )
        if status == 'queued':
            raise image_errors.PullFailed(
                '%s: the %s import failed: %s; the image is queued again'
                % (what, METHOD, self.failure(image_id) or 'no reason given')
            )
        raise driver.PermanentError(
            '%s: the %s import left the image %s; an operator must look '
            'at it' % (what, METHOD, status)
        )

    def failure(self, image_id: str) -> str:
        """What Glance's last task on the image said."""
        try:
            _, body = self.glance.http_client.get(
                '/v2/images/%s/tasks' % image_id
            )
        except Exception as exc:
            LOG.debug('image %s: no tasks: %s', image_id, exc)
            return ''
        tasks = sorted(
            (body or {}).get('tasks') or [],
            key=lambda t: t.get('updated_at') or '',
        )
        return str(tasks[-1].get('message') or '') if tasks else ''

    # -- the check --------------------------------------------------------

    def verify(
        self,
        found: dict[str, Any],
        expected: dict[str, Any],
        source: dict[str, Any] | None,
        what: str,
    ) -> None:
        """Glance's record of the copy against the registry's (and the
        source's md5 when this Glance hashes with another algorithm)."""
        mismatch = image_copy.compare(found, expected)
        algo = expected.get('os_hash_algo') or 'sha512'
        if not mismatch and found.get('os_hash_algo') != algo:
            mismatch = self._md5_mismatch(found, source)
        if not mismatch:
            return
        LOG.error('%s: the pulled copy has %s; deleting it', what, mismatch)
        self.delete(found['id'], found)
        raise image_copy.HashMismatch(
            'hash mismatch: %s, fetched by %s, has %s; the copy was deleted '
            '(Glance never takes its id again at this site)'
            % (what, METHOD, mismatch),
            details={'id_burnt': True},
        )

    @staticmethod
    def _md5_mismatch(
        found: dict[str, Any], source: dict[str, Any] | None
    ) -> str:
        theirs = (source or {}).get('checksum')
        if not theirs or not found.get('checksum'):
            return 'an unverifiable hash (%s here)' % found.get('os_hash_algo')
        if found['checksum'] != theirs:
            return 'md5 %s, expected %s' % (found['checksum'], theirs)
        return ''

    def delete(self, image_id: str, found: dict[str, Any]) -> None:
        with errors.translated('deleting image %s' % image_id):
            if found.get('protected'):
                self.glance.images.update(image_id, protected=False)
        images.delete(self.glance, image_id)


def importing(found: dict[str, Any] | None) -> bool:
    """Whether an import of the image is under way: asked (Glance holds
    its lock) or running."""
    if found is None:
        return False
    status = found.get('status')
    return status == 'importing' or (status == 'queued' and LOCK in found)


def pull_step(
    image_id: str, found: dict[str, Any] | None, expected: dict[str, Any]
) -> str:
    """What a pull must do given the image found here: ``'create'``,
    ``'import'`` (queued), ``'wait'`` (an import under way, an earlier
    attempt's), ``'done'``; raises as :func:`image_copy.next_step`."""
    if importing(found):
        return 'wait'
    step = image_copy.next_step(image_id, found, expected)
    return 'import' if step == 'upload' else step
