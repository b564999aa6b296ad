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

"""Adoption on three real OpenStack sites in ``[identity]mode = shared``:
a project made by hand in the first site's Keystone becomes a federation
project, with the same id at every site, through the real ``openstack
sodos identity project adopt`` command. The federation is set up as in
:mod:`tests.integration.test_identity_shared`."""

from __future__ import annotations

import json

import pytest
from keystoneclient.v3 import client as ks_client

from sodos.identity import model
from tests.integration import sodos_sites as sodos_sites_mod
from tests.integration.conftest import SITE_NAMES
from tests.integration.test_identity_shared import WAIT
from tests.integration.test_identity_shared import keys_kept  # noqa: F401
from tests.integration.test_identity_shared import run_identity_cli
from tests.integration.test_identity_shared import shared_settings
from tests.integration.test_identity_shared import wait_for

PROJECT = 'it-adopted-project'
FIRST = SITE_NAMES[0]


@pytest.fixture(scope='module')
def sodos_sites(minicloud_sites, keys_kept, tmp_path_factory):  # noqa: F811
    try:
        with sodos_sites_mod.running_federation(
            minicloud_sites,
            str(tmp_path_factory.mktemp('sodos-adopt')),
            tune_site=shared_settings,
        ) as fed:
            yield fed
    finally:
        sodos_sites_mod.remove_remote_regions(minicloud_sites)


def cli(*args):
    """``openstack sodos identity ARGS`` against the first site's API."""
    return run_identity_cli(*args, timeout=WAIT + 60)


def keystone(mc):
    return ks_client.Client(session=mc.session(), region_name=mc.region)


def ids_everywhere(minicloud_sites):
    """{site: [ids of the projects named PROJECT]}."""
    return {
        name: [p.id for p in keystone(mc).projects.list(name=PROJECT)]
        for name, mc in minicloud_sites.items()
    }


def test_a_hand_made_project_is_adopted_with_its_id(
    sodos_sites, minicloud_sites
):
    first = minicloud_sites[FIRST]
    made = keystone(first).projects.create(
        PROJECT, domain='default', description='made by hand'
    )
    adopted = False
    try:
        # What the site cannot find is refused, with the site's reason.
        refused = cli(
            'project', 'adopt', 'it-no-such-project', '--site', FIRST,
            '--wait', '--timeout', str(WAIT),
        )  # fmt: skip
        assert refused.returncode == 1, refused.stderr
        assert 'the site has no such project' in refused.stderr
        done = cli(
            'project', 'adopt', PROJECT, '--site', FIRST, '--wait',
            '--timeout', str(WAIT), '-f', 'json',
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        answer = json.loads(done.stdout)
        adopted = True
        assert answer['state'] == 'done'
        # Shared identity: the site's id is the federation's.
        assert answer['object_id'] == answer['site_id'] == made.id
        shown = cli('project', 'show', PROJECT, '-f', 'json')
        project = json.loads(shown.stdout)
        assert (project['id'], project['description']) == (
            made.id,
            'made by hand',
        )
        # Every site has it, under the same id.
        wait_for(
            lambda: all(
                ids == [made.id]
                for ids in ids_everywhere(minicloud_sites).values()
            ),
            '%s with id %s at every site' % (PROJECT, made.id),
        )
        marked = keystone(first).projects.get(made.id).to_dict()
        assert marked.get(model.MARKER) == made.id
    finally:
        if adopted:
            deleted = cli('project', 'delete', PROJECT)
            assert deleted.returncode == 0, deleted.stderr
        else:
            keystone(first).projects.delete(made.id)
    # Deleted through the federation: gone from every site.
    wait_for(
        lambda: not any(ids_everywhere(minicloud_sites).values()),
        '%s deleted at every site' % PROJECT,
    )
