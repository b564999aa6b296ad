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

"""A benchmark's child process, driven by JSON lines, from both sides.

The parent (:class:`Child`) writes one JSON request a line to the child's
stdin and reads one JSON reply a line from its stdout; the child's stderr
is its log. The child (:func:`replies` then :func:`serve`) answers on the
stdout it was started with, and sends everything else that writes to
stdout (libraries that print) to stderr, so that nothing but replies
reaches the parent. End of stdin, or ``{"op": "stop"}``, stops it.

Used by kb_throughput.py (_kbnode.py) and scale_members.py
(_members_host.py).
"""

from __future__ import annotations

import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any
from typing import TextIO

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


class ChildError(RuntimeError):
    pass


# -- the parent's side ------------------------------------------------------


class Child:
    """One child process: ``script`` with ``argv``, its log in
    ``root/name.log``."""

    def __init__(
        self, name: str, root: str, script: str, argv: list[str]
    ) -> None:
        self.name = name
        self.log_path = os.path.join(root, name + '.log')
        env = dict(os.environ)
        env['PYTHONPATH'] = os.pathsep.join(
            p for p in (ROOT, env.get('PYTHONPATH')) if p
        )
        # The log is read when the child fails: it must be there.
        env['PYTHONUNBUFFERED'] = '1'
        self._log = open(self.log_path, 'w', encoding='utf-8')
        # Its own process group: Ctrl-C reaches only the parent, which
        # then stops its children in order.
        self.proc = subprocess.Popen(
            [sys.executable, script, *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=env,
            start_new_session=True,
        )
        self._replies: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(
            target=self._read, args=(self.proc.stdout,), daemon=True
        ).start()

    def _read(self, stream: TextIO | None) -> None:
        assert stream is not None
        for line in stream:
            try:
                self._replies.put(json.loads(line))
            except ValueError:
                continue
        self._replies.put(None)

    def expect(self, timeout: float) -> dict[str, Any]:
        """The next reply; raises ChildError if it is an error, or none
        comes in ``timeout`` seconds, or the child exited."""
        try:
            reply = self._replies.get(timeout=timeout)
        except queue.Empty:
            raise ChildError(
                '%s did not answer within %.0f s' % (self.name, timeout)
            ) from None
        if reply is None:
            raise ChildError(
                '%s exited (%s): %s'
                % (self.name, self.proc.poll(), self.log_tail(2000))
            )
        if 'error' in reply:
            raise ChildError('%s: %s' % (self.name, reply['error']))
        return reply

    def request(self, op: str, timeout: float = 60.0, **args: Any) -> Any:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(dict(args, op=op)) + '\n')
            self.proc.stdin.flush()
        except OSError as exc:
            raise ChildError('%s: %s' % (self.name, exc)) from exc
        return self.expect(timeout)['result']

    def ask_stop(self) -> None:
        if self.proc.poll() is not None or self.proc.stdin is None:
            return
        try:
            self.proc.stdin.write(json.dumps({'op': 'stop'}) + '\n')
            self.proc.stdin.close()
        except OSError:
            pass

    def reap(self, timeout: float) -> None:
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            print(
                '%s did not stop: killing pid %d' % (self.name, self.proc.pid),
                file=sys.stderr,
                flush=True,
            )
            self.proc.kill()
            self.proc.wait()
        self._log.close()

    def stop(self, timeout: float = 10.0) -> None:
        self.ask_stop()
        self.reap(timeout)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()

    def log_tail(self, chars: int = 3000) -> str:
        try:
            with open(self.log_path, encoding='utf-8') as f:
                return f.read()[-chars:]
        except OSError:
            return ''


def stop_on_sigterm() -> None:
    """SIGTERM ends the benchmark as an exception would, so that its
    ``finally`` blocks and context managers stop the processes it
    started (the default action leaves them running, orphaned)."""
    signal.signal(signal.SIGTERM, _exit_on_term)


def _exit_on_term(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


# -- the child's side -------------------------------------------------------


def replies(
    level: int = logging.WARNING,
    fmt: str = '%(asctime)s %(name)s %(levelname)s %(message)s',
) -> Callable[[dict[str, Any]], None]:
    """Take stdout for the replies (see the module) and set up the log;
    returns the function that sends one reply."""
    # Ctrl-C is for the parent, which stops its children itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    out = os.fdopen(os.dup(1), 'w')
    os.dup2(2, 1)
    logging.basicConfig(level=level, format=fmt)

    def reply(message: dict[str, Any]) -> None:
        out.write(json.dumps(message) + '\n')
        out.flush()

    return reply


def serve(
    reply: Callable[[dict[str, Any]], None],
    handle: Callable[[dict[str, Any]], Any],
) -> None:
    """Answer each request on stdin with ``handle``'s result, or the
    error it raised, until a stop or the end of stdin."""
    for line in sys.stdin:
        request = json.loads(line)
        if request['op'] == 'stop':
            break
        try:
            reply({'ok': True, 'result': handle(request)})
        except Exception as exc:
            logging.exception('request %s failed', request['op'])
            reply({'ok': False, 'error': '%s: %s' % (type(exc).__name__, exc)})
