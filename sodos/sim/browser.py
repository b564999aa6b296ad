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

"""Headless Chromium, driven through chromedriver's WebDriver API.

For the status page's tests and benchmark: open a page, run a script in
it, take a screenshot. The W3C WebDriver protocol is plain JSON over
HTTP, so this speaks it with the standard library; the browser is the
distribution's (Debian ``chromium`` and ``chromium-driver``). Host
names resolve to nothing but loopback, so a page that needed the
internet would show it.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from typing import Any

from sodos import exception
from sodos.sim import ports

BROWSERS = ('chromium', 'chromium-browser', 'google-chrome')
DRIVERS = ('chromedriver',)
# Every host name fails to resolve: only 127.0.0.1 and [::1] are reached.
NO_NETWORK = 'MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'


def find() -> tuple[str, str] | None:
    """(browser, driver) paths, or None when either is missing."""
    browser = next(filter(None, map(shutil.which, BROWSERS)), None)
    driver = next(filter(None, map(shutil.which, DRIVERS)), None)
    if browser is None or driver is None:
        return None
    return browser, driver


class Browser:
    """One headless Chromium session; ``with`` it to end it."""

    def __init__(
        self, width: int = 1400, height: int = 1100, timeout: float = 30.0
    ) -> None:
        found = find()
        if found is None:
            raise exception.SodosError(
                'no Chromium with its chromedriver here (Debian: apt-get '
                'install chromium chromium-driver)'
            )
        browser, driver = found
        port = ports.free_port()
        self.url = 'http://127.0.0.1:%d' % port
        self.driver = subprocess.Popen(
            [driver, '--port=%d' % port],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.session = ''
        try:
            self._wait_ready(timeout)
            options = {
                'binary': browser,
                'args': [
                    '--headless=new',
                    '--no-sandbox',
                    '--disable-gpu',
                    '--disable-dev-shm-usage',
                    '--window-size=%d,%d' % (width, height),
                    '--host-resolver-rules=' + NO_NETWORK,
                ],
            }
            made = self._call(
                'POST',
                '/session',
                {
                    'capabilities': {
                        'alwaysMatch': {
                            'browserName': 'chrome',
                            'goog:chromeOptions': options,
                        }
                    }
                },
            )
            self.session = made['sessionId']
        except BaseException:
            self.close()
            raise

    def _wait_ready(self, timeout: float) -> None:
        # chromedriver answers /status once it listens; nothing to wait
        # on but the answer itself.
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self._call('GET', '/status').get('ready'):
                    return
            except OSError:
                pass
            if time.monotonic() > deadline or self.driver.poll() is not None:
                raise exception.SodosError('chromedriver did not start')
            time.sleep(0.05)

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={'Content-Type': 'application/json'},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read())['value']
        except urllib.error.HTTPError as exc:
            detail = json.loads(exc.read() or b'{}').get('value') or {}
            raise exception.SodosError(
                'WebDriver %s %s: %s' % (method, path, detail.get('message'))
            ) from None

    def open(self, url: str) -> None:
        self._call('POST', '/session/%s/url' % self.session, {'url': url})

    def run(self, script: str, *args: Any) -> Any:
        """The value the script ``return``\\ s, run in the page."""
        return self._call(
            'POST',
            '/session/%s/execute/sync' % self.session,
            {'script': script, 'args': list(args)},
        )

    def screenshot(self, path: str) -> str:
        png = self._call('GET', '/session/%s/screenshot' % self.session)
        with open(path, 'wb') as f:
            f.write(base64.b64decode(png))
        return path

    def close(self) -> None:
        if self.session:
            try:
                self._call('DELETE', '/session/' + self.session)
            except (OSError, exception.SodosError):
                pass
            self.session = ''
        if self.driver.poll() is None:
            self.driver.terminate()
            try:
                self.driver.wait(10)
            except subprocess.TimeoutExpired:
                self.driver.kill()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
