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

"""The simulated site's Glance: image records with generated content.

A simulated image keeps no bytes: its content is generated from its id
and size (:func:`content`), the same at every site, so its hashes are
real and a copy between simulated sites goes through the real relay and
the real verifying reader. A copy received hashes what it reads and
records the image; it serves the same bytes when it is the source in
turn. Glance's rules are kept: caller-chosen ids, a failed upload leaves
the image ``queued``, a deleted id can never be used again.
"""

from __future__ import annotations

import copy
import hashlib
import random
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

from sodos.exec.drivers import base as driver
from sodos.exec.images import copy as image_copy
from sodos.exec.images import errors as image_errors

CHUNK = 1024 * 1024
# Metadata fields kept besides the properties.
KEPT = driver.COPIED_FIELDS + ('owner',)


def content(image_id: str, size: int) -> Iterator[bytes]:
    """The bytes of the simulated image ``image_id`` of ``size`` bytes."""
    base = random.Random(image_id).randbytes(min(size, CHUNK))
    for index, offset in enumerate(range(0, size, CHUNK)):
        length = min(CHUNK, size - offset)
        yield (index.to_bytes(8, 'big') + base[8:])[:length]


def digests(image_id: str, size: int, algo: str) -> tuple[str, str]:
    """The (os_hash_value, md5 checksum) of a simulated image."""
    strong, md5 = hashlib.new(algo), hashlib.md5(usedforsecurity=False)
    for chunk in content(image_id, size):
        strong.update(chunk)
        md5.update(chunk)
    return strong.hexdigest(), md5.hexdigest()


class SimulatedImages:
    """Image records; every method is safe to call from any thread."""

    def __init__(
        self,
        call: Callable[[], None],
        save: Callable[[], None],
        records: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self._call = call  # the site's latency and outage switches
        self._save = save
        self._lock = threading.Lock()
        self._images: dict[str, dict[str, Any]] = dict(records or {})

    def records(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {k: dict(v) for k, v in self._images.items()}

    def active_names(self) -> set[str]:
        with self._lock:
            return {
                i['name']
                for i in self._images.values()
                if i['status'] == 'active' and i.get('name')
            }

    def is_active(self, name_or_id: str) -> bool:
        with self._lock:
            return any(
                i['status'] == 'active' and name_or_id in (iid, i.get('name'))
                for iid, i in self._images.items()
            )

    def add(
        self,
        image_id: str,
        size: int,
        metadata: dict[str, Any] | None = None,
        algo: str = 'sha512',
    ) -> dict[str, Any]:
        """An active image with generated content (what an upload makes)."""
        value, md5 = digests(image_id, size, algo)
        record = self._record(image_id, metadata or {})
        record.update(
            status='active',
            size=size,
            os_hash_algo=algo,
            os_hash_value=value,
            checksum=md5,
        )
        with self._lock:
            if image_id in self._images:
                raise driver.PermanentError(
                    'Image ID %s already exists! (HTTP 409)' % image_id
                )
            self._images[image_id] = record
        self._save()
        return _view(record)

    def details(self) -> dict[str, dict[str, Any]]:
        self._call()
        with self._lock:
            return {
                iid: _view(i)
                for iid, i in self._images.items()
                if i['status'] != 'deleted'
            }

    def get(self, image_id: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._images.get(image_id)
            if found is None or found['status'] == 'deleted':
                return None
            return dict(found)

    def open(self, image_id: str) -> tuple[dict[str, Any], Iterator[bytes]]:
        self._call()
        found = self.get(image_id)
        if found is None:
            raise image_errors.ImageNotFound(
                'image %s is not at this site' % image_id
            )
        if found['status'] != 'active':
            raise image_errors.ImageNotActive(
                'image %s is %s at this site' % (image_id, found['status'])
            )
        return _view(found), content(image_id, found['size'])

    def copy_in(
        self,
        image_id: str,
        metadata: dict[str, Any],
        reader: image_copy.HashingReader,
        expected: dict[str, Any],
    ) -> dict[str, Any]:
        self._call()
        with self._lock:
            found = self._images.get(image_id)
            if found is not None and found['status'] == 'deleted':
                raise image_copy.burnt(image_id, 'it was deleted here')
            step = image_copy.next_step(image_id, found, expected)
            if step == 'done':
                return {'created': False}
            if step == 'create':
                self._images[image_id] = self._record(image_id, metadata)
            self._images[image_id]['status'] = 'saving'
        try:
            while reader.read(CHUNK):
                pass
            if not reader.verified:
                raise image_copy.ShortRead(
                    'short read: image %s: %d of %d bytes'
                    % (image_id, reader.done, expected['size'])
                )
        except BaseException:
            self._set(image_id, status='queued')
            raise
        # What Glance computes from the bytes it stored.
        self._set(
            image_id,
            status='active',
            size=reader.done,
            os_hash_algo=reader.algo,
            os_hash_value=reader.hexdigest,
            checksum=None,
        )
        return {'created': True}

    def delete(self, image_id: str) -> bool:
        self._call()
        with self._lock:
            found = self._images.get(image_id)
            if found is None or found['status'] == 'deleted':
                return False
            # Kept as deleted: Glance never takes the id again.
            found['status'] = 'deleted'
        self._save()
        return True

    def _set(self, image_id: str, **fields: Any) -> None:
        with self._lock:
            self._images[image_id].update(fields, updated_at=time.time())
        self._save()

    @staticmethod
    def _record(image_id: str, metadata: dict[str, Any]) -> dict[str, Any]:
        record = {k: metadata.get(k) for k in KEPT}
        record.update(
            id=image_id,
            status='queued',
            size=None,
            os_hash_algo=None,
            os_hash_value=None,
            checksum=None,
            properties=dict(metadata.get('properties') or {}),
            created_at=time.time(),
            updated_at=time.time(),
        )
        return record


def _view(record: dict[str, Any]) -> dict[str, Any]:
    # Copies: a summary must not share the record's tags and properties.
    return {f: copy.deepcopy(record.get(f)) for f in driver.IMAGE_FIELDS}
