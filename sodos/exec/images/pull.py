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

"""Whether an image copy is pulled by the site's own image service.

``[image_transfer]method``: ``stream`` never pulls; ``glance-download``
always does, its failures the copy's; ``auto`` pulls where the identity
is shared and the driver can (:meth:`sodos.exec.drivers.base.Driver.pull_in`
says why not before changing anything), and otherwise leaves the copy to
the stream (sodos.exec.images.copy), saying why once per reason, not at
every copy.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any

from oslo_config import cfg

from sodos.conf import image_transfer as transfer_conf
from sodos.exec.images import errors as image_errors

if TYPE_CHECKING:
    from sodos.exec.drivers import base as driver

LOG = logging.getLogger(__name__)


def wanted(conf: cfg.ConfigOpts, site: str) -> bool:
    """Whether ``[image_transfer]method`` asks for a pull at all; the
    driver decides whether it can (:meth:`driver.Driver.pull_in`)."""
    method = conf.image_transfer.method
    if method != transfer_conf.AUTO:
        return bool(method == transfer_conf.GLANCE_DOWNLOAD)
    mode = conf.identity.mode
    if mode != 'shared':
        _tell_once(
            logging.INFO,
            site,
            '[identity]mode is %s, not shared: a token of this site is not '
            'valid at the others' % mode,
        )
        return False
    return True


def pull(
    conf: cfg.ConfigOpts,
    drv: driver.Driver,
    site: str,
    params: dict[str, Any],
    what: str,
    wait: Callable[[float], bool],
) -> dict[str, Any] | None:
    """The copy by the site's Glance; None when it is to be streamed
    (``auto`` only: forced, the reason is the copy's failure)."""
    forced = conf.image_transfer.method == transfer_conf.GLANCE_DOWNLOAD
    try:
        return drv.pull_in(
            params['image_id'],
            params['metadata'],
            params['expected'],
            params['source_site'],
            wait,
        )
    except image_errors.PullUnavailable as exc:
        if forced:
            raise
        _tell_once(logging.WARNING, site, str(exc))
    except image_errors.PullFailed as exc:
        if forced:
            raise
        LOG.warning('%s: glance-download failed, streaming it: %s', what, exc)
    return None


_told: set[tuple[str, str]] = set()
_told_lock = threading.Lock()


def _tell_once(level: int, site: str, reason: str) -> None:
    """Why copies to this site stream rather than pull, once a reason."""
    with _told_lock:
        if (site, reason) in _told:
            return
        _told.add((site, reason))
    LOG.log(
        level,
        'image copies to site %s are streamed, not pulled by its Glance '
        '(glance-download): %s (said once)',
        site,
        reason,
    )
