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


"""The site's Neutron as a network store (sodos.exec.networks.store).

A keystoneauth Adapter on the driver's session, on Neutron's v2.0 API
(stable, no microversions); python-neutronclient's bindings are
deprecated and openstacksdk would be a dependency for six calls. Every
resource is made in a given project: with admin credentials an
unfiltered list would show every project's.
"""

from __future__ import annotations

from typing import Any

from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session

from sodos.exec.drivers.openstack import errors
from sodos.exec.networks import store as store_mod

_NETWORK_FIELDS = ('id', 'name', 'description', 'project_id')


class NeutronNetworks:
    def __init__(
        self, session: ks_session.Session, endpoint: dict[str, Any]
    ) -> None:
        self.session = session
        self.neutron = ks_adapter.Adapter(
            session, service_type='network', **endpoint
        )

    def project_id(self, project: str | None) -> str:
        if project:
            return project
        with errors.translated('reading the project of [site_auth]'):
            found = self.session.get_project_id()
        return str(found)

    def networks(
        self, project: str, name: str | None = None
    ) -> list[dict[str, Any]]:
        query = {'project_id': project, 'fields': list(_NETWORK_FIELDS)}
        if name is not None:
            query['name'] = name
        return self._list('networks', query)

    def made_in(self) -> set[str]:
        query = {
            'description': store_mod.MADE_BY_SODOS,
            'fields': ['project_id', 'description'],
        }
        return {
            r['project_id']
            for path in ('networks', 'security-groups')
            for r in self._list(path, dict(query))
            # Filtered here too: a Neutron without description filtering
            # answers every project's resources.
            if r.get('description') == store_mod.MADE_BY_SODOS
        }

    def create_network(self, project: str, name: str) -> dict[str, Any]:
        return self._create(
            'network',
            {
                'name': name,
                'project_id': project,
                'description': store_mod.MADE_BY_SODOS,
            },
        )

    def delete_network(self, network_id: str) -> bool:
        return self._delete('networks', network_id)

    def subnets(self, network_id: str) -> list[dict[str, Any]]:
        return self._list(
            'subnets',
            {
                'network_id': network_id,
                'fields': ['id', 'network_id', 'cidr', 'description'],
            },
        )

    def create_subnet(
        self, project: str, network_id: str, name: str, cidr: str
    ) -> dict[str, Any]:
        return self._create(
            'subnet',
            {
                'name': name,
                'network_id': network_id,
                'project_id': project,
                'cidr': cidr,
                'ip_version': 4,
                'enable_dhcp': True,
                'description': store_mod.MADE_BY_SODOS,
            },
        )

    def security_groups(
        self, project: str, name: str | None = None
    ) -> list[dict[str, Any]]:
        query: dict[str, Any] = {'project_id': project}
        if name is not None:
            query['name'] = name
        groups = self._list('security-groups', query)
        for group in groups:
            group['rules'] = group.pop('security_group_rules', [])
        return groups

    def create_security_group(self, project: str, name: str) -> dict[str, Any]:
        made = self._create(
            'security_group',
            {
                'name': name,
                'project_id': project,
                'description': store_mod.MADE_BY_SODOS,
            },
            path='security-groups',
        )
        made['rules'] = made.pop('security_group_rules', [])
        return made

    def add_rule(
        self, project: str, group_id: str, rule: dict[str, Any]
    ) -> None:
        body = dict(rule, security_group_id=group_id, project_id=project)
        try:
            self._create(
                'security_group_rule',
                {k: v for k, v in body.items() if v is not None},
                path='security-group-rules',
            )
        except errors.driver.TransientError as exc:
            # 409: the rule exists already (a run cut short after it).
            if not isinstance(exc.__cause__, ks_exc.Conflict):
                raise

    def delete_security_group(self, group_id: str) -> bool:
        return self._delete('security-groups', group_id)

    # -- helpers ------------------------------------------------------------

    def _list(self, path: str, query: dict[str, Any]) -> list[dict[str, Any]]:
        with errors.translated('listing %s' % path):
            body = self.neutron.get(
                '/v2.0/%s' % path, params=query, raise_exc=True
            ).json()
        found: list[dict[str, Any]] = body[path.replace('-', '_')]
        return found

    def _create(
        self, kind: str, fields: dict[str, Any], path: str | None = None
    ) -> dict[str, Any]:
        path = path or kind + 's'
        with errors.translated('creating %s %s' % (kind, fields.get('name'))):
            body = self.neutron.post(
                '/v2.0/%s' % path, json={kind: fields}, raise_exc=True
            ).json()
        made: dict[str, Any] = body[kind]
        return made

    def _delete(self, path: str, resource_id: str) -> bool:
        try:
            with errors.translated('deleting %s %s' % (path, resource_id)):
                try:
                    self.neutron.delete(
                        '/v2.0/%s/%s' % (path, resource_id), raise_exc=True
                    )
                except ks_exc.NotFound:
                    pass
        except errors.driver.TransientError as exc:
            # 409: ports still use it; the next collect tries again.
            if isinstance(exc.__cause__, ks_exc.Conflict):
                return False
            raise
        return True
