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

"""The daemon's life: systemd readiness, reload on SIGHUP, clean stop."""

import datetime
import signal
import socket
import time

from tests.functional.polling import wait_for_line


def test_ready_reload_stop_and_restart(local_federation, tmp_path):
    fed = local_federation(
        voter_count=1,
        roles=('knowmon', 'analyseplan'),
        settings={'analyseplan': {'loop_interval': 2.0}},
        debug=True,  # unchanged cycle lines are logged at DEBUG
    )
    site = fed.add_site(start=False)
    notify_path = str(tmp_path / 'notify')
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.bind(notify_path)
        notify.settimeout(30)
        site.start(env={'NOTIFY_SOCKET': notify_path})
        assert notify.recv(64) == b'READY=1'
    first = fed.wait(lambda r: r['leader'] and r['members'], 30, 'a leader')

    # SIGHUP applies a changed mutable option without a restart.
    wait_for_line(site.log_path, 'analyseplan: active')
    site.write_config(analyseplan={'loop_interval': 0.1})
    site.signal(signal.SIGHUP)
    wait_for_line(site.log_path, 'configuration reloaded')
    before = site.log().count('analyseplan: active')
    deadline = time.monotonic() + 60
    while site.log().count('analyseplan: active') - before < 6:
        assert time.monotonic() < deadline, 'no new cycles after reload'
        time.sleep(0.2)
    # The cycles now come at the new interval: their log times are far
    # closer together than the old 2 s (a loaded machine may delay some,
    # hence the median).
    times = [
        datetime.datetime.strptime(line[:23], '%Y-%m-%d %H:%M:%S.%f')
        for line in site.log().splitlines()
        if 'analyseplan: active' in line
    ][before:]
    gaps = sorted(
        (b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)
    )
    assert gaps[len(gaps) // 2] < 1.0, gaps
    site.signal(signal.SIGHUP)  # a second reload is harmless too
    assert site.running

    assert site.stop() == 0
    log = site.log()
    assert 'Traceback' not in log
    # A clean stop leaves a member that restarts with its state.
    site.start()
    again = fed.wait(
        lambda r: r['leader'] and r['members'], 30, 'the site to lead again'
    )
    assert again['federation_id'] == first['federation_id']
    assert again['term'] >= first['term']
