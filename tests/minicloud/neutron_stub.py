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

"""A read-only Neutron API that has nothing in it.

Nova calls Neutron on every server delete, even for a server booted with
no network: terminate_instance lists the instance's ports to unbind and
delete them, and the periodic info-cache heal lists them too. Every
``GET /v2.0/<collection>`` therefore answers ``{"<collection>": []}``;
everything else is 404.

Standard library only, and run by file path (``python neutron_stub.py
--port N``) so that the process imports nothing of sodos or OpenStack.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.parse
from http import server

_COLLECTION = re.compile(r'^/v2\.0/([a-z][a-z0-9_-]*?)(?:\.json)?/?$')


class Handler(server.BaseHTTPRequestHandler):
    server_version = 'neutron-stub'

    def _answer(self, status: int, body: dict | None = None) -> None:
        data = json.dumps(body if body is not None else {}).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 (the http.server API)
        path = urllib.parse.urlsplit(self.path).path
        match = _COLLECTION.match(path)
        if match:
            self._answer(200, {match.group(1): []})
        else:
            self._answer(404, {'NeutronError': {'message': 'not found'}})

    def _not_found(self) -> None:
        self._answer(404, {'NeutronError': {'message': 'not found'}})

    do_POST = do_PUT = do_DELETE = do_PATCH = _not_found

    def log_message(self, format: str, *args: object) -> None:
        # One line per request on standard output, which is the log file.
        sys.stdout.write(
            '%s %s\n' % (self.log_date_time_string(), format % args)
        )
        sys.stdout.flush()


def make_server(host: str, port: int) -> server.ThreadingHTTPServer:
    return server.ThreadingHTTPServer((host, port), Handler)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, required=True)
    args = parser.parse_args(argv)
    httpd = make_server(args.host, args.port)
    print('neutron stub listening on %s:%d' % (args.host, args.port))
    sys.stdout.flush()
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()


if __name__ == '__main__':
    main()
