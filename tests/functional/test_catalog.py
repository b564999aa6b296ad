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

"""The federated catalog of real sodos-site processes (simulated sites):
each site publishes its catalog, every API lists them all, and with
[identity]publish_remote_endpoints each site's Keystone lists the other's
region."""

from sodos.exec.drivers.simulator import catalog as simulator_catalog
from sodos.sim import federation
from tests.functional.test_api import api_config
from tests.functional.test_api import call
from tests.functional.test_api import wait

SETTINGS = dict(
    federation.FAST_SIMULATED_SETTINGS,
    identity={'mode': 'off', 'publish_remote_endpoints': True},
)


def test_every_api_lists_every_sites_endpoints(local_federation):
    fed = local_federation(
        voter_count=1,
        roles=('knowmon', 'exec', 'api'),
        settings=SETTINGS,
    )
    bases = {}
    for _ in range(2):
        site = fed.add_site(start=False)
        bases[site.name] = api_config(site)
        site.start()

    def regions(base, query=''):
        status, body = call(base, 'GET', '/v1/catalog' + query)
        if status != 200:
            return status, body
        return {(r['site'], r['region']) for r in body['catalog']}

    both = {('site-1', 'site-1'), ('site-2', 'site-2')}
    for base in bases.values():
        wait(
            'both sites in the catalog',
            lambda base=base: regions(base) == both or regions(base),
        )
    status, body = call(
        bases['site-2'],
        'GET',
        '/v1/catalog?region=site-1&service_type=image',
    )
    assert status == 200, body
    assert [(r['interface'], r['url']) for r in body['catalog']] == [
        ('internal', simulator_catalog.url('site-1', 'internal', 9292)),
        ('public', simulator_catalog.url('site-1', 'public', 9292)),
    ]
    status, body = call(bases['site-1'], 'GET', '/v1/catalog?regoin=x')
    assert (status, body['error']['code']) == (400, 'invalid_query')
    # Each site's (simulated) Keystone now lists the other's region.
    for name, other in (('site-1', 'site-2'), ('site-2', 'site-1')):
        wait(
            '%s to list region %s' % (name, other),
            lambda name=name, other=other: (
                'catalog: create region %s' % other in fed.sites[name].log()
            ),
        )
