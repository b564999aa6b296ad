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

"""Mutual TLS between real site processes: who is refused, and how.

The local federation makes its own CA; a site with a certificate of
another CA, and a client speaking plaintext, must get nothing from it.
"""

import json
import os
import socket

import pytest

from sodos import exception
from sodos.kb.raft import admin
from sodos.sim import certs
from tests.functional.polling import wait_for_line


def one_site(local_federation, **kwargs):
    fed = local_federation(voter_count=1, **kwargs)
    site = fed.add_site()
    fed.wait(
        lambda r: [m['role'] for m in r['members']] == ['voter'],
        30,
        'a leader',
    )
    return fed, site


def stderr_of(site):
    with open(os.path.join(site.dir, 'stderr.log'), encoding='utf-8') as f:
        return f.read()


def control_port(site):
    host, port = site.address.rsplit(':', 1)
    return host, int(port) + 1


def test_a_site_with_a_certificate_of_another_ca_is_refused(
    local_federation, tmp_path
):
    fed, first = one_site(local_federation)
    before = fed.report(via=first)
    intruder = fed.add_site(start=False)
    other = certs.LocalCA(str(tmp_path / 'other-ca')).issue(intruder.name)
    intruder.write_config(raft=other)
    intruder.start()
    assert intruder.process.wait(60) == 2
    stderr = stderr_of(intruder)
    # It does not trust the member's certificate: the other CA.
    assert 'certificate is refused' in stderr, stderr
    assert 'Traceback' not in stderr
    after = fed.report(via=first)
    assert [m['site'] for m in after['members']] == [first.name]
    assert after['members'] == before['members']


def test_the_federation_refuses_a_certificate_of_another_ca(
    local_federation, tmp_path
):
    # A client that would trust the member, with a certificate of its own
    # that the federation CA did not sign: the member refuses it.
    fed, first = one_site(local_federation)
    stranger = certs.LocalCA(str(tmp_path / 'other-ca')).issue('stranger')
    trusting = dict(stranger, ssl_ca_file=fed.ca.ca_file)
    mixed = tmp_path / 'mixed-ca.pem'
    with (
        open(fed.ca.ca_file, 'rb') as ours,
        open(stranger['ssl_ca_file'], 'rb') as theirs,
    ):
        mixed.write_bytes(ours.read() + theirs.read())
    trusting['ssl_ca_file'] = str(mixed)
    key = admin.key_for(fed.password, trusting)
    with pytest.raises(exception.AuthenticationFailed, match='TLS failed'):
        admin.federation_status(first.address, key)
    # The member logs the refusal in its connection's thread, which may
    # finish after the client has seen the handshake fail.
    wait_for_line(
        first.log_path,
        'control channel: refused a connection from 127.0.0.1: TLS',
    )


def test_a_plaintext_client_is_refused(local_federation):
    fed, first = one_site(local_federation)
    # The protocol's own client, without TLS: it waits for the opening
    # nonce that never comes in plaintext.
    with pytest.raises(exception.PeerUnreachable):
        admin.federation_status(first.address, admin.key_for(fed.password))
    # A raw request in plaintext: the connection closes, unanswered.
    with socket.create_connection(control_port(first), timeout=30) as sock:
        sock.sendall(json.dumps({'op': 'status', 'args': {}}).encode() + b'\n')
        assert sock.makefile('rb').readline() == b''
    wait_for_line(
        first.log_path,
        'control channel: refused a connection from 127.0.0.1: TLS',
    )
    # The federation's own credentials still work.
    assert fed.report(via=first)['leader'] == first.address


def test_the_dev_mode_warns_loudly_on_stderr_and_in_the_log(local_federation):
    fed, site = one_site(local_federation, tls=False)
    assert fed.ca is None
    stderr = stderr_of(site)
    assert 'sodos: WARNING: INSECURE: [raft]insecure_dev_mode is on' in stderr
    assert 'talk plaintext' in stderr
    assert 'WARNING sodos.kb.raft.settings [-] INSECURE' in site.log()
    # The TLS federation's site says nothing of the kind.
    tls_fed, tls_site = one_site(local_federation)
    assert 'INSECURE' not in stderr_of(tls_site) + tls_site.log()


@pytest.mark.parametrize(
    'change, said',
    [
        (
            lambda fed, tmp: {'ssl_key_file': str(tmp / 'nowhere.pem')},
            '[raft]ssl_key_file: cannot read ',
        ),
        (
            lambda fed, tmp: certs.LocalCA(str(tmp / 'other')).issue('x'),
            'is not signed by the CA in [raft]ssl_ca_file',
        ),
        (
            lambda fed, tmp: {
                'ssl_key_file': fed.ca.issue('another')['ssl_key_file']
            },
            'does not match the certificate in [raft]ssl_cert_file',
        ),
    ],
    ids=['missing', 'other-ca', 'wrong-key'],
)
def test_bad_tls_files_stop_the_site_with_one_clear_error(
    local_federation, tmp_path, change, said
):
    fed = local_federation(voter_count=1)
    site = fed.add_site(start=False)
    options = change(fed, tmp_path)
    if 'ssl_ca_file' in options:  # a whole other CA: keep ours
        options = dict(options, ssl_ca_file=fed.ca.ca_file)
    site.write_config(raft=options)
    site.start()
    assert site.process.wait(60) == 2
    stderr = stderr_of(site)
    assert said in stderr, stderr
    assert 'Traceback' not in stderr
    assert not os.path.exists(site.data_dir)
