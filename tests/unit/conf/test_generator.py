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

import pathlib
import subprocess
import sys

GENERATOR_CONF = (
    pathlib.Path(__file__).parents[3]
    / 'etc'
    / 'sodos'
    / 'sodos-config-generator.conf'
)


def test_the_generator_writes_every_group(tmp_path):
    out = tmp_path / 'sodos.conf.sample'
    subprocess.run(
        [
            sys.executable,
            '-m',
            'oslo_config.generator',
            '--config-file',
            str(GENERATOR_CONF),
            '--output-file',
            str(out),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    text = out.read_text()
    for group in (
        '[DEFAULT]',
        '[raft]',
        '[knowmon]',
        '[exec]',
        '[analyseplan]',
        '[database]',
        '[oslo_messaging_rabbit]',
    ):
        assert group in text
    assert '#voter_count = 5' in text
    assert '#password = <None>' in text
    assert '#connection = sqlite:///$state_path/sodos.sqlite' in text
    assert '#graceful_shutdown_timeout = ' in text
    # Listed once: the sodos namespace carries oslo.db's options.
    assert text.count('\n#connection = ') == 1
