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

"""Acting in an appliance's project: the ``[site_auth]`` user, its token
rescoped to the owner's project.

Nova builds a server in the project of the token that asks, and takes no
"on behalf of" argument: Exec gets a token of its own user scoped to the
appliance's project. So that Keystone gives one, the user holds
``[exec]owner_project_role`` on the project, granted here (idempotent,
once per project and process; the identity sync leaves the
``[site_auth]`` user's assignments alone). Listing, reading and deleting
servers needs no rescoping: the user is an admin, and Nova lets an
admin do that in every project.

Why not a Keystone trust, as Heat does: a trust is a per-site object
(each site's Keystone issues its own unless identity is shared), it
would have to be made at creation for every site a member may ever
land on, and it dies with its trustor. The role costs a wider power
(Exec may act in every project that owns an appliance, for as long as
the assignment lasts), which the ``[site_auth]`` admin has anyway; the
doc's admin guide says so.

The rescoped token is asked for at each build and not kept: it expires
with the token it came from, and builds are rare.
"""

from __future__ import annotations

import threading
from typing import Any

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3
from keystoneclient.v3 import client as ks_client
from novaclient import client as nova_client
from novaclient import exceptions as nova_exc
from oslo_config import cfg

from sodos.exec.drivers import base as driver
from sodos.exec.drivers.openstack import errors


class OwnerProjects:
    def __init__(
        self,
        conf: cfg.ConfigOpts,
        session: ks_session.Session,
        endpoint: dict[str, Any],
        microversion: str,
    ) -> None:
        self.role = conf.exec.owner_project_role
        self.session = session
        self.endpoint = endpoint
        self.microversion = microversion
        self._granted: set[str] = set()
        self._lock = threading.Lock()

    def nova(self, project_id: str) -> Any:
        """A Nova client acting in ``project_id`` as the Exec user."""
        self._grant(project_id)
        auth_url = str(getattr(self.session.auth, 'auth_url', '') or '')
        with errors.translated('rescoping to project %s' % project_id):
            token = self.session.get_token() or ''
            scoped = ks_session.Session(
                auth=v3.Token(
                    auth_url=auth_url, token=token, project_id=project_id
                ),
                verify=self.session.verify,
                cert=self.session.cert,
                timeout=self.session.timeout,
            )
            scoped.get_token()
        return nova_client.Client(
            self.microversion, session=scoped, **self.endpoint
        )

    def ensure_key(self, nova: Any, name: str, public_key: str) -> None:
        """The key pair ``name`` of the Exec user, holding ``public_key``
        (key pairs are per user; one per appliance, named after it)."""
        with errors.translated('creating key pair %s' % name):
            try:
                found = nova.keypairs.get(name)
            except nova_exc.NotFound:
                found = None
            if found is not None and found.public_key.strip() == public_key:
                return
            if found is not None:
                nova.keypairs.delete(name)
            try:
                nova.keypairs.create(name, public_key=public_key)
            except nova_exc.Conflict:
                pass  # made meanwhile by another build of the appliance

    def _grant(self, project_id: str) -> None:
        if not self.role:
            return
        with self._lock:
            if project_id in self._granted:
                return
        client = ks_client.Client(session=self.session, **self.endpoint)
        what = 'giving the Exec user role %s on project %s' % (
            self.role,
            project_id,
        )
        with errors.translated(what):
            roles = client.roles.list(name=self.role)
            if not roles:
                raise driver.PermanentError(
                    '%s: no role %s at this site ([exec]owner_project_role)'
                    % (what, self.role)
                )
            try:
                client.roles.grant(
                    roles[0].id,
                    user=self.session.get_user_id(),
                    project=project_id,
                )
            except ks_exc.NotFound as exc:
                # The identity sync has not made the project here yet.
                raise driver.TransientError(
                    '%s: no such project at this site yet (%s)' % (what, exc)
                ) from exc
        with self._lock:
            self._granted.add(project_id)
