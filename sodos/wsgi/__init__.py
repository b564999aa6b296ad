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

"""WSGI entry points of sodos, for uwsgi and other WSGI servers."""

from __future__ import annotations

import os

from oslo_config import cfg
from oslo_log import log

from sodos import service
from sodos.api import deploy
from sodos.knowmon import rpcapi

CONFIG_FILE_ENV = 'SODOS_CONFIG_FILE'
CONFIG_DIR_ENV = 'SODOS_CONFIG_DIR'
DEFAULT_CONFIG_DIR = '/etc/sodos'


def _config_sources() -> tuple[list[str], list[str]]:
    """The config files and dirs: ``SODOS_CONFIG_FILE`` (and
    ``SODOS_CONFIG_DIR``), else /etc/sodos/sodos.conf and sodos.conf.d."""
    config_file = os.environ.get(CONFIG_FILE_ENV)
    config_dir = os.environ.get(CONFIG_DIR_ENV)
    if config_file:
        files = [config_file]
    else:
        default = os.path.join(DEFAULT_CONFIG_DIR, 'sodos.conf')
        files = [default] if os.path.exists(default) else []
    if config_dir:
        dirs = [config_dir]
    else:
        default_dir = os.path.join(DEFAULT_CONFIG_DIR, 'sodos.conf.d')
        dirs = [default_dir] if os.path.isdir(default_dir) else []
    return files, dirs


def init_application() -> deploy.Application:
    """Read the configuration, set up logging, build the API.

    The API reaches this site's KnowMon over the message bus
    (``[DEFAULT]transport_url``).
    """
    conf = cfg.ConfigOpts()
    service.register_opts(conf)
    files, dirs = _config_sources()
    conf(
        [],
        project='sodos',
        default_config_files=files,
        default_config_dirs=dirs,
    )
    service.check_values(conf)
    log.setup(conf, 'sodos')
    return deploy.deploy(conf, rpcapi.KnowMonAPI(conf))
