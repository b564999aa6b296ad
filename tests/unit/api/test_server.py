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

"""The API's HTTP server under bursts, slow clients and a stop.

The deadlines below only bound a test that would otherwise hang: each
test waits for events, never for time to pass.
"""

import http.client
import json
import socket
import threading

import pytest

from sodos.api import server as server_mod

# Bounds the wait for what must happen; never reached when all is well.
LIVENESS = 30.0


def make_server(app, **kwargs):
    return server_mod.Server(app, '127.0.0.1', 0, **kwargs)


def request(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=LIVENESS)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def read_to_eof(sock):
    """What the server sends until it closes; None if it never does."""
    data = b''
    try:
        while chunk := sock.recv(4096):
            data += chunk
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return data


def refuses(port):
    try:
        socket.create_connection(('127.0.0.1', port), timeout=LIVENESS).close()
    except ConnectionRefusedError:
        return True
    except ConnectionResetError:
        # Caught in the backlog as the listening socket closed.
        return True
    return False


def echo(environ, start_response):
    length = int(environ.get('CONTENT_LENGTH') or 0)
    body = environ['wsgi.input'].read(length)
    start_response(
        '201 Created',
        [
            ('Content-Type', 'application/json'),
            ('Content-Length', str(len(body))),
        ],
    )
    return [body]


def test_a_burst_of_writes_waits_in_the_backlog_and_is_served_whole():
    # 80 clients connect and send their write while the server is not
    # accepting yet, as when its accept loop is behind a burst: the
    # listen backlog must hold every one of them until it catches up.
    clients = 80
    server = make_server(echo, threads=4)
    results = [None] * clients
    sent = threading.Semaphore(0)

    def client(i):
        body = json.dumps({'write': i}).encode()
        try:
            # A connection the backlog cannot hold is not completed
            # before the server accepts: it fails here, after a bound.
            sock = socket.create_connection(
                ('127.0.0.1', server.port), timeout=10
            )
        except OSError as exc:
            results[i] = type(exc).__name__
            sent.release()
            return
        with sock:
            sock.settimeout(LIVENESS)
            sock.sendall(
                b'POST /v1/things HTTP/1.1\r\nHost: api\r\n'
                b'Content-Type: application/json\r\n'
                b'Content-Length: %d\r\nConnection: close\r\n\r\n%s'
                % (len(body), body)
            )
            sent.release()
            answer = read_to_eof(sock)
        if answer is None:
            results[i] = 'no answer'
        elif answer.split(b' ', 2)[1:2] == [b'201'] and answer.endswith(body):
            results[i] = 'served'
        else:
            results[i] = answer[:40].decode(errors='replace') or 'closed'

    threads = [
        threading.Thread(target=client, args=(i,)) for i in range(clients)
    ]
    try:
        for thread in threads:
            thread.start()
        for _ in range(clients):
            assert sent.acquire(timeout=LIVENESS)
        server.start()
        for thread in threads:
            thread.join(LIVENESS)
    finally:
        server.stop()
    failed = [r for r in results if r != 'served']
    assert not failed, '%d of %d writes not served: %s' % (
        len(failed),
        clients,
        sorted(set(map(str, failed))),
    )


@pytest.mark.parametrize(
    'half_sent',
    [
        # The headers of a write, its body never comes.
        b'POST /half HTTP/1.1\r\nHost: api\r\nContent-Length: 100\r\n\r\n{"a"',
        # A header line cut short.
        b'POST /half HTTP/1.1\r\nHost: api\r\nContent-Le',
    ],
    ids=['body-missing', 'header-cut'],
)
def test_a_half_sent_request_is_dropped_and_frees_its_thread(half_sent):
    reading = threading.Event()

    def app(environ, start_response):
        if environ['PATH_INFO'] == '/half':
            reading.set()
        return echo(environ, start_response)

    # One thread: while the half-sent request holds it, nothing else is
    # served, so the normal request below is answered only once the
    # server has given up on the half-sent one.
    server = make_server(app, threads=1, client_socket_timeout=0.5)
    server.start()
    try:
        with socket.create_connection(
            ('127.0.0.1', server.port), timeout=LIVENESS
        ) as half:
            half.sendall(half_sent)
            if b'\r\n\r\n' in half_sent:
                # The only thread is reading the body that never comes.
                assert reading.wait(LIVENESS)
            status, body = request(server.port, 'POST', '/ok', b'{"b": 1}')
            assert (status, body) == (201, b'{"b": 1}')
            # The server closed the half-sent request's connection.
            assert read_to_eof(half) is not None
        assert request(server.port, 'GET', '/again')[0] == 201
    finally:
        server.stop()


def test_stop_finishes_the_request_under_way_and_stops_listening():
    entered = threading.Event()
    release = threading.Event()

    def app(environ, start_response):
        entered.set()
        assert release.wait(LIVENESS)
        return echo(environ, start_response)

    server = make_server(app, threads=2, shutdown_timeout=LIVENESS)
    server.start()
    answers = []
    inflight = threading.Thread(
        target=lambda: answers.append(
            request(server.port, 'POST', '/w', b'{"c": 1}')
        )
    )
    inflight.start()
    assert entered.wait(LIVENESS)
    stopper = threading.Thread(target=server.stop)
    stopper.start()
    try:
        # Stopping: no new connection is taken while the request under
        # way still runs.
        while not refuses(server.port):
            assert stopper.is_alive()
        assert inflight.is_alive()
    finally:
        release.set()
    inflight.join(LIVENESS)
    stopper.join(LIVENESS)
    assert not stopper.is_alive()
    assert answers == [(201, b'{"c": 1}')]
    assert refuses(server.port)


def test_stop_gives_up_on_a_request_stuck_past_its_bound():
    entered = threading.Event()
    release = threading.Event()

    def app(environ, start_response):
        entered.set()
        release.wait(LIVENESS)
        return echo(environ, start_response)

    server = make_server(app, threads=1, shutdown_timeout=0.1)
    server.start()
    stuck = socket.create_connection(('127.0.0.1', server.port))
    try:
        stuck.sendall(b'GET /stuck HTTP/1.1\r\nHost: api\r\n\r\n')
        assert entered.wait(LIVENESS)
        stopper = threading.Thread(target=server.stop)
        stopper.start()
        stopper.join(LIVENESS)
        assert not stopper.is_alive()
        assert refuses(server.port)
    finally:
        release.set()
        stuck.close()


def test_the_api_answers_413_to_a_body_over_its_limit(conf, make_app):
    conf.set_override('max_request_body_size', 1024, 'api')
    server = make_server(make_app('noauth'))
    server.start()
    try:
        body = json.dumps({'x': 'a' * 4096}).encode()
        status, raw = request(
            server.port,
            'POST',
            '/v1/whatif',
            body,
            {'Content-Type': 'application/json'},
        )
    finally:
        server.stop()
    assert status == 413
    error = json.loads(raw)['error']
    assert error['code'] == 'invalid_body'
    assert 'max_request_body_size' in error['message']


def chunks(size):
    yield b'{"x": "'
    for _ in range(size // 512):
        yield b'a' * 512
    yield b'"}'


def test_a_chunked_body_is_read_to_the_limit_and_checked_by_the_api(
    conf, make_app
):
    conf.set_override('max_request_body_size', 1024, 'api')
    server = make_server(make_app('noauth'), max_request_body_size=1024)
    server.start()
    body = b''.join(
        b'%x\r\n%s\r\n' % (len(chunk), chunk) for chunk in chunks(4096)
    )
    try:
        with socket.create_connection(
            ('127.0.0.1', server.port), timeout=LIVENESS
        ) as sock:
            # In one write: the server answers before reading the whole
            # body, and a client still sending then might see its
            # connection reset instead of the answer.
            sock.sendall(
                b'POST /v1/whatif HTTP/1.1\r\nHost: api\r\n'
                b'Content-Type: application/json\r\n'
                b'Transfer-Encoding: chunked\r\n\r\n%s0\r\n\r\n' % body
            )
            resp = http.client.HTTPResponse(sock)
            resp.begin()
            status, error = resp.status, json.loads(resp.read())['error']
    finally:
        server.stop()
    assert (status, error['code']) == (413, 'invalid_body')
    assert 'max_request_body_size' in error['message']


def test_a_chunked_body_within_the_limit_is_passed_on_whole():
    server = make_server(echo, max_request_body_size=4096)
    server.start()
    try:
        conn = http.client.HTTPConnection(
            '127.0.0.1', server.port, timeout=LIVENESS
        )
        conn.request('POST', '/w', body=chunks(2048), encode_chunked=True)
        resp = conn.getresponse()
        answer = resp.status, resp.read()
        conn.close()
    finally:
        server.stop()
    assert answer == (201, b''.join(chunks(2048)))


def test_the_server_is_built_from_the_api_options(conf):
    conf.set_override('bind_port', 0, 'api')
    conf.set_override('backlog', 7, 'api')
    conf.set_override('threads', 3, 'api')
    conf.set_override('client_socket_timeout', 4.5, 'api')
    conf.set_override('shutdown_timeout', 2.5, 'api')
    conf.set_override('max_request_body_size', 2048, 'api')
    server = server_mod.Server.from_conf(conf, echo)
    try:
        httpd = server._httpd
        assert (httpd.request_queue_size, httpd.timeout) == (7, 4.5)
        assert (httpd.requests.min, httpd.requests.max) == (3, 3)
        # A request stuck past the stop never holds the process up.
        assert all(worker.daemon for worker in httpd.requests._threads)
        assert server.shutdown_timeout == 2.5
        assert httpd.wsgi_app.limit == 2048
        assert server.url == 'http://127.0.0.1:%d' % server.port
    finally:
        server.stop()
