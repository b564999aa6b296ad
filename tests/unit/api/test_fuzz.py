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

"""Random requests at every route: never a 5xx, always a contract error.

Methods, paths (the route table's, with random and valid segments, and
random ones), query strings and bodies (JSON of any shape, or bytes)
are drawn by hypothesis.
"""

import json
import re
import urllib.parse

import pytest
import webob
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from sodos.api import errors
from sodos.api import handler
from sodos.api.handlers import dashboard
from sodos.db import api as db_api
from sodos.db import migration
from tests.unit.api.conftest import A

METHODS = ['GET', 'POST', 'PATCH', 'DELETE', 'PUT', 'HEAD', 'OPTIONS']
SEGMENTS = st.one_of(
    st.sampled_from(['here', 's2', 'mars', A, 'e' * 32, '..', '']),
    st.text(max_size=70),
)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from(['here', 's2', A]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    'appliance',
                    'name',
                    'members',
                    'fail_sites',
                    'drain_sites',
                    'reason',
                    'comment',
                    'labels',
                    'location',
                    'lat',
                    'lon',
                    'pue',
                    'region',
                ]
            )
            | st.text(max_size=10),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@st.composite
def paths(draw):
    if draw(st.booleans()):
        template = draw(st.sampled_from(sorted(handler.ROUTES)))
        return re.sub(
            r'\{\w+\}',
            lambda _: urllib.parse.quote(draw(SEGMENTS), safe=''),
            template,
        )
    return '/' + urllib.parse.quote(draw(st.text(max_size=40)), safe='/')


QUERIES = st.dictionaries(
    st.sampled_from(['state', 'site', 'limit']) | st.text(max_size=8),
    st.sampled_from(['open', 'all', 'here', '5', '0', '-1'])
    | st.text(max_size=8),
    max_size=3,
)
PAGE_TYPES = ('text/html', 'text/javascript', 'text/css', 'application/json')
BODIES = st.one_of(
    st.none(),
    JSON.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=64),
)


@pytest.fixture
def app(make_app, fed, conf):
    # The history routes read a real (empty) history store.
    migration.upgrade(conf)
    yield make_app('noauth')
    db_api.dispose(conf)


@settings(
    max_examples=200,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    method=st.sampled_from(METHODS),
    path=paths(),
    query=QUERIES,
    body=BODIES,
)
def test_no_request_makes_a_5xx_or_a_foreign_error(
    app, method, path, query, body
):
    url = path + ('?' + urllib.parse.urlencode(query) if query else '')
    req = webob.Request.blank(url, method=method)
    if body is not None:
        req.body = body
        req.content_type = 'application/json'
    resp = req.get_response(app)
    assert resp.status_int < 500, resp.text
    assert resp.headers['X-OpenStack-Request-Id'].startswith('req-')
    if resp.status_int == 204 or method == 'HEAD':  # no body, by HTTP
        return
    if path == '/healthcheck' and resp.status_int != 405:
        # oslo.middleware's answer, in the format the Accept header asks
        # (text by default), as load balancers expect of OpenStack APIs.
        assert resp.status_int == 200, resp.text
        return
    if path.startswith(dashboard.PAGE) and resp.status_int == 200:
        # The status page's shell and its files: HTML, script, style.
        assert resp.content_type in PAGE_TYPES, resp.content_type
        return
    data = json.loads(resp.body)
    if resp.status_int >= 400:
        assert data['error']['code'] in errors.CODES
        assert data['error']['message']
