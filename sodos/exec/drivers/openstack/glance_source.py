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

"""Whether this site's Glance can fetch an image from another site's.

Checked before the glance-download import (:mod:`.glance_download`) is
asked for, so that a site not set up for it says why
(:class:`~sodos.exec.images.errors.PullUnavailable`) before anything is
made here, and the image can still be streamed.
"""

from __future__ import annotations

from typing import Any

from glanceclient.v2 import client as glance_v2
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session

from sodos.exec.catalog import plan as catalog_plan
from sodos.exec.drivers import base as driver
from sodos.exec.drivers.openstack import catalog
from sodos.exec.drivers.openstack import errors
from sodos.exec.images import copy as image_copy
from sodos.exec.images import errors as image_errors

METHOD = 'glance-download'
# The interface of the source's endpoint Glance is told to use: the
# other sites' Keystone list only public ones (catalog_plan).
INTERFACE = 'public'


class Sources:
    """The other sites' Glance as this site's will reach them.

    ``glance`` is Exec's own (``[site_auth]``), ``regions`` this site's
    Keystone catalog, ``session`` the ``[image_transfer]`` user's.
    """

    def __init__(
        self,
        glance: glance_v2.Client,
        regions: catalog.KeystoneCatalog,
        session: ks_session.Session,
    ) -> None:
        self.glance = glance
        self.regions = regions
        self.session = session

    def check_enabled(self) -> None:
        what = "reading this site's Glance import methods"
        try:
            with errors.translated(what):
                info = self.glance.images.get_import_info()
        except driver.PermanentError as exc:
            # An image API without the import discovery (Glance < 16).
            raise image_errors.PullUnavailable('%s: %s' % (what, exc)) from exc
        offered = (info.get('import-methods') or {}).get('value') or []
        if METHOD not in offered:
            raise image_errors.PullUnavailable(
                "this site's Glance does not offer the %s import method "
                '(it offers %s; add it to its [DEFAULT]enabled_import_methods)'
                % (METHOD, ', '.join(offered) or 'none')
            )

    def find(self, source_site: str) -> tuple[str, str]:
        """The source's region in this site's Keystone, and the URL of
        its Glance in the transfer user's catalog (what Glance will see).
        """
        found = self.regions.regions()
        # A region sodos listed for the site, else one named as the site
        # (listed by hand).
        candidates = [
            r.id
            for r in found
            if catalog_plan.marked_site(r.description) == source_site
        ] + [r.id for r in found if r.id == source_site]
        if not candidates:
            raise image_errors.PullUnavailable(
                "no region of site %s in this site's Keystone "
                '([identity]publish_remote_endpoints lists the other sites)'
                % source_site
            )
        region = candidates[0]
        url = self._endpoint(region)
        if url is None:
            # The token's catalog may predate the region: once more with
            # a new token (which Glance will then see too).
            self.session.invalidate()
            url = self._endpoint(region)
        if url is None:
            raise image_errors.PullUnavailable(
                'region %s (site %s) has no %s image endpoint in the '
                "catalog this site's Keystone gives the [image_transfer] "
                'user' % (region, source_site, INTERFACE)
            )
        return region, url.rstrip('/')

    def _endpoint(self, region: str) -> str | None:
        try:
            url = self.session.get_endpoint(
                service_type='image', interface=INTERFACE, region_name=region
            )
        except ks_exc.EndpointNotFound:
            return None
        except ks_exc.Unauthorized as exc:
            # Said once per text: no request id in it.
            raise image_errors.PullUnavailable(
                "this site's Keystone refused the [image_transfer] "
                'credentials (HTTP 401)'
            ) from exc
        except ks_exc.ClientException as exc:
            raise image_errors.PullFailed(
                'logging in as the [image_transfer] user: %s' % exc
            ) from exc
        return str(url) if url else None

    def check(
        self,
        url: str,
        image_id: str,
        expected: dict[str, Any],
        source_site: str,
    ) -> dict[str, Any]:
        """The source's record of the image, as Glance will read it; a
        source that holds other data serves no one."""
        where = "site %s's Glance (%s)" % (source_site, url)
        try:
            response = self.session.get(
                '%s/v2/images/%s' % (url, image_id), raise_exc=False
            )
        except ks_exc.ClientException as exc:
            raise image_errors.PullFailed(
                'reaching %s: %s' % (where, exc)
            ) from exc
        if response.status_code in (401, 403):
            raise image_errors.PullUnavailable(
                '%s refused the [image_transfer] user (%d): its token must '
                'be valid there ([identity]mode = shared at both sites) '
                'and it needs the admin role on a federation project'
                % (where, response.status_code)
            )
        if response.status_code == 404:
            raise driver.PermanentError(
                'image %s is not at site %s' % (image_id, source_site)
            )
        if response.status_code != 200:
            raise image_errors.PullFailed(
                '%s answered %d: %s'
                % (where, response.status_code, response.text[:300])
            )
        found: dict[str, Any] = response.json()
        if found.get('status') != 'active':
            raise driver.PermanentError(
                'image %s is %s at site %s, not active'
                % (image_id, found.get('status'), source_site)
            )
        mismatch = image_copy.compare(found, expected)
        if mismatch:
            raise driver.PermanentError(
                'image %s at site %s is not the registered image (%s): not '
                'fetched' % (image_id, source_site, mismatch)
            )
        return found
