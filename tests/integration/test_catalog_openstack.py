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

"""The federated catalog at three real OpenStack sites.

Three ``sodos-site`` processes with the REST API, each driving its own
minicloud Keystone with ``[identity]publish_remote_endpoints``: every
site publishes its catalog in the KB, ``GET /v1/catalog`` lists the three
regions, and every Keystone lists the other sites' regions and public
endpoints, so that a token of one site finds the others' Glance by
region. A site that leaves is removed from the others' Keystone.

The minicloud Keystones are shared with the other integration modules,
which expect each to list its own region only: whatever this module
made there is removed at its end, and checked gone.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from keystoneclient.v3 import client as ks_client

from sodos.exec.catalog import plan as catalog_plan
from sodos.sim import ports
from tests.integration import sodos_sites as sodos_sites_mod
from tests.integration.conftest import SITE_NAMES

WAIT = 120.0


_store = sodos_sites_mod.catalog_store
_clean = sodos_sites_mod.remove_remote_regions


@pytest.fixture(scope='module')
def api_urls():
    return {}


@pytest.fixture(scope='module')
def sodos_sites(minicloud_sites, tmp_path_factory, api_urls):
    """Three sodos sites with the API, listing each other's endpoints."""

    def tune(settings):
        region = settings['site_auth']['region_name']
        port = ports.free_port()
        api_urls[region] = 'http://127.0.0.1:%d' % port
        settings['DEFAULT'] = {
            'roles': ['knowmon', 'exec', 'analyseplan', 'api']
        }
        settings['api'] = {'bind_port': port, 'auth_strategy': 'noauth'}
        settings['identity'] = {
            'mode': 'off',
            'publish_remote_endpoints': True,
        }

    # Left over by an interrupted earlier run, say.
    _clean(minicloud_sites)
    try:
        with sodos_sites_mod.running_federation(
            minicloud_sites,
            str(tmp_path_factory.mktemp('sodos-catalog')),
            tune=tune,
        ) as fed:
            yield fed
    finally:
        _clean(minicloud_sites)
        for mc in minicloud_sites.values():
            regions = _keystone(mc).regions.list()
            assert [r.id for r in regions] == [mc.region]


def _keystone(mc: Any) -> ks_client.Client:
    return ks_client.Client(session=mc.session(), region_name=mc.region)


def _get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _wait(what: str, predicate: Any, timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last is True:
            return
        time.sleep(1.0)
    raise AssertionError('timed out waiting for %s; last: %r' % (what, last))


def _listed(mc: Any) -> dict[str, Any]:
    """Region -> (its description, {service type: public url}) as the
    site's Keystone lists them."""
    keystone = _keystone(mc)
    services = {s.id: s.type for s in keystone.services.list()}
    out: dict[str, Any] = {
        r.id: (r.description or '', {}) for r in keystone.regions.list()
    }
    for ep in keystone.endpoints.list(interface='public'):
        region = ep.region_id or ''
        out.setdefault(region, ('', {}))[1][services[ep.service_id]] = ep.url
    return out


def _lists_the_others(mc: Any, others: list[Any]) -> Any:
    listed = _listed(mc)
    wanted = {
        other.region: (catalog_plan.mark(other.name), other.glance_url)
        for other in others
    }
    got = {
        region: (desc, services.get('image'))
        for region, (desc, services) in listed.items()
        if region != mc.region
    }
    return got == wanted or got


def test_every_keystone_lists_the_other_sites(minicloud_sites, sodos_sites):
    sites = [minicloud_sites[name] for name in SITE_NAMES]
    for mc in sites:
        others = [o for o in sites if o is not mc]
        _wait(
            '%s to list the other regions' % mc.name,
            lambda mc=mc, others=others: _lists_the_others(mc, others),
        )
        listed = _listed(mc)
        # Its own region is as it was: the same services, untouched.
        assert listed[mc.region][0] == ''
        assert listed[mc.region][1]['image'] == mc.glance_url
        # A token of this site finds the others' Glance by region, as
        # `openstack --os-region-name` and glance-download look it up.
        sess = mc.session()
        access = sess.auth.get_access(sess)
        for other in others:
            assert (
                access.service_catalog.url_for(
                    service_type='image',
                    interface='public',
                    region_name=other.region,
                )
                == other.glance_url
            )


def test_the_api_lists_the_three_regions(
    minicloud_sites, sodos_sites, api_urls
):
    base = api_urls[SITE_NAMES[0]]
    regions = {minicloud_sites[name].region for name in SITE_NAMES}

    def all_listed():
        status, body = _get(base + '/v1/catalog')
        found = {r['region'] for r in body.get('catalog', [])}
        return (status == 200 and found == regions) or (status, found)

    _wait('the three regions in GET /v1/catalog', all_listed)
    status, body = _get(base + '/v1/catalog?service_type=image')
    assert status == 200, body
    public = {
        (r['site'], r['url'])
        for r in body['catalog']
        if r['interface'] == 'public'
    }
    assert public == {
        (name, minicloud_sites[name].glance_url) for name in SITE_NAMES
    }
    # Published, not copied: the site's own catalog only, never the
    # regions sodos added to its Keystone.
    for row in body['catalog']:
        assert row['region'] == minicloud_sites[row['site']].region


def test_a_site_that_leaves_is_removed_from_the_others(
    minicloud_sites, sodos_sites
):
    leaving = SITE_NAMES[-1]
    done = sodos_sites.sites[leaving].manage(
        'federation', 'leave', '--timeout', '60', timeout=90
    )
    assert done.returncode == 0, done.stderr
    gone = minicloud_sites[leaving]
    for name in SITE_NAMES[:-1]:
        mc = minicloud_sites[name]
        others = [minicloud_sites[o] for o in SITE_NAMES[:-1] if o != name]
        _wait(
            '%s to forget region %s' % (name, gone.region),
            lambda mc=mc, others=others: _lists_the_others(mc, others),
        )
    # The site that left lists nobody's regions any more.
    _wait(
        '%s to remove the regions it made' % leaving,
        lambda: _lists_the_others(gone, []),
    )
