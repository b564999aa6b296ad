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

import ssl

import pytest
from oslo_config import cfg

from sodos import conf as sodos_conf
from sodos import exception
from sodos import tls
from sodos.sim import certs


@pytest.fixture
def tls_conf():
    def make(**raft):
        conf = cfg.ConfigOpts()
        sodos_conf.register_opts(conf)
        conf([], project='sodos', default_config_files=[])
        for name, value in raft.items():
            conf.set_override(name, value, 'raft')
        return conf

    return make


@pytest.fixture(scope='module')
def stranger(tmp_path_factory):
    """A certificate of another CA."""
    ca = certs.LocalCA(str(tmp_path_factory.mktemp('stranger-ca')))
    return ca.issue('stranger')


def test_contexts_are_mutual_tls_1_2_or_later(tls_conf, site_tls):
    contexts = tls.from_conf(tls_conf(**site_tls))
    for context in (contexts.server, contexts.client):
        assert context.minimum_version == ssl.TLSVersion.TLSv1_2
        assert context.verify_mode == ssl.CERT_REQUIRED
    # The client checks that the server's certificate names its host.
    assert contexts.client.check_hostname
    # Trusted: the federation CA only, not the system's.
    assert len(contexts.client.get_ca_certs()) == 1


def test_no_tls_outside_the_dev_mode_is_refused(tls_conf):
    with pytest.raises(exception.ConfigError, match='mutual TLS only'):
        tls.from_conf(tls_conf())


def test_no_tls_in_the_dev_mode_is_plaintext(tls_conf):
    assert tls.from_conf(tls_conf(insecure_dev_mode=True)) is None


def test_a_partial_setting_names_what_is_missing(tls_conf, site_tls):
    options = dict(site_tls, ssl_key_file=None)
    with pytest.raises(
        exception.ConfigError, match=r'\[raft\]ssl_key_file is not set'
    ):
        tls.from_conf(tls_conf(insecure_dev_mode=True, **options))


@pytest.mark.parametrize('option', tls.OPTIONS)
def test_a_missing_file_is_named_with_its_option(
    tls_conf, site_tls, tmp_path, option
):
    missing = str(tmp_path / 'nowhere.pem')
    options = dict(site_tls, **{option: missing})
    with pytest.raises(exception.ConfigError) as caught:
        tls.from_conf(tls_conf(**options))
    message = str(caught.value)
    assert message.startswith('[raft]%s: cannot read %s' % (option, missing))
    assert 'No such file' in message


def test_an_unreadable_file_is_named(tls_conf, site_tls, tmp_path):
    # A directory where the key should be: unreadable as a file for any
    # user, root included (a mode-0 file would not be, for root).
    path = tmp_path / 'key.pem'
    path.mkdir()
    options = dict(site_tls, ssl_key_file=str(path))
    with pytest.raises(
        exception.ConfigError, match=r'\[raft\]ssl_key_file: cannot read .*'
    ):
        tls.from_conf(tls_conf(**options))


def test_a_file_that_is_not_pem_is_named(tls_conf, site_tls):
    # A key where the certificate should be.
    options = dict(site_tls, ssl_cert_file=site_tls['ssl_key_file'])
    with pytest.raises(
        exception.ConfigError,
        match=r'\[raft\]ssl_cert_file: .* holds no PEM certificate',
    ):
        tls.from_conf(tls_conf(**options))
    options = dict(site_tls, ssl_key_file=site_tls['ssl_cert_file'])
    with pytest.raises(
        exception.ConfigError,
        match=r'\[raft\]ssl_key_file: .* is not an unencrypted PEM private',
    ):
        tls.from_conf(tls_conf(**options))


def test_a_key_that_does_not_match_is_refused(tls_conf, site_tls, stranger):
    options = dict(site_tls, ssl_key_file=stranger['ssl_key_file'])
    with pytest.raises(exception.ConfigError) as caught:
        tls.from_conf(tls_conf(**options))
    assert str(caught.value) == (
        '[raft]ssl_key_file: the key in %s does not match the certificate '
        'in [raft]ssl_cert_file %s'
        % (stranger['ssl_key_file'], site_tls['ssl_cert_file'])
    )


def test_a_certificate_of_another_ca_is_refused(tls_conf, site_tls, stranger):
    options = dict(
        site_tls,
        ssl_cert_file=stranger['ssl_cert_file'],
        ssl_key_file=stranger['ssl_key_file'],
    )
    with pytest.raises(exception.ConfigError) as caught:
        tls.from_conf(tls_conf(**options))
    message = str(caught.value)
    assert message.startswith(
        '[raft]ssl_cert_file: the certificate in %s'
        % stranger['ssl_cert_file']
    )
    assert message.endswith(
        'is not signed by the CA in [raft]ssl_ca_file %s'
        % site_tls['ssl_ca_file']
    )


def test_the_local_ca_is_reused_not_remade(local_ca):
    again = certs.LocalCA(local_ca.directory)
    with open(local_ca.ca_file, 'rb') as before:
        assert open(again.ca_file, 'rb').read() == before.read()
    # A site certificate of the reloaded CA is one of the same CA.
    tls.check(
        tls.Files(
            local_ca.ca_file,
            again.issue('later')['ssl_cert_file'],
            again.issue('later')['ssl_key_file'],
        )
    )


def test_local_site_certificates_name_the_hosts_they_listen_on(tmp_path):
    # Sites in network namespaces listen on addresses of their own: the
    # peer's hostname check needs them in the certificate.
    from cryptography import x509

    ca = certs.LocalCA(str(tmp_path / 'ca'))
    files = ca.issue('far', ['10.20.0.7', 'site.example'])
    with open(files['ssl_cert_file'], 'rb') as f:
        cert = x509.load_pem_x509_certificate(f.read())
    names = cert.extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    ).value
    assert {str(ip) for ip in names.get_values_for_type(x509.IPAddress)} == {
        '127.0.0.1',
        '::1',
        '10.20.0.7',
    }
    assert set(names.get_values_for_type(x509.DNSName)) == {
        'localhost',
        'site.example',
    }
