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

"""Copying an image from another site into this one, verified on the fly.

The bytes stream from the source site's relay (sodos.exec.images.relay)
straight into the local Glance, with no temporary copy. A Glance image
id that was deleted can never be used again at that site, so a wrong
copy must never become active (an active wrong image could only be
deleted, burning its id): :class:`HashingReader` checks size and hash
while the upload reads it and raises *before* it hands over the last
bytes when they do not match. Glance then never sees the end of the
upload, the image falls back to ``queued``, and the next attempt
uploads into the same image.

Where the sites share their identity, the site's Glance can fetch the
image from the source's Glance by itself instead (``glance-download``,
:mod:`sodos.exec.drivers.openstack.glance_download`): :func:`copy` picks the
method as ``[image_transfer]method`` says, and falls back to the stream
when the pull cannot be used or fails before the image turned active.
The price of a pull: Glance checks only the size of what it fetched,
so the hash is compared once the image is active, and a wrong copy
can only be deleted there, burning its id at this site.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any

from oslo_config import cfg

from sodos import exception
from sodos import instruments
from sodos.conf import image_transfer as transfer_conf
from sodos.exec.images import pull as image_pull
from sodos.exec.images import relay as image_relay
from sodos.exec.images import relay_client

if TYPE_CHECKING:
    from sodos.exec.drivers import base as driver

LOG = logging.getLogger(__name__)
MIB = 1024 * 1024
# Glance statuses in which an upload is under way.
UPLOADING = frozenset({'saving', 'importing', 'uploading'})
# Statuses from which the id can never hold this image again here.
BURNT = frozenset({'killed', 'deleted', 'pending_delete'})


class HashMismatch(exception.PermanentError):
    """The bytes received are not the image the federation registered."""


class ShortRead(exception.TransientError):
    """The stream ended before the image's size: the transfer broke."""


def burnt(image_id: str, why: str) -> exception.PermanentError:
    """The error for an id this site can never give the image again."""
    return exception.PermanentError(
        'image %s cannot be copied to this site under its id: %s (Glance '
        'never reuses the id of a deleted or killed image)' % (image_id, why),
        details={'id_burnt': True},
    )


def check_algo(expected: dict[str, Any]) -> str:
    algo = str(expected.get('os_hash_algo') or 'sha512')
    if algo not in hashlib.algorithms_available:
        raise exception.PermanentError(
            'unknown os_hash_algo %r in the expected image (known: %s)'
            % (algo, ', '.join(sorted(hashlib.algorithms_guaranteed)))
        )
    return algo


def next_step(
    image_id: str, found: dict[str, Any] | None, expected: dict[str, Any]
) -> str:
    """What a copy must do given the image found here.

    ``'create'`` (absent), ``'upload'`` (queued: a past attempt created
    it), ``'done'`` (active with the expected size and hash). Raises for
    the rest: an upload in progress (transient), a burnt id, an active
    image with other data, a deactivated one.
    """
    if found is None:
        return 'create'
    status = found.get('status')
    if status == 'queued':
        return 'upload'
    if status == 'active':
        mismatch = compare(found, expected)
        if mismatch:
            raise HashMismatch(
                'hash mismatch: image %s is already active at this site '
                'with other data (%s)' % (image_id, mismatch)
            )
        return 'done'
    if status in UPLOADING:
        raise exception.TransientError(
            'image %s is %s at this site: an upload is in progress'
            % (image_id, status)
        )
    if status in BURNT:
        raise burnt(image_id, 'it is %s here' % status)
    raise exception.PermanentError(
        'image %s is %s at this site; an operator must look at it'
        % (image_id, status)
    )


def compare(found: dict[str, Any], expected: dict[str, Any]) -> str:
    """What differs between an image here and the expected one, or ''."""
    if found.get('size') != expected['size']:
        return 'size %s, expected %s' % (found.get('size'), expected['size'])
    algo = expected.get('os_hash_algo') or 'sha512'
    if found.get('os_hash_algo') == algo and (
        found.get('os_hash_value') != expected['os_hash_value']
    ):
        return '%s %s, expected %s' % (
            algo,
            found.get('os_hash_value'),
            expected['os_hash_value'],
        )
    return ''


class HashingReader:
    """File-like view of a stream that checks its size and hash.

    ``read`` raises :class:`HashMismatch` or :class:`ShortRead` instead
    of returning the chunk that completes a wrong image, or the end of a
    short one. The error is kept in :attr:`error`: an HTTP client that
    wraps what its body raised still lets the caller find the cause.
    """

    def __init__(
        self, source: driver.Reader, expected: dict[str, Any], what: str
    ) -> None:
        self.source = source
        self.size: int = expected['size']
        self.expected_hash = str(expected['os_hash_value']).lower()
        self.algo = check_algo(expected)
        self.what = what
        self._hash = hashlib.new(self.algo)
        self.done = 0
        self.verified = False
        self.error: Exception | None = None
        self._next_log = 0.1

    def read(self, size: int = -1) -> bytes:
        if self.error is not None:
            raise self.error
        try:
            data = self._read(size)
        except Exception as exc:
            self.error = exc
            raise
        return data

    @property
    def hexdigest(self) -> str:
        return self._hash.hexdigest()

    def _read(self, size: int) -> bytes:
        data = self.source.read(size if size >= 0 else self.size + 1)
        total = self.done + len(data)
        if total > self.size:
            raise HashMismatch(
                'hash mismatch: %s is longer than the expected %d bytes'
                % (self.what, self.size)
            )
        if not data and total < self.size:
            raise ShortRead(
                'short read: %s ended after %d of %d bytes'
                % (self.what, total, self.size)
            )
        self._hash.update(data)
        self.done = total
        # Counted as received: bytes of a copy that fails its check later
        # crossed the network all the same.
        instruments.IMAGE_COPY_BYTES.inc(len(data))
        if total == self.size and not self.verified:
            if self.hexdigest != self.expected_hash:
                raise HashMismatch(
                    'hash mismatch: %s has %s %s, expected %s'
                    % (
                        self.what,
                        self.algo,
                        self.hexdigest,
                        self.expected_hash,
                    )
                )
            self.verified = True
        self._progress()
        return data

    def _progress(self) -> None:
        if not self.size:
            return
        fraction = self.done / self.size
        if fraction >= self._next_log and self.done < self.size:
            LOG.info(
                '%s: %d of %d MiB (%d%%)',
                self.what,
                self.done // MIB,
                self.size // MIB,
                fraction * 100,
            )
            while self._next_log <= fraction:
                self._next_log += 0.1


def verifying(
    reader: driver.Reader, expected: dict[str, Any], image_id: str
) -> HashingReader:
    """``reader`` checked against ``expected`` as it is read (itself if
    it checks already): what a driver's ``copy_in`` uploads from."""
    if isinstance(reader, HashingReader):
        return reader
    return HashingReader(reader, expected, 'image %s' % image_id)


def copy(
    conf: cfg.ConfigOpts,
    drv: driver.Driver,
    site: str,
    params: dict[str, Any],
    wait: Callable[[float], bool] | None = None,
) -> dict[str, Any]:
    """Carry out an ``image.copy`` action at this (the target) site.

    Pulled by the site's Glance when ``[image_transfer]method`` allows
    it (:mod:`sodos.exec.images.pull`), streamed from the source's relay
    otherwise. ``wait(seconds)`` sleeps while a pull runs and returns
    True when Exec is stopping. The result and a failure's details name
    the method.
    """
    image_id = params['image_id']
    expected = params['expected']
    check_algo(expected)
    what = 'image %s from site %s' % (image_id, params['source_site'])
    method = transfer_conf.STREAM
    started = time.monotonic()
    try:
        outcome = None
        if image_pull.wanted(conf, site):
            method = transfer_conf.GLANCE_DOWNLOAD
            outcome = image_pull.pull(
                conf, drv, site, params, what, wait or _no_wait
            )
        if outcome is None:
            method = transfer_conf.STREAM
            outcome = _stream(conf, drv, site, params, what)
    except exception.PermanentError as exc:
        exc.details.setdefault('method', method)
        raise
    seconds = time.monotonic() - started
    if outcome['created']:
        LOG.info(
            '%s: copied (%s), %.1f MiB in %.1f s (%.1f MiB/s), %s verified',
            what,
            method,
            expected['size'] / MIB,
            seconds,
            expected['size'] / MIB / max(seconds, 1e-6),
            check_algo(expected),
        )
    return {
        'image_id': image_id,
        'size': expected['size'],
        'os_hash_value': expected['os_hash_value'],
        'seconds': round(seconds, 3),
        'created': bool(outcome['created']),
        'method': method,
    }


def _stream(
    conf: cfg.ConfigOpts,
    drv: driver.Driver,
    site: str,
    params: dict[str, Any],
    what: str,
) -> dict[str, Any]:
    """The copy through the source's relay, verified as it streams."""
    image_id = params['image_id']
    expected = params['expected']
    try:
        url = image_relay.signed_url(
            conf, params['source_url'], image_id, site
        )
        source = relay_client.source(conf, url, what)
    except exception.ConfigError as exc:
        raise exception.PermanentError(str(exc)) from exc
    reader = HashingReader(source, expected, what)
    try:
        return drv.copy_in(image_id, params['metadata'], reader, expected)
    finally:
        source.close()


def _no_wait(seconds: float) -> bool:
    time.sleep(seconds)
    return False
