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

import os

from oslo_config import cfg
from oslo_db import options as db_options

# The history store (old samples, closed alerts, executed actions) is
# local to each site: SQLite under [DEFAULT]state_path unless the operator
# points [database]connection at MySQL/MariaDB.
DEFAULT_CONNECTION = 'sqlite:///' + os.path.join('$state_path', 'sodos.sqlite')


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register oslo.db's [database] options with the sodos default."""
    db_options.set_defaults(conf, connection=DEFAULT_CONNECTION)


def list_opts() -> dict[str, list[cfg.Opt]]:
    return {'database': list(db_options.database_opts)}
