"""jgtest — the one test harness of jwtgate (Python 3 standard library only,
run with Debian's /usr/bin/python3). Every Python suite imports it; none keeps
harness code of its own. CTest puts tests/lib on PYTHONPATH and passes the
binaries and the sanitizer options (tests/lib/testenv.cmake). The full guide,
with examples and what moved from the old per-suite harnesses, is
tests/lib/README.md.

Configuration (jgtest.config, read once at import)
    REPO, JWTGATED, JWTGATE_CLI, NGX_MODULE, NGINX, TEST_DIR, SANITIZE
    scratch(prefix)                a new directory under TEST_DIR
    sanitizer_runtime(binary)      the libasan a sanitized binary links, or None
    child_env(leaks, preload, extra)   a child's environment (sanitizer options kept)

Ports (jgtest.ports)
    free_port(), free_ports(n), free_port_range(n)

Processes, logs, crashes (jgtest.procs)
    Service(name, argv, log_path, env, cwd, other_logs)   start / wait_ready / stop /
        kill9 / log / crashes
    CRASH_MARKERS, crash_lines(text), wait_until(fn, timeout), children(pid),
    descendants(pid)

HTTP (jgtest.http)
    Response(status, headers, body: bytes)  .header() .text .json() .echoed() .challenge()
    request(port, path, token, headers, method, body, conn, timeout)
    raw_request(port, data) -> status, raw_exchange(port, data) -> bytes
    form(fields), basic(id, secret), b64(data), unb64(text), jwe_header(token)

Keys and tokens through the CLI (jgtest.tokens)
    cli(*args, stdin), Keys(dir), claim_args(...), signed(keys, ...), nested(keys, ...),
    encrypted(keys, claims, ...)

jwtgated (jgtest.jwtgated)
    Server(*extra, token_ttl, data_dir, keep, access_log)  .start() .stop() .kill9()
        .close() .request() .post_form() .admin() .token() .snapshot() .read_log()
        .crashes() .versions() .sql(); attributes tmp data master admin_token port issuer
        token_endpoint snapshot_path log_path last db_url db_args pg
    STORE, ON_POSTGRES   the store of every Server: $JG_TEST_STORE (sqlite, or postgresql:
                         one cluster per test process, postgres_cluster(), a database per Server)
    World(srv)   two tenants, a user of every role, an API and an app each
    read_snapshot(path)   a snapshot file (compiled or JSON) as its JSON document

nginx with the module (jgtest.nginx)
    Nginx(name, server, http, workers, echo=True, ports_named=(), params, access_log,
          worker_connections, http_extra, dir)  .start() .stop() .test_config()
        .get() .request() .logs() .crashes() .alerts() .wait_log() .worker_pids()
        .file(); attributes port uport port_NAME dir
    NginxTest    unittest.TestCase: cls.keys, cls.nginx(), crash check after the class,
                 assertChallenge()
    ECHO_TEXT, ECHO_JSON   upstream server blocks

Other services
    Upstream(handler)     an HTTP server in the test process (jgtest.upstream)
    PostgreSQL(version)   a throwaway cluster as an unprivileged user (jgtest.postgres)

A test PKI (jgtest.certs)
    Certs()   a CA, a server certificate for 127.0.0.1, two client certificates and a
              self-signed one (openssl); .rfc9440() .escaped() .x5t() .public_jwk()
The whole stack (jgtest.stack)
    Stack(token_ttl, workers)   jwtgated + Gateway + upstream, admin helpers, mint(),
                                until()
    StackTest                   unittest.TestCase with one Stack per class
    Gateway(tmp, snapshot, workers)

main()   unittest.main(verbosity=2)
"""
import unittest

from . import config
from .tokens import Keys, claim_args, cli, encrypted, nested, signed
from .certs import Certs
from .config import (JWTGATE_CLI, JWTGATED, NGINX, NGX_MODULE, REPO, SANITIZE, TEST_DIR,
                     child_env, sanitizer_runtime, scratch)
from .http import (Response, b64, b64url_decode, basic, form, jose_header, jwe_header,
                   raw_exchange, raw_request, request, unb64)
from .jwtgated import ON_POSTGRES, STORE, Server, World, postgres_cluster, read_snapshot
from .nginx import ECHO_JSON, ECHO_TEXT, Nginx, NginxTest
from .ports import free_port, free_port_range, free_ports
from .postgres import PostgreSQL
from .procs import (CRASH_MARKERS, Service, children, crash_lines, descendants,
                    wait_until)
from .stack import Gateway, Stack, StackTest
from .upstream import Upstream

__all__ = [
    'CRASH_MARKERS', 'Certs', 'ECHO_JSON', 'ECHO_TEXT', 'Gateway', 'JWTGATED', 'JWTGATE_CLI',
    'Keys', 'NGINX', 'NGX_MODULE', 'Nginx', 'NginxTest', 'ON_POSTGRES', 'PostgreSQL', 'REPO',
    'Response', 'SANITIZE', 'STORE', 'Server', 'Service', 'Stack', 'StackTest', 'TEST_DIR',
    'Upstream', 'World', 'postgres_cluster', 'read_snapshot',
    'b64', 'b64url_decode', 'basic', 'child_env', 'children', 'claim_args', 'cli', 'config',
    'crash_lines', 'descendants', 'encrypted', 'form', 'free_port', 'free_port_range',
    'free_ports', 'jose_header', 'jwe_header', 'main', 'nested', 'raw_exchange',
    'raw_request', 'request', 'sanitizer_runtime', 'scratch', 'signed', 'unb64',
    'wait_until',
]


def main():
    """unittest.main(verbosity=2): every test file ends with it."""
    unittest.main(verbosity=2)
