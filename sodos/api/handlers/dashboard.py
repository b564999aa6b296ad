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

"""The live status page: its shell, its static files and its snapshot.

The shell (``/dashboard``) and its static files hold no data and are
answered without a token, as a browser cannot send ``X-Auth-Token``
when it opens a page; the data comes from ``/v1/dashboard``, behind the
same authentication and policy as the rest of the API (the page asks
for a token when the API wants one).
"""

from __future__ import annotations

import html
import importlib.resources
import os
import time

import webob

from sodos.api import errors
from sodos.api import util
from sodos.api.dashboard import snapshot as snapshot_mod
from sodos.api.policies import dashboard as policies

PAGE = '/dashboard'
STATIC = PAGE + '/static'
_TYPES = {
    '.js': 'text/javascript',
    '.css': 'text/css',
    '.json': 'application/json',
}
# No inline script or style, and nothing from another origin.
_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'"
)


def _d3_path() -> str:
    # D3 as Horizon ships it (the XStatic-D3 package): updated with pip.
    import xstatic.pkg.d3

    return os.path.join(xstatic.pkg.d3.BASE_DIR, 'd3.js')


def _ours(name: str) -> bytes:
    files = importlib.resources.files('sodos.api.dashboard')
    return files.joinpath('static', name).read_bytes()


def _file(name: str) -> bytes:
    if name == 'd3.js':
        with open(_d3_path(), 'rb') as f:
            return f.read()
    return _ours(name)


ASSETS = frozenset({'d3.js', 'dashboard.js', 'dashboard.css', 'world.json'})


def page(req: webob.Request) -> webob.Response:
    base = html.escape(req.script_name, quote=True)
    text = (
        _ours('dashboard.html')
        .decode('utf-8')
        .replace('@STATIC@', base + STATIC)
        .replace('@SNAPSHOT@', base + '/v1/dashboard')
    )
    response = webob.Response(
        content_type='text/html', charset='utf-8', text=text
    )
    response.headers['Content-Security-Policy'] = _CSP
    response.headers['Cache-Control'] = 'no-cache'
    return response


def asset(req: webob.Request, name: str) -> webob.Response:
    if name not in ASSETS:
        raise errors.not_found(
            'no file %r of the status page (%s)'
            % (name, ', '.join(sorted(ASSETS)))
        )
    extension = os.path.splitext(name)[1]
    response = webob.Response(content_type=_TYPES[extension], body=_file(name))
    if extension != '.json':
        response.charset = 'utf-8'
    response.headers['Cache-Control'] = 'max-age=300'
    return response


def snapshot(req: webob.Request) -> webob.Response:
    util.authorize(req, policies.GET)
    util.query(req, {})
    svc = util.services(req)
    with util.knowmon_errors(svc.site):
        status = svc.knowmon.status()
    kb = {name: util.read(req, name) for name in snapshot_mod.SECTIONS}
    response = util.respond(snapshot_mod.build(kb, status, time.time()))
    response.headers['Cache-Control'] = 'no-store'
    return response
