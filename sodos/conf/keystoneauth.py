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

"""Option groups that hold keystoneauth credentials and session options.

``[site_auth]`` (Exec's own credentials at its site) and
``[image_transfer]`` (the federation user of glance-download) are both
a group of sodos's options plus keystoneauth's session and auth-plugin
options, loaded with ``keystoneauth1.loading``.

keystoneauth's options are registered when the group is first used
(:func:`register_keystoneauth`): keystoneauth1 and requests cost a site
process ~6 MB, and a site whose Exec has no OpenStack to talk to (the
simulator) never needs them. oslo.config keeps what the files say for
options registered later.
"""

from __future__ import annotations

from oslo_config import cfg

from sodos.conf import base


def register(conf: cfg.ConfigOpts, group: cfg.OptGroup, opts: list) -> None:
    """Register ``opts`` in ``group`` (keystoneauth's come on first use)."""
    base.register(conf, group, opts)


def register_keystoneauth(conf: cfg.ConfigOpts, group: str) -> None:
    """Register keystoneauth's session and auth options in ``group``;
    call before loading a session from it (again is harmless)."""
    from keystoneauth1 import loading as ks_loading

    ks_loading.register_session_conf_options(conf, group)
    ks_loading.register_auth_conf_options(conf, group)


def listed(opts: list) -> list:
    """``opts`` and keystoneauth's, for the sample and the reference
    (the password plugin's options as the example)."""
    from keystoneauth1 import loading as ks_loading

    return (
        opts
        + ks_loading.get_session_conf_options()
        + ks_loading.get_auth_common_conf_options()
        + ks_loading.get_auth_plugin_conf_options('password')
    )
