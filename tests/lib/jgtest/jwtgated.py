"""jwtgated for tests: Server (one process with its own data directory, on a
free loopback port it picks itself) and World (two tenants with a user of
every role, an API and an app each).

The store: SQLite in the data directory, or PostgreSQL when JG_TEST_STORE is
"postgresql": one throwaway cluster per test process (jgtest.PostgreSQL,
started with the first Server, removed at exit) and a new database per
Server (dropped at close), passed as --db URL to init and serve."""
import atexit
import json
import os
import re
import secrets
import shutil
import signal
import subprocess

from . import config, http, procs
from .postgres import PostgreSQL

#: the store of every Server: 'sqlite' (default) or 'postgresql'
STORE = os.environ.get('JG_TEST_STORE') or 'sqlite'
if STORE not in ('sqlite', 'postgresql'):
    raise RuntimeError('JG_TEST_STORE: sqlite or postgresql, not %r' % STORE)
ON_POSTGRES = STORE == 'postgresql'
_cluster = None


def postgres_cluster():
    """The test process's PostgreSQL cluster (started on first use)."""
    global _cluster
    if _cluster is None:
        _cluster = PostgreSQL().start()
        atexit.register(_cluster.close)
    return _cluster


def _new_database():
    """A new empty database on the cluster: its URL."""
    pg = postgres_cluster()
    name = 'jg_' + secrets.token_hex(6)
    pg.psql('CREATE DATABASE %s' % name)
    return pg.url(name)


class Server:
    """One jwtgated: `jwtgated init` into a new directory under config.TEST_DIR (or into
    `data_dir`, unless it holds a database already), then `jwtgated serve --port 0
    --port-file ... [--access-log] extra...`, started at once.

    Attributes: tmp (the directory), data (the data directory), master (the master key
    file), admin_token (init's first admin token), port, issuer and token_endpoint
    (http://127.0.0.1:PORT...), snapshot_path, log_path (standard output and error of
    every start, appended), last (the last admin() response).

    stop() is SIGTERM and raises RuntimeError if jwtgated exited with an error, was
    killed by another signal than SIGKILL, or left a crash or sanitizer report in its
    log; close() stops and removes the directory unless `keep`.

    join=other (PostgreSQL only): another node of `other`'s cluster — its database and
    master key, its own directory, port and snapshot; `admin_token` is other's; close()
    leaves the database to `other`."""

    def __init__(self, *extra, token_ttl=None, data_dir=None, keep=False, access_log=True,
                 join=None):
        self.tmp = data_dir or config.scratch('jwtgated-')
        self.keep = keep
        self.data = os.path.join(self.tmp, 'data')
        self.master = os.path.join(self.tmp, 'master.key')
        self.log_path = os.path.join(self.tmp, 'serve.log')
        self.port_file = os.path.join(self.tmp, 'port')
        self.extra = list(extra)
        if token_ttl:
            self.extra += ['--token-ttl', str(token_ttl)]
        self.access_log = access_log
        self.port = None
        self.last = None
        self.svc = None
        self.admin_token = None
        # PostgreSQL: the database's URL is kept in the directory, so that a
        # Server on the same data_dir finds the same database.
        self.db_url = None
        self.owns_db = join is None
        url_file = os.path.join(self.tmp, 'db-url')
        if join is not None:
            if not join.db_url:
                raise RuntimeError('join: only servers on PostgreSQL share a database')
            self.db_url = join.db_url
            os.makedirs(self.data, mode=0o700, exist_ok=True)  # init would have made it
            shutil.copyfile(join.master, self.master)
            os.chmod(self.master, 0o600)
            self.admin_token = join.admin_token
            initialised = True
        elif ON_POSTGRES and os.path.exists(url_file):
            with open(url_file) as f:
                self.db_url = f.read().strip()
            initialised = True
        elif ON_POSTGRES:
            self.db_url = _new_database()
            with open(url_file, 'w') as f:
                f.write(self.db_url + '\n')
            initialised = False
        else:
            initialised = os.path.exists(os.path.join(self.data, 'jwtgated.db'))
        if not initialised:
            out = subprocess.run([config.JWTGATED, 'init', '--data-dir', self.data,
                                  '--master-key-file', self.master] + self.db_args,
                                 capture_output=True, text=True, timeout=60)
            if out.returncode != 0:
                raise RuntimeError('init failed: ' + out.stderr)
            self.admin_token = out.stdout.strip()
        self.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def db_args(self):
        """What every jwtgated command on this server's store takes: ['--db', URL] on
        PostgreSQL, nothing on SQLite (the database is in --data-dir)."""
        return ['--db', self.db_url] if self.db_url else []

    def sql(self, statement):
        """Run SQL statements on this server's database as another client would (psql on
        PostgreSQL, Python's sqlite3 on SQLite), in one transaction; psql's output (''
        on SQLite). RuntimeError with the database's message when it fails."""
        if self.db_url:
            return self.pg.psql('BEGIN; %s; COMMIT' % statement,
                                db=self.db_url.rsplit('/', 1)[1])
        import sqlite3
        db = sqlite3.connect(os.path.join(self.data, 'jwtgated.db'), timeout=10)
        try:
            db.executescript('BEGIN; %s; COMMIT' % statement)
        except sqlite3.DatabaseError as e:
            raise RuntimeError(str(e)) from None
        finally:
            db.close()
        return ''

    @property
    def pg(self):
        """The PostgreSQL cluster (jgtest.PostgreSQL) of this server, or None."""
        return postgres_cluster() if self.db_url else None

    @property
    def snapshot_path(self):
        return os.path.join(self.data, 'snapshot.jgs')

    @property
    def proc(self):
        """The running process (subprocess.Popen), or None."""
        return self.svc.proc if self.svc is not None else None

    def start(self):
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)
        argv = [config.JWTGATED, 'serve', '--data-dir', self.data, '--master-key-file',
                self.master, '--port', '0', '--port-file', self.port_file] + self.db_args
        if self.access_log:
            argv.append('--access-log')
        self.svc = procs.Service('jwtgated', argv + self.extra, self.log_path,
                                 env=config.child_env()).start()
        self.svc.wait_ready(self._read_port)
        self.issuer = 'http://127.0.0.1:%d' % self.port
        self.token_endpoint = self.issuer + '/oauth2/token'

    def _read_port(self):
        try:
            with open(self.port_file) as f:
                self.port = int(f.read().strip())
            return True
        except (FileNotFoundError, ValueError):
            return False

    def read_log(self):
        """Everything jwtgated wrote, every start."""
        return procs.read_text(self.log_path)

    def crashes(self):
        return self.svc.crashes() if self.svc is not None else []

    def stop(self):
        if self.svc is None or self.svc.proc is None:
            return
        if not self.svc.running():
            # It died on its own: show why (sanitizer reports land in the log).
            procs.report('jwtgated log (it exited with %s)' % self.svc.proc.returncode,
                         self.read_log())
        code = self.svc.stop(signal.SIGTERM)
        crashes = self.svc.crashes()
        if code not in (0, -signal.SIGKILL) or crashes or self.svc.stop_timed_out:
            raise RuntimeError('jwtgated exited with status %s%s: %s' % (
                code, ' (killed: did not stop)' if self.svc.stop_timed_out else '',
                '\n'.join(crashes) or self.read_log()[-5000:]))

    def kill9(self):
        self.svc.kill9()

    def close(self):
        try:
            self.stop()
        finally:
            if not self.keep:
                shutil.rmtree(self.tmp, ignore_errors=True)
                if self.db_url and self.owns_db:
                    postgres_cluster().psql('DROP DATABASE IF EXISTS %s WITH (FORCE)'
                                            % self.db_url.rsplit('/', 1)[1], check=False)

    # ---- HTTP -------------------------------------------------------------------

    def request(self, method, path, body=None, headers=None, timeout=None):
        return http.request(self.port, path, headers=headers, method=method, body=body,
                            timeout=timeout)

    def post_form(self, path, fields, auth=None, headers=None):
        """fields: list of (name, value) or dict; auth: (id, secret) for Basic."""
        h = {'Content-Type': 'application/x-www-form-urlencoded'}
        if auth is not None:
            h['Authorization'] = http.basic(*auth)
        h.update(headers or {})
        return self.request('POST', path, http.form(fields), h)

    def admin(self, method, path, body=None, token=None, expect=None):
        """A call of /admin/v1 + path as the first admin (or `token`): (status, JSON
        document or None or the raw body); AssertionError if `expect` is given and the
        status differs. The Response is kept in self.last."""
        h = {'Authorization': 'Bearer ' + (token or self.admin_token)}
        data = None
        if body is not None:
            h['Content-Type'] = 'application/json'
            data = json.dumps(body)
        r = self.request(method, '/admin/v1' + path, data, h)
        self.last = r
        if expect is not None and r.status != expect:
            raise AssertionError('%s %s: expected %d, got %r' % (method, path, expect, r))
        try:
            return r.status, (r.json() if r.body else None)
        except ValueError:
            return r.status, r.body

    def register_gateway(self, prefix='gw-'):
        """A gateway registered under a fresh name (prefix + 8 hex digits) with a new
        P-256 public key: the admin API's document (with its one-time `credential`)."""
        from jwcrypto import jwk
        key = jwk.JWK.generate(kty='EC', crv='P-256')
        _, doc = self.admin('POST', '/gateways', {'name': prefix + secrets.token_hex(4),
                                                  'jwk': json.loads(key.export_public())},
                            expect=201)
        return doc

    def token(self, client_id, secret, **params):
        """A client_credentials token request with client_secret_basic; list values
        repeat the parameter."""
        fields = [('grant_type', 'client_credentials')]
        for k, v in params.items():
            if isinstance(v, (list, tuple)):
                fields += [(k, x) for x in v]
            else:
                fields.append((k, v))
        return self.post_form('/oauth2/token', fields, auth=(client_id, secret))

    def versions(self):
        """(the view's version, the published snapshot's version) from /metrics; None
        when jwtgated does not answer."""
        try:
            text = self.request('GET', '/metrics', timeout=10).body.decode()
        except OSError:
            return None
        got = dict(re.findall(r'^(jwtgated_snapshot(?:_published)?_version) (-?\d+)$', text,
                              re.M))
        return int(got['jwtgated_snapshot_version']), \
            int(got['jwtgated_snapshot_published_version'])

    def snapshot(self, timeout=30):
        """The snapshot document, once it holds every change committed before the call
        (jwtgated's publisher writes it shortly after a change: --publish-delay). A
        stopped jwtgated: the file as it is."""
        running = self.svc is not None and self.svc.running()
        versions = self.versions() if running else None

        def read():
            try:
                doc = read_snapshot(self.snapshot_path)
            except (FileNotFoundError, ValueError):
                return None
            return doc if versions is None or doc.get('version', 0) >= versions[0] else None
        if versions is None:
            return read() or read_snapshot(self.snapshot_path)
        return procs.wait_until(read, timeout, what='the snapshot to hold version %d'
                                % versions[0])


def read_snapshot(path):
    """A snapshot file as its JSON document: the compiled form (format 2) through
    `jwtgate snapshot dump`, a JSON one (format 1) as it is. ValueError when it is
    neither (torn, corrupted)."""
    with open(path, 'rb') as f:
        data = f.read()
    if data.startswith(b'JGSNAP'):
        out = subprocess.run([config.JWTGATE_CLI, 'snapshot', 'dump', path],
                             capture_output=True, timeout=60)
        if out.returncode != 0:
            raise ValueError(out.stderr.decode(errors='replace').strip())
        data = out.stdout
    return json.loads(data)


class World:
    """Two tenants with a user of every role each, an API and an app per tenant."""

    ROLES = ('owner', 'admin', 'developer', 'viewer')

    def __init__(self, srv):
        self.srv = srv
        self.tokens = {'sysadmin': srv.admin_token}
        self.tenants = {}
        self.users = {}
        for t in ('a', 'b'):
            _, ten = srv.admin('POST', '/tenants', {'name': 'tenant-' + t}, expect=201)
            self.tenants[t] = ten['id']
            for role in self.ROLES:
                name = '%s-%s' % (t, role)
                _, u = srv.admin('POST', '/users', {'name': name}, expect=201)
                self.users[name] = u['id']
                srv.admin('POST', '/tenants/%s/members' % ten['id'],
                          {'user': name, 'role': role}, expect=201)
                _, pat = srv.admin('POST', '/tokens', {'name': 'test', 'user_id': u['id']},
                                   expect=201)
                self.tokens[name] = pat['token']
        _, u = srv.admin('POST', '/users', {'name': 'outsider'}, expect=201)
        _, pat = srv.admin('POST', '/tokens', {'name': 'test', 'user_id': u['id']}, expect=201)
        self.tokens['outsider'] = pat['token']
        self.apis = {}
        self.apps = {}
        for t in ('a', 'b'):
            tid = self.tenants[t]
            _, api = srv.admin('POST', '/tenants/%s/apis' % tid, {
                'name': 'orders', 'version': 'v1', 'base_path': '/%s/orders' % t,
                'upstream': 'http://127.0.0.1:9/%s' % t,
                'audience': 'https://api.example.com/%s/orders' % t,
                'scopes': ['orders:read', 'orders:write'], 'policy': 'manual'}, expect=201)
            srv.admin('POST', '/tenants/%s/apis/%s/lifecycle' % (tid, api['id']),
                      {'state': 'published'}, expect=200)
            self.apis[t] = api
            _, app = srv.admin('POST', '/tenants/%s/apps' % tid, {'name': 'shop'}, expect=201)
            self.apps[t] = app

    def subscribe(self, app_tenant, api_tenant, scopes, approve=True):
        tid = self.tenants[app_tenant]
        _, sub = self.srv.admin('POST', '/tenants/%s/subscriptions' % tid, {
            'app_id': self.apps[app_tenant]['id'], 'api_id': self.apis[api_tenant]['id'],
            'scopes': scopes}, expect=201)
        if approve:
            _, sub = self.srv.admin(
                'POST', '/tenants/%s/subscriptions/%s/approve' % (self.tenants[api_tenant],
                                                                  sub['id']),
                {'reason': 'test'}, expect=200)
        return sub

    def client(self, t):
        return self.apps[t]['client_id'], self.apps[t]['client_secret']
