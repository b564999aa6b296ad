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

import pytest
from oslo_config import cfg

from sodos import conf as sodos_conf
from sodos.db import api
from sodos.db import migration


def make_conf(state_path, connection=None):
    conf = cfg.ConfigOpts()
    sodos_conf.register_opts(conf)
    conf([], project='sodos', default_config_files=[])
    conf.set_override('state_path', str(state_path))
    if connection is not None:
        conf.set_override('connection', connection, 'database')
    return conf


@pytest.fixture
def empty_db(tmp_path):
    """A config whose database (SQLite in tmp_path) has no schema yet."""
    conf = make_conf(tmp_path)
    yield conf
    api.dispose(conf)


@pytest.fixture
def db(empty_db):
    """A config whose database is migrated to the head revision."""
    migration.upgrade(empty_db)
    return empty_db
