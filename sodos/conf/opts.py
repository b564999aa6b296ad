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

"""Options for oslo-config-generator (entry point oslo.config.opts)."""

from oslo_config import cfg
from oslo_db import options as db_options

from sodos import conf
from sodos.conf import database


def list_opts() -> list[tuple[object, list[cfg.Opt]]]:
    """Every sodos option group, as (group, options) pairs."""
    found: list[tuple[object, list[cfg.Opt]]] = []
    for module in conf.MODULES:
        for group, opts in module.list_opts().items():
            found.append((group, opts))
    return found


def set_lib_defaults() -> None:
    """Library defaults sodos changes (oslo.config.opts.defaults hook).

    Only oslo-config-generator calls this, before it lists the options, so
    that the sample shows the defaults sodos gives them. It changes the
    library's option objects themselves, as the hook is meant to; a
    running service gets the same defaults on its own ConfigOpts from
    :func:`sodos.conf.register_opts`.
    """
    cfg.set_defaults(
        db_options.database_opts, connection=database.DEFAULT_CONNECTION
    )
