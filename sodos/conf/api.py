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

"""The REST API's options, and those of the libraries it is built on.

oslo.policy's ``[oslo_policy]`` options are registered from its own
list. keystonemiddleware registers ``[keystone_authtoken]`` itself when
the API builds its auth_token middleware: importing it costs every other
sodos process tens of megabytes. The sample config lists both under
their own namespaces.
"""

from oslo_config import cfg
from oslo_policy import opts as policy_opts

from sodos.conf import base

GROUP = cfg.OptGroup(
    'api',
    title='REST API',
    help='The sodos REST API: served by uwsgi (sodos.wsgi.api:application)'
    ' or, in one process with the other roles, by the "api" role of '
    'sodos-site.',
)

OPTS: list[cfg.Opt] = [
    cfg.HostAddressOpt(
        'bind_host',
        default='127.0.0.1',
        help='Address the "api" role of sodos-site listens on. Under '
        'uwsgi, its own --http-socket applies instead.',
    ),
    cfg.PortOpt(
        'bind_port',
        default=8787,
        help='Port the "api" role of sodos-site listens on (the port of '
        'the "sodos" service in the Keystone catalog).',
    ),
    cfg.StrOpt(
        'auth_strategy',
        default='keystone',
        choices=[
            (
                'keystone',
                'Keystone tokens, checked by keystonemiddleware '
                '([keystone_authtoken] options), and oslo.policy rules.',
            ),
            (
                'noauth',
                'No authentication: every request acts as an '
                'admin. Only for local simulated federations and tests.',
            ),
        ],
        help='How requests are authenticated.',
    ),
    cfg.IntOpt(
        'backlog',
        default=128,
        min=1,
        help='Connections the kernel holds for the "api" role of '
        'sodos-site while its server is busy accepting others (the listen '
        'backlog, capped by net.core.somaxconn). A burst of clients larger '
        'than this may see its connections dropped or reset before a '
        "request is read. 128 is the default of the OpenStack services' "
        'WSGI servers (oslo.service). Under uwsgi, --listen applies instead.',
    ),
    cfg.IntOpt(
        'threads',
        default=16,
        min=1,
        help='Requests the "api" role of sodos-site serves at once, each '
        'in a thread of its own. Connections beyond them are accepted and '
        'wait their turn. A write holds its thread until the Knowledge '
        'Base has committed it. Under uwsgi, its --processes and '
        '--threads apply instead.',
    ),
    cfg.FloatOpt(
        'client_socket_timeout',
        default=30.0,
        min=1.0,
        help='Seconds the "api" role of sodos-site waits on a silent '
        'client (a request sent in part, a response not read, an idle '
        'kept-alive connection) before closing its connection. A '
        'half-sent request holds a thread for that long, at most.',
    ),
    cfg.FloatOpt(
        'shutdown_timeout',
        default=10.0,
        min=0.0,
        help='Seconds a stopping "api" role of sodos-site gives the '
        'requests it is serving to finish, once it no longer accepts new '
        'connections. Past it their connections are shut and the role '
        'stops without them.',
    ),
    cfg.IntOpt(
        'max_request_body_size',
        default=1024 * 1024,
        min=1024,
        help='Largest request body accepted, in bytes: the API answers '
        '413 to a request that declares a longer one, under uwsgi and in '
        'sodos-site alike; sodos-site reads a chunked body up to it and '
        "refuses it past. The API's JSON bodies are far smaller.",
    ),
    cfg.BoolOpt(
        'expose_site_names_to_tenants',
        default=False,
        mutable=True,
        help="Whether a project's own members, refusals, unplaced reasons "
        'and alerts name the sites by their internal names. When false, a '
        'caller who does not pass the policy rule sodos:site:names (admins '
        'do) sees each site as an opaque label instead (site- and ten hex '
        'digits, the same at every site of the federation and over time), '
        'and may use that label where a spec names sites '
        '(constraints.sites). It hides the names in the appliance and '
        'alert views only: to keep them from tenants altogether, restrict '
        'the rules that show sites too (sodos:site:list, sodos:site:get, '
        'sodos:catalog:list, sodos:dashboard:get, sodos:federation:get).',
    ),
    cfg.FloatOpt(
        'loop_interval',
        default=60.0,
        min=1.0,
        mutable=True,
        help='Seconds between the log lines the "api" role writes about '
        'the requests it served.',
    ),
]

POLICY_FILE = 'policy.yaml'


def register_opts(conf: cfg.ConfigOpts) -> None:
    base.register(conf, GROUP, OPTS)
    # Registers [oslo_policy] with sodos's default policy file name.
    policy_opts.set_defaults(conf, policy_file=POLICY_FILE)


def list_opts() -> dict[cfg.OptGroup, list[cfg.Opt]]:
    return {GROUP: OPTS}
