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

"""The start of one site, as a small graph of parallel tasks.

Start-up is CPU-bound (each OpenStack CLI spends seconds importing), so
whatever does not depend on something else runs at the same time:

* the vhost; the keystone chain (db_sync, fernet and credential keys in
  parallel, then bootstrap, then uwsgi); glance and placement (db sync,
  then uwsgi); the nova databases (api_db sync, map_cell0, create_cell,
  db sync, in that order); neutron (db migrations, then uwsgi, then a
  network list through the catalog once that exists) or its stub;
* nova-conductor and nova-scheduler as soon as the nova databases and
  the vhost exist, then nova-api;
* the catalog as soon as keystone answers;
* nova-compute only once the conductor consumes its queue (otherwise its
  first RPC is lost and it waits 10 s to retry); then readiness (service
  up and resource provider with inventory), discover_hosts, and the
  hypervisor list; the flavors and the image meanwhile.

Each finished phase reports one line with the seconds since the start.
A failure sets `abort`, which stops the other tasks at their next step.
"""

from __future__ import annotations

import grp
import os
import pwd
import sys
import time
from collections.abc import Callable
from concurrent import futures
from typing import TYPE_CHECKING
from typing import Any

from tests.minicloud import backends
from tests.minicloud import catalog
from tests.minicloud import layout as layout_mod
from tests.minicloud import neutron as neutron_mod
from tests.minicloud import neutron_stub
from tests.minicloud import probes
from tests.minicloud import processes
from tests.minicloud import seed
from tests.minicloud import tasks

if TYPE_CHECKING:
    from tests.minicloud import site as site_mod

WAIT = 300.0


class Startup:
    def __init__(self, site: site_mod.Site, started: float) -> None:
        self.site = site
        self.layout = site.layout
        self.started = started
        self.tasks = tasks.Group()
        self.abort = self.tasks.abort
        self.runner = processes.Runner(self.layout, self.abort)

    def say(self, text: str) -> None:
        self.site.say('%6.1fs %s' % (time.monotonic() - self.started, text))

    # Helpers

    def _cli(self, service: str, *args: str) -> list[str]:
        config = {
            'keystone': ('keystone', 'keystone.conf'),
            'glance': ('glance', 'glance-api.conf'),
            'placement': ('placement', 'placement.conf'),
            'nova': ('nova', 'nova.conf'),
        }[service]
        return [
            processes.executable(service + '-manage'),
            '--config-file',
            self.layout.etc(*config),
            *args,
        ]

    def _run(self, phase: str, service: str, *args: str) -> None:
        self.runner.run(phase, service + '-manage', self._cli(service, *args))

    def _wait(
        self, phase: str, what: str, check: Callable[[], Any], daemon: str
    ) -> Any:
        return probes.wait_until(
            phase,
            what,
            check,
            WAIT,
            log_file=self.layout.log(daemon),
            alive=lambda: processes.alive(self.layout, daemon),
            abort=self.abort,
        )

    def _uwsgi(self, name: str, url: str) -> None:
        self.runner.spawn(
            name,
            [
                processes.executable('uwsgi'),
                '--ini',
                self.layout.etc('uwsgi', name + '.ini'),
            ],
        )
        self._wait(
            name, name + ' to answer', lambda: probes.http_answers(url), name
        )

    # Tasks

    def rabbit(self) -> None:
        backends.delete_vhost(self.layout.vhost)
        backends.create_vhost(self.site.base_transport_url, self.layout.vhost)
        self.say('rabbit: vhost %s' % self.layout.vhost)

    def keystone(self) -> None:
        owner = [
            '--keystone-user',
            pwd.getpwuid(os.getuid()).pw_name,
            '--keystone-group',
            grp.getgrgid(os.getgid()).gr_name,
        ]
        tasks.parallel(
            lambda: self._run('keystone db sync', 'keystone', 'db_sync'),
            lambda: self._run(
                'keystone keys', 'keystone', 'fernet_setup', *owner
            ),
            lambda: self._run(
                'keystone keys', 'keystone', 'credential_setup', *owner
            ),
        )
        url = self.layout.keystone_url
        self._run(
            'keystone bootstrap',
            'keystone',
            'bootstrap',
            '--bootstrap-username',
            self.site.admin_username,
            '--bootstrap-password',
            self.site.admin_password,
            '--bootstrap-project-name',
            self.site.admin_project_name,
            '--bootstrap-role-name',
            'admin',
            '--bootstrap-service-name',
            'keystone',
            '--bootstrap-region-id',
            self.layout.name,
            '--bootstrap-admin-url',
            url,
            '--bootstrap-internal-url',
            url,
            '--bootstrap-public-url',
            url,
        )
        self.say('keystone: db synced, keys made, bootstrapped')
        self._uwsgi('keystone', url)
        self.say('keystone: answers at %s' % url)

    def catalog(self, keystone: futures.Future) -> None:
        keystone.result()
        catalog.register(
            self.layout,
            self.site.session(),
            network=self.site.neutron == neutron_mod.REAL,
        )
        self.say('catalog: service users and endpoints registered')

    def glance(self) -> None:
        self._run('glance db sync', 'glance', 'db_sync')
        self._uwsgi('glance', self.layout.glance_url)
        self.say('glance: db synced, answers')

    def placement(self) -> None:
        self._run('placement db sync', 'placement', 'db', 'sync')
        self._uwsgi('placement', self.layout.placement_url)
        self.say('placement: db synced, answers')

    def neutron(self, rabbit: futures.Future, cat: futures.Future) -> None:
        if self.site.neutron == neutron_mod.STUB:
            self.neutron_stub()
            return
        self.runner.run(
            'neutron db sync',
            'neutron-db-manage',
            neutron_mod.db_sync_argv(self.layout),
        )
        # Its app casts to the agents (none) on the vhost.
        rabbit.result()
        self._uwsgi('neutron', self.layout.neutron_url)
        self.say(
            'neutron: db migrated, answers at %s' % self.layout.neutron_url
        )
        # Ready means ready for nova: the catalog finds it and its token
        # check (user neutron) passes.
        cat.result()
        network = probes.network(self.site.session(), self.layout.name)
        self._wait(
            'neutron',
            'neutron to list networks through the catalog',
            lambda: probes.lists_networks(network),
            'neutron',
        )
        self.say('neutron: networks listed through the catalog')

    def neutron_stub(self) -> None:
        self.runner.spawn(
            'neutron-stub',
            [
                sys.executable,
                neutron_stub.__file__,
                '--port',
                str(self.layout.port(layout_mod.NEUTRON)),
            ],
        )
        url = self.layout.neutron_url + '/v2.0/networks'
        self._wait(
            'neutron-stub',
            'the neutron stub to answer',
            lambda: probes.http_answers(url),
            'neutron-stub',
        )

    def nova_databases(self) -> None:
        phase = 'nova db sync'
        self._run(phase, 'nova', 'api_db', 'sync')
        cell0 = self.site.database('nova_cell0')
        self._run(
            phase,
            'nova',
            'cell_v2',
            'map_cell0',
            '--database_connection',
            cell0,
        )
        # create_cell takes [database]connection and transport_url from
        # nova.conf.
        self._run(phase, 'nova', 'cell_v2', 'create_cell', '--name', 'cell1')
        self._run(phase, 'nova', 'db', 'sync')
        self.say('nova: api, cell0 and cell1 databases synced')

    def nova_services(
        self, rabbit: futures.Future, databases: futures.Future
    ) -> None:
        rabbit.result()
        databases.result()
        config = self.layout.etc('nova', 'nova.conf')
        for name in ('nova-conductor', 'nova-scheduler'):
            self.runner.spawn(
                name, [processes.executable(name), '--config-file', config]
            )
        self.say('nova: conductor and scheduler started')
        self._uwsgi('nova-api', self.layout.nova_url)
        self.say('nova: api answers at %s' % self.layout.nova_url)

    def compute(self, *needed: futures.Future) -> None:
        for future in needed:
            future.result()
        transport_url = self.site.transport_url
        self._wait(
            'nova-conductor',
            'a consumer on queue conductor',
            lambda: backends.consumers(transport_url, 'conductor'),
            'nova-conductor',
        )
        name = 'nova-compute'
        self.runner.spawn(
            name,
            [
                processes.executable(name),
                '--config-file',
                self.layout.etc('nova', 'nova-compute.conf'),
            ],
        )
        self.say('nova: conductor consumes; nova-compute started')
        sess = self.site.session()
        nova = probes.compute(sess, self.layout.name)
        placement = probes.placement(sess, self.layout.name)
        host = self.layout.compute_host
        self._wait(
            name,
            'compute service %s up' % host,
            lambda: probes.compute_service_up(nova, host),
            name,
        )
        self._wait(
            name,
            'a resource provider with inventory for %s' % host,
            lambda: probes.provider_inventory(placement, host),
            name,
        )
        self.say('nova: compute service up, resource provider in placement')
        # os-hypervisors hides compute nodes that have no host mapping:
        # map first, then look.
        self._run('discover hosts', 'nova', 'cell_v2', 'discover_hosts')
        self._wait(
            'discover hosts',
            'hypervisor %s listed' % host,
            lambda: probes.hypervisor_listed(nova, host),
            'nova-api',
        )
        self.say('nova: host discovered, hypervisor listed')

    def seed(self, *needed: futures.Future) -> None:
        for future in needed:
            future.result()
        sess = self.site.session()
        seed.flavors(sess, self.layout.name)
        seed.image(sess, self.layout.name)
        self.say(
            'seed: flavors %s, image %s'
            % (' '.join(seed.FLAVORS), seed.IMAGE_NAME)
        )

    def run(self) -> None:
        with futures.ThreadPoolExecutor(max_workers=10) as pool:

            def task(
                phase: str,
                log: str | None,
                fn: Callable[..., None],
                *args: Any,
            ) -> futures.Future:
                return pool.submit(self.tasks.guard, phase, log, fn, *args)

            lay = self.layout
            rabbit = task('rabbit vhost', None, self.rabbit)
            keystone = task('keystone', lay.log('keystone'), self.keystone)
            glance = task('glance', lay.log('glance'), self.glance)
            placement = task('placement', lay.log('placement'), self.placement)
            databases = task('nova db sync', None, self.nova_databases)
            cat = task('catalog', lay.log('keystone'), self.catalog, keystone)
            network = task(
                'neutron',
                lay.log(self.site.neutron_daemon),
                self.neutron,
                rabbit,
                cat,
            )
            services = task(
                'nova services',
                lay.log('nova-api'),
                self.nova_services,
                rabbit,
                databases,
            )
            compute = task(
                'nova-compute',
                lay.log('nova-compute'),
                self.compute,
                cat,
                placement,
                network,
                services,
            )
            seeding = task(
                'seed', lay.log('glance'), self.seed, cat, glance, services
            )
            every = [
                rabbit,
                keystone,
                glance,
                placement,
                network,
                databases,
                cat,
                services,
                compute,
                seeding,
            ]
            try:
                futures.wait(every, return_when=futures.FIRST_EXCEPTION)
            except BaseException:
                # Ctrl-C: end the tasks quickly, the pool waits for them.
                self.abort.set()
                raise
            if self.tasks.first_error is not None:
                # Let the other tasks see `abort` and end, then report the
                # root cause rather than a task that only depended on it.
                futures.wait(every)
                raise self.tasks.first_error
