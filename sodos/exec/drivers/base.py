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

"""What Exec asks of a site's cloud, whatever the cloud is.

A driver (namespace ``sodos.exec.drivers``) turns these calls into the
site's API calls. Drivers shipped: ``openstack`` (Keystone, Glance, Nova
and Placement through their official clients) and ``simulator`` (an
in-memory site for outage simulation, the local federation and tests).

Errors: :class:`TransientError` for what may work when retried (an API
down or timing out, a 5xx), :class:`PermanentError` for what will not
(no valid host, quota exceeded, image or flavor missing), its message the
cloud's own text. Exec retries the first and records the second in the KB.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable
from collections.abc import Iterator
from typing import TYPE_CHECKING
from typing import Any
from typing import Protocol

from oslo_config import cfg

from sodos import exception
from sodos import plugins
from sodos.exec.images import errors as image_errors

if TYPE_CHECKING:
    # Only for the capabilities' types: sodos.identity.writer imports
    # this module for its errors.
    from sodos.exec.catalog import plan as catalog_plan
    from sodos.exec.identity import keys as identity_keys
    from sodos.exec.networks import store as network_store
    from sodos.identity import writer as identity_writer

NAMESPACE = 'sodos.exec.drivers'

# Metadata keys Exec puts on every server it creates; a server carrying
# them is "sodos-managed" and is looked up before any create.
TAG_APPLIANCE = 'sodos:appliance'
TAG_MEMBER = 'sodos:member'
TAG_ACTION = 'sodos:action'
# The server tag (Nova >= 2.26) that lets a driver list only sodos servers.
SERVER_TAG = 'sodos'


# Shared with the identity writers (sodos.exception): the same classes.
TransientError = exception.TransientError
PermanentError = exception.PermanentError


@dataclasses.dataclass(frozen=True)
class ServerSpec:
    """One appliance member's server, as an action asks for it: the
    boot request a driver carries out (:mod:`sodos.exec.servers.boot`
    fills it from the action and the appliance's spec)."""

    appliance_id: str
    member: str
    action_id: str
    name: str
    image: str
    flavor: str
    # The owner's project as this site calls it; None: the service
    # project (``[site_auth]``'s), for an appliance from before ownership.
    project_id: str | None = None
    # An OpenSSH public key; the driver makes it a key pair (key_name).
    public_key: str = ''
    user_data: str = ''
    # The spec's server metadata; sodos's own keys are added to it.
    user_metadata: dict[str, str] = dataclasses.field(default_factory=dict)
    # The networks to boot with a port on, and the security groups of
    # those ports (ids); none: no network (nics 'none').
    networks: tuple[str, ...] = ()
    security_groups: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return member_key(self.appliance_id, self.member)

    @property
    def key_name(self) -> str:
        """The key pair the public key is kept in at the site (one per
        appliance, so that every member boots with the same key)."""
        return 'sodos-%s' % self.appliance_id if self.public_key else ''

    def metadata(self) -> dict[str, str]:
        return {
            **self.user_metadata,
            TAG_APPLIANCE: self.appliance_id,
            TAG_MEMBER: self.member,
            TAG_ACTION: self.action_id,
        }


@dataclasses.dataclass
class Server:
    """A sodos-managed server as the site reports it."""

    id: str
    name: str
    status: str
    appliance_id: str
    member: str
    action_id: str
    fault: str = ''
    # Its fixed IP addresses, one a port.
    addresses: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return member_key(self.appliance_id, self.member)

    @classmethod
    def from_metadata(
        cls,
        server_id: str,
        name: str,
        status: str,
        metadata: dict[str, str],
        fault: str = '',
        addresses: tuple[str, ...] = (),
    ) -> Server | None:
        """The server, or None if its metadata does not say sodos made it."""
        appliance = metadata.get(TAG_APPLIANCE)
        member = metadata.get(TAG_MEMBER)
        if not appliance or not member:
            return None
        return cls(
            id=server_id,
            name=name,
            status=status,
            appliance_id=appliance,
            member=member,
            action_id=metadata.get(TAG_ACTION, ''),
            fault=fault,
            addresses=addresses,
        )


def member_key(appliance_id: str, member: str) -> str:
    """How the KB names an appliance member (placements use it too)."""
    return '%s/%s' % (appliance_id, member)


# What the summary (``image_details``) and a copy's checks know of an
# image; the hash is Glance's ``os_hash_algo``/``os_hash_value``. The
# formats and metadata let an image found at a site be registered and
# copied as it is (``properties``: its additional properties, strings).
IMAGE_FIELDS = (
    'name',
    'status',
    'size',
    'os_hash_algo',
    'os_hash_value',
    'checksum',
    'disk_format',
    'container_format',
    'min_disk',
    'min_ram',
    'visibility',
    'tags',
    'properties',
)

# The metadata a copy gives the image it creates at a site, besides the
# additional properties (and the owner, where its project exists there).
COPIED_FIELDS = (
    'name',
    'disk_format',
    'container_format',
    'min_disk',
    'min_ram',
    'visibility',
    'protected',
    'tags',
)


class Reader(Protocol):
    """A file-like source of bytes, as glanceclient's upload reads it."""

    def read(self, size: int = -1) -> bytes: ...


@dataclasses.dataclass
class Resource:
    """One kind of capacity, in the units placement uses."""

    total: float
    used: float

    @property
    def free(self) -> float:
        return max(self.total - self.used, 0.0)


class Driver(abc.ABC):
    """One site's cloud. Methods are called from several threads."""

    # Terminal server states: a create waits until one of them.
    ACTIVE = 'ACTIVE'
    ERROR = 'ERROR'

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf

    def close(self) -> None:
        """Release connections; the default driver holds none."""
        return None

    @abc.abstractmethod
    def list_servers(self) -> list[Server]:
        """Every sodos-managed server at the site."""

    @abc.abstractmethod
    def boot(self, spec: ServerSpec) -> Server:
        """Ask the site to build the server; returns at once (BUILD)."""

    @abc.abstractmethod
    def get_server(self, server_id: str) -> Server | None:
        """The server's current state, None once it is gone."""

    @abc.abstractmethod
    def delete(self, server_id: str) -> None:
        """Ask the site to delete the server (gone already is fine)."""

    @abc.abstractmethod
    def capacity(self) -> dict[str, Resource]:
        """Usable capacity and usage: ``vcpu``, ``ram_mb``, ``disk_gb``."""

    @abc.abstractmethod
    def images(self) -> list[str]:
        """Names of the images servers can boot from."""

    @abc.abstractmethod
    def flavors(self) -> dict[str, dict[str, int]]:
        """Flavor name to its ``vcpus``, ``ram_mb`` and ``disk_gb``."""

    def probe(self) -> None:
        """One cheap API call, for health and latency; raises on failure."""
        self.images()

    # -- images (sodos.exec.images.copy, sodos.exec.images.relay) -----------

    def image_details(self) -> dict[str, dict[str, Any]]:
        """Every image at the site, whatever its status, by id.

        Each as :data:`IMAGE_FIELDS`. A driver that does not handle
        images reports none.
        """
        return {}

    def open_image(
        self, image_id: str
    ) -> tuple[dict[str, Any], Iterator[bytes]]:
        """An active image's :data:`IMAGE_FIELDS` and its bytes.

        Raises :class:`ImageNotFound` or :class:`ImageNotActive`.
        """
        raise PermanentError(self._no_images())

    def copy_in(
        self,
        image_id: str,
        metadata: dict[str, Any],
        reader: Reader,
        expected: dict[str, Any],
    ) -> dict[str, Any]:
        """Make the image ``image_id`` here, its bytes read from ``reader``.

        ``reader`` checks size and hash as it is read and raises before
        its last bytes if they are wrong, so the image never becomes
        active with wrong data. Idempotent: ``{'created': False}`` when
        the image is already active here with the expected hash.
        """
        raise PermanentError(self._no_images())

    def pull_in(
        self,
        image_id: str,
        metadata: dict[str, Any],
        expected: dict[str, Any],
        source_site: str,
        wait: Callable[[float], bool],
    ) -> dict[str, Any]:
        """Make the image ``image_id`` here, fetched by the site's image
        service itself from site ``source_site`` (Glance's
        glance-download), then checked against ``expected``.

        ``wait(seconds)`` sleeps between two looks at the import and
        returns True when Exec is stopping. Raises ``PullUnavailable``
        when the site cannot do it (before any data moved), ``PullFailed``
        when the fetch failed and left the image for a stream copy (both
        in :mod:`sodos.exec.images.errors`). An image that became active
        with other data is deleted (its id is burnt here). Idempotent as
        :meth:`copy_in`.
        """
        raise image_errors.PullUnavailable(
            'the %s Exec driver cannot have its site fetch images by '
            'itself' % self.conf.exec.driver
        )

    def delete_image(self, image_id: str) -> bool:
        """Delete the image here; False if it was not here."""
        raise PermanentError(self._no_images())

    def _no_images(self) -> str:
        return 'the %s Exec driver does not handle images' % (
            self.conf.exec.driver
        )

    # -- what else the site offers ------------------------------------------
    #
    # Exec's other loops ask the driver for what they work on; None says
    # the site has no such thing and the loop is not run. The default
    # driver offers none of them.

    def identity_writer(
        self, shared: bool
    ) -> identity_writer.IdentityWriter | None:
        """The writer of the site's identity store (sodos.exec.identity).

        ``shared`` (``[identity]mode = shared``): one that gives every
        object the federation's id; otherwise one through the store's
        public API, which picks its own ids.

        :raises ConfigError: the writer's options are missing or unusable.
        """
        return None

    def catalog_store(self) -> catalog_plan.CatalogStore | None:
        """The site's service catalog (sodos.exec.catalog)."""
        return None

    def network_store(self) -> network_store.NetworkStore | None:
        """The site's networks (sodos.exec.networks): members whose spec
        names networks boot only where there is one."""
        return None

    def revocation_store(self) -> identity_keys.RevocationStore | None:
        """The site's token revocation events (sodos.exec.identity.keys).

        Made before its options are checked: it must reach nothing
        until it is first used.
        """
        return None


def load(conf: cfg.ConfigOpts) -> Driver:
    """The driver ``[exec]driver`` names, made from ``conf``."""
    made: Driver = plugins.load(
        NAMESPACE, conf.exec.driver, '[exec]driver', 'Exec driver', (conf,)
    )
    return made
