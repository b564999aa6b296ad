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

"""sodos sites in front of the session's minicloud sites.

Each integration module starts its own small federation (its own Raft
members and settings) over the minicloud sites the session shares.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import types
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

from sodos.exec.catalog import sync as catalog_sync
from sodos.exec.drivers.openstack import catalog as ks_catalog
from sodos.sim import federation
from tests import clouds
from tests.integration.conftest import SITE_NAMES


def exec_settings(mc: Any) -> dict[str, dict[str, Any]]:
    """Config of a sodos site whose Exec drives minicloud site ``mc``."""
    return {
        'exec': {
            'driver': 'openstack',
            'loop_interval': 0.5,
            'poll_interval': 0.5,
            'retry_delay': 0.5,
            'monitor_interval': 600,
            'notifications_url': mc.transport_url,
        },
        'site_auth': clouds.site_auth(mc),
    }


def wait_for(
    check: Callable[[], Any], what: str, timeout: float = 120.0
) -> Any:
    """Poll ``check`` until it returns something true; return that."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.5)
    raise AssertionError(
        '%s not seen in %.0f s (last: %r)' % (what, timeout, last)
    )


def catalog_store(mc: Any) -> ks_catalog.KeystoneCatalog:
    """The catalog store Exec uses, on the minicloud admin session."""
    conf = types.SimpleNamespace(
        site_auth=types.SimpleNamespace(
            region_name=mc.region, valid_interfaces=['public']
        )
    )
    return ks_catalog.KeystoneCatalog(conf, mc.session())


@contextlib.contextmanager
def fernet_keys_kept(
    minicloud_sites: dict[str, Any], saved: str
) -> Iterator[None]:
    """The sites' own fernet keys, saved under ``saved`` and put back at
    the end of a shared-identity federation: the other tests' services
    keep working (they re-authenticate either way)."""
    for name in SITE_NAMES:
        shutil.copytree(
            minicloud_sites[name].layout.data('fernet-keys'),
            os.path.join(saved, name),
        )
    try:
        yield
    finally:
        for name in SITE_NAMES:
            repo = minicloud_sites[name].layout.data('fernet-keys')
            for old in os.listdir(repo):
                os.remove(os.path.join(repo, old))
            kept = os.path.join(saved, name)
            for key in os.listdir(kept):
                shutil.copy2(os.path.join(kept, key), os.path.join(repo, key))


def kill_site(
    fed: federation.LocalFederation, minicloud_sites: dict[str, Any], name: str
) -> None:
    """The whole site ``name`` goes at once: its sodos process and its
    OpenStack services are SIGKILLed. Its sodos site stays dead; its
    OpenStack services are rebuilt afresh before the next module that
    uses the minicloud sites (conftest)."""
    fed.sites[name].kill()
    minicloud_sites[name].stop(grace=0)


def remove_remote_regions(minicloud_sites: dict[str, Any]) -> None:
    """Remove what [identity]publish_remote_endpoints made in every
    Keystone: the other tests expect each to list its own region only."""
    for mc in minicloud_sites.values():
        catalog_sync.remove_all(catalog_store(mc))


@contextlib.contextmanager
def running_federation(
    minicloud_sites: dict[str, Any],
    workdir: str,
    names: list[str] | None = None,
    voter_count: int = 1,
    tune: Callable[[dict[str, Any]], None] | None = None,
    timeout: float = 120.0,
    tune_site: Callable[[dict[str, Any], Any], None] | None = None,
) -> Iterator[federation.LocalFederation]:
    """A sodos federation, one site per named minicloud site, all up.

    ``tune(settings)`` may change each site's settings before it starts,
    ``tune_site(settings, minicloud_site)`` the same knowing its site.
    The sites' logs are printed at the end (pytest shows them for a
    failed test).
    """
    names = list(names or SITE_NAMES)
    first = minicloud_sites[names[0]]
    fed = federation.LocalFederation(
        workdir,
        voter_count=voter_count,
        transport_url=first.base_transport_url,
    )
    with fed:
        for name in names:
            site = fed.add_site(name, start=False)
            settings = exec_settings(minicloud_sites[name])
            if tune is not None:
                tune(settings)
            if tune_site is not None:
                tune_site(settings, minicloud_sites[name])
            site.write_config(**settings)
            site.start()
        try:
            fed.wait(
                lambda r: (
                    len(r['members']) == len(names)
                    and all(m['status'] == 'up' for m in r['members'])
                    # One voter is the leader itself; more must be seen.
                    and (
                        voter_count == 1
                        or sum(v['connected'] for v in r['voters'])
                        == voter_count
                    )
                ),
                timeout,
                '%d sodos sites up, %d voters' % (len(names), voter_count),
            )
            yield fed
        finally:
            for site in fed.sites.values():
                print(
                    '---- log of %s ----\n%s' % (site.name, site.log()[-6000:])
                )
