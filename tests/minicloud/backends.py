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

"""The shared MariaDB and RabbitMQ: a site's databases and vhost.

Both servers are shared by every site and are not started here. A site
gets its own databases on the MariaDB server and its own vhost on the
broker, so sites never see each other's data or messages.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import urllib.parse

import amqp
import sqlalchemy
from sqlalchemy import pool

from tests.minicloud import errors

DEFAULT_DATABASE_URL = 'mysql+pymysql://root@127.0.0.1:3306'
DEFAULT_TRANSPORT_URL = 'rabbit://guest:guest@127.0.0.1:5672/'


def reachable(url: str, default_port: int) -> bool:
    parsed = urllib.parse.urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or '127.0.0.1', parsed.port or default_port), 2
        ):
            return True
    except OSError:
        return False


def check_reachable(database_url: str, transport_url: str) -> None:
    if not reachable(database_url, 3306):
        raise errors.MinicloudError(
            'preflight', 'MariaDB is not reachable at %s' % database_url
        )
    if not reachable(transport_url, 5672):
        raise errors.MinicloudError(
            'preflight',
            'RabbitMQ is not reachable at %s' % _hide_password(transport_url),
        )


def _hide_password(url: str) -> str:
    parsed = urllib.parse.urlparse(url)
    if parsed.password:
        netloc = parsed.netloc.replace(':' + parsed.password + '@', ':***@')
        return parsed._replace(netloc=netloc).geturl()
    return url


# MariaDB


def database_url(base: str, name: str) -> str:
    url = sqlalchemy.engine.make_url(base).set(
        database=name, query={'charset': 'utf8'}
    )
    return url.render_as_string(hide_password=False)


def _execute(base: str, statements: list[str]) -> None:
    engine = sqlalchemy.create_engine(base, poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
    except sqlalchemy.exc.SQLAlchemyError as e:
        raise errors.MinicloudError(
            'databases',
            '%s: %s' % (type(e).__name__, e.args[0] if e.args else e),
        ) from None
    finally:
        engine.dispose()


def recreate_databases(base: str, names: list[str]) -> None:
    # utf8 (utf8mb3) as devstack does; every start begins empty.
    statements = []
    for name in names:
        statements.append('DROP DATABASE IF EXISTS `%s`' % name)
        statements.append('CREATE DATABASE `%s` CHARACTER SET utf8' % name)
    _execute(base, statements)


def drop_databases(base: str, names: list[str]) -> None:
    _execute(base, ['DROP DATABASE IF EXISTS `%s`' % n for n in names])


# RabbitMQ


def vhost_url(base: str, vhost: str) -> str:
    parsed = urllib.parse.urlparse(base)
    return parsed._replace(
        path='/' + urllib.parse.quote(vhost, safe='')
    ).geturl()


def _rabbitmqctl(phase: str, args: list[str]) -> subprocess.CompletedProcess:
    path = shutil.which('rabbitmqctl') or shutil.which(
        'rabbitmqctl', path='/usr/sbin:/usr/local/sbin:/sbin'
    )
    if not path:
        raise errors.MinicloudError(
            phase, 'rabbitmqctl not found (it makes the site vhost)'
        )
    return subprocess.run(
        [path, '-q'] + args,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _check(phase: str, result: subprocess.CompletedProcess) -> None:
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip().splitlines()
        raise errors.MinicloudError(
            phase,
            '%s: %s'
            % (' '.join(result.args[2:]), output[-1] if output else '?'),
        )


def delete_vhost(vhost: str) -> None:
    result = _rabbitmqctl('rabbit vhost', ['delete_vhost', vhost])
    if result.returncode != 0 and 'does not exist' in result.stdout + (
        result.stderr or ''
    ):
        return
    _check('rabbit vhost', result)


def create_vhost(transport_url: str, vhost: str) -> None:
    user = urllib.parse.urlparse(transport_url).username or 'guest'
    _check('rabbit vhost', _rabbitmqctl('rabbit vhost', ['add_vhost', vhost]))
    _check(
        'rabbit vhost',
        _rabbitmqctl(
            'rabbit vhost',
            ['set_permissions', '-p', vhost, user, '.*', '.*', '.*'],
        ),
    )


def consumers(transport_url: str, queue: str) -> int:
    """How many consumers a queue of the vhost has (0: no such queue).

    A passive declare over AMQP, which needs neither root nor the
    management plugin.
    """
    parsed = urllib.parse.urlparse(transport_url)
    conn = amqp.Connection(
        host='%s:%d' % (parsed.hostname or '127.0.0.1', parsed.port or 5672),
        userid=urllib.parse.unquote(parsed.username or 'guest'),
        password=urllib.parse.unquote(parsed.password or 'guest'),
        virtual_host=urllib.parse.unquote(parsed.path[1:]) or '/',
        connect_timeout=5,
    )
    conn.connect()
    try:
        channel = conn.channel()
        try:
            return channel.queue_declare(queue, passive=True).consumer_count
        except amqp.exceptions.NotFound:
            return 0
    finally:
        try:
            conn.close()
        except (OSError, amqp.exceptions.AMQPError):
            pass
