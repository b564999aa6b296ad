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

"""How an image copy gets its bytes: streamed, or pulled by Glance.

``stream``: the receiving site's Exec streams the image from the source
site's relay into its Glance, checking every byte on the way. ``glance-
download``: the receiving site's Glance fetches the image from the
source's Glance by itself (the bytes go Glance to Glance), with the
token of a federation user valid at both sites; sodos compares the
hashes afterwards. The credentials are the usual keystoneauth options,
as in ``[site_auth]``.
"""

from __future__ import annotations

from oslo_config import cfg

from sodos.conf import keystoneauth

GROUP = cfg.OptGroup(
    'image_transfer',
    title='Image transfer',
    help='How this site receives the images the federation copies to '
    "it, and the federation user whose token its Glance's glance-download "
    'import method sends to the source site. Create that user through '
    "the federation's identity (openstack sodos identity user create), "
    'with the admin role on a federation project (it reads images of '
    'every project at the source, and imports into them here); set its '
    "credentials here with this site's Keystone as auth_url. The same "
    'user may serve every site.',
)

STREAM = 'stream'
GLANCE_DOWNLOAD = 'glance-download'
AUTO = 'auto'

OPTS: list[cfg.Opt] = [
    cfg.StrOpt(
        'method',
        default=AUTO,
        mutable=True,
        choices=[
            (
                AUTO,
                'glance-download when [identity]mode is shared, these '
                "credentials are set, the site's Glance offers the "
                "glance-download import method and the site's Keystone "
                "lists the source site's image endpoint; stream otherwise "
                '(the reason is logged once), and when a glance-download '
                'import fails.',
            ),
            (
                STREAM,
                "Exec streams the image from the source site's relay "
                '([image_relay]) into its Glance, verifying on the fly.',
            ),
            (
                GLANCE_DOWNLOAD,
                'Always glance-download: a copy that cannot use it fails '
                "with the reason. For a federation whose users' tokens are "
                'valid at every site by other means than [identity]mode = '
                'shared (one Keystone for every site, say).',
            ),
        ],
        help='How an image copy to this site gets its bytes.',
    ),
    cfg.FloatOpt(
        'import_timeout',
        default=1800.0,
        min=1.0,
        mutable=True,
        help='Seconds a glance-download import may run before the copy '
        'counts as failed for now (a transient error). The import goes '
        'on in Glance; the next attempt waits for it rather than starting '
        'another.',
    ),
    cfg.FloatOpt(
        'poll_interval',
        default=2.0,
        min=0.1,
        mutable=True,
        help='Seconds between two looks at an image being imported by '
        'glance-download.',
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    keystoneauth.register(conf, GROUP, OPTS)


def list_opts() -> dict[cfg.OptGroup, list[cfg.Opt]]:
    return {GROUP: keystoneauth.listed(OPTS)}
