"""A throwaway PostgreSQL cluster (Debian's postgresql 15 package) for tests:
initdb into a new directory under config.TEST_DIR, one postgres process on a
free loopback port (TCP only, no Unix socket), a superuser with a random
password (scram-sha-256; nothing else on the machine can log in), run as an
unprivileged user (initdb and postgres refuse root: a root test runs them as
"postgres", else "nobody"). Durability settings are off by default (fsync):
a crash of the machine is not what these tests test, a killed server still
loses nothing committed."""
import glob
import os
import pwd
import secrets
import shutil
import signal
import subprocess

from . import config, ports, procs

#: extra lines in a postgres log that tell of a crashed backend
PG_CRASH_MARKERS = ('was terminated by signal', 'PANIC:')


def bin_dir(version=None):
    """The directory of initdb/postgres/psql ($PG_BIN, else Debian's
    /usr/lib/postgresql/VERSION/bin, the newest if no version is asked for), or None."""
    if os.environ.get('PG_BIN'):
        return os.environ['PG_BIN']
    pattern = '/usr/lib/postgresql/%s/bin/initdb' % (version or '*')
    found = sorted(glob.glob(pattern), key=lambda p: int(p.split('/')[4]))
    return os.path.dirname(found[-1]) if found else None


class PostgreSQL:
    """start() runs initdb the first time, then postgres, and waits until it accepts
    connections; stop() is a fast shutdown (SIGINT), raising RuntimeError if postgres
    exited with an error or a backend crashed; close() stops and removes the cluster.

    Attributes: port, user, password, dir, data, log_path; dsn(db) and url(db) for
    libpq; psql(sql, db) runs SQL and returns psql's unaligned output."""

    SUPERUSER = 'jwtgate'

    def __init__(self, version=15, settings=None, run_as=None):
        self.bin = bin_dir(version)
        if self.bin is None:
            raise RuntimeError('PostgreSQL %s is not installed (scripts/bootstrap installs it)'
                               % version)
        self.dir = config.scratch('postgres-')
        self.data = os.path.join(self.dir, 'data')
        self.log_path = os.path.join(self.dir, 'postgres.log')
        self.password = secrets.token_urlsafe(24)
        self.user = self.SUPERUSER
        self.port = None
        self.settings = {'fsync': 'off', 'synchronous_commit': 'off',
                         'full_page_writes': 'off'}
        self.settings.update(settings or {})
        if run_as is None and os.geteuid() == 0:
            try:
                pwd.getpwnam('postgres')
                run_as = 'postgres'
            except KeyError:
                run_as = 'nobody'
        self.run_as = run_as
        self.popen_kw = {}
        if run_as is not None:
            pw = pwd.getpwnam(run_as)
            self.popen_kw = {'user': pw.pw_uid, 'group': pw.pw_gid, 'extra_groups': []}
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self.svc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    def tool(self, name):
        return os.path.join(self.bin, name)

    def initdb(self):
        pwfile = os.path.join(self.dir, 'pwfile')
        with open(pwfile, 'w') as f:
            f.write(self.password + '\n')
        if 'user' in self.popen_kw:
            os.chown(pwfile, self.popen_kw['user'], self.popen_kw['group'])
        try:
            p = subprocess.run([self.tool('initdb'), '-D', self.data, '-U', self.user,
                                '--pwfile', pwfile, '--auth-local=scram-sha-256',
                                '--auth-host=scram-sha-256', '-E', 'UTF8', '--no-locale'],
                               capture_output=True, text=True, timeout=120, cwd=self.dir,
                               **self.popen_kw)
        finally:
            os.unlink(pwfile)
        if p.returncode != 0:
            raise RuntimeError('initdb failed:\n' + p.stdout + p.stderr)

    def start(self):
        if not os.path.exists(os.path.join(self.data, 'PG_VERSION')):
            self.initdb()
        if self.port is None:
            self.port = ports.free_port()
        argv = [self.tool('postgres'), '-D', self.data, '-p', str(self.port),
                '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=']
        for k, v in sorted(self.settings.items()):
            argv += ['-c', '%s=%s' % (k, v)]
        self.svc = procs.Service('postgres', argv, self.log_path, env=config.child_env(),
                                 cwd=self.dir, **self.popen_kw).start()
        self.svc.wait_ready(self._ready, timeout=60)
        return self

    def _ready(self):
        return subprocess.run([self.tool('pg_isready'), '-q', '-h', '127.0.0.1', '-p',
                               str(self.port)], timeout=10).returncode == 0

    def stop(self):
        if self.svc is None or self.svc.proc is None:
            return
        code = self.svc.stop(signal.SIGINT)
        crashes = self.crashes()
        if code != 0 or crashes or self.svc.stop_timed_out:
            raise RuntimeError('postgres exited with status %s:\n%s' % (
                code, '\n'.join(crashes) or self.svc.log_tail()))

    def close(self):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def crashes(self):
        text = self.svc.log() if self.svc is not None else ''
        return procs.crash_lines(text) + [line for line in text.splitlines()
                                          if any(m in line for m in PG_CRASH_MARKERS)]

    def dsn(self, db='postgres'):
        """A libpq keyword/value connection string."""
        return 'host=127.0.0.1 port=%d dbname=%s user=%s password=%s' % (
            self.port, db, self.user, self.password)

    def url(self, db='postgres'):
        return 'postgresql://%s:%s@127.0.0.1:%d/%s' % (self.user, self.password, self.port, db)

    def psql(self, sql, db='postgres', check=True, password=None):
        """Run `sql` with psql (unaligned, tuples only, stop on the first error); its
        standard output. RuntimeError with psql's errors when it fails and `check`."""
        env = dict(os.environ, PGPASSWORD=password or self.password, PGCONNECT_TIMEOUT='10')
        p = subprocess.run([self.tool('psql'), '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1',
                            '-h', '127.0.0.1', '-p', str(self.port), '-U', self.user,
                            '-d', db, '-c', sql], capture_output=True, text=True, env=env,
                           timeout=60)
        if check and p.returncode != 0:
            raise RuntimeError('psql: ' + p.stderr)
        return p.stdout.strip() if check else p
