"""An unlucky operator's faults (issue 12, items 11-14): a snapshot directory
that turns read-only, a full disk, a second server on the same data, a
database deleted or replaced under a running server, and backup / restore.
Each fails against a jwtgated without its fix.

On the PostgreSQL store (JG_TEST_STORE=postgresql) the SQLite file's own faults
(a full filesystem under it, the file removed or replaced, backup / restore of
it) are skipped, and a PostgreSQL restart under a running server is tested.

Small and read-only filesystems are real tmpfs mounts, so these tests run as
root (CI does); they refuse to run otherwise rather than pass vacuously."""
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
import unittest

import jgtest
from jgtest import Server, World


class Tmpfs:
    """A tmpfs of `size` mounted on a fresh directory."""

    def __init__(self, size='16m'):
        if os.geteuid() != 0:
            raise RuntimeError('test_faults.py mounts tmpfs filesystems: run it as root')
        self.path = tempfile.mkdtemp(prefix='jwtgated-fs-')
        subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=%s,mode=0700' % size, 'tmpfs',
                        self.path], check=True)

    def fill(self):
        """Take every free byte; returns the filler's path (delete it to free)."""
        filler = os.path.join(self.path, 'filler')
        with open(filler, 'wb', buffering=0) as f:
            try:
                while True:
                    f.write(b'\0' * 65536)
                    f.flush()
            except OSError:
                pass
            try:
                while True:  # the last partial block
                    f.write(b'\0' * 512)
                    f.flush()
            except OSError:
                pass
        return filler

    def close(self):
        subprocess.run(['umount', '-l', self.path], check=False)
        shutil.rmtree(self.path, ignore_errors=True)


def wait_for(pred, timeout=10, step=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def run(*args, **kw):
    return subprocess.run([jgtest.JWTGATED] + list(args), capture_output=True, text=True,
                          timeout=60, **kw)


def immutable(path, on=True):
    """chattr +i: nobody, root included, may create or rename entries in the
    directory (what a read-only snapshot directory means to jwtgated), while
    files already open in it stay writable."""
    subprocess.run(['chattr', '+i' if on else '-i', path], check=True)


def snapshot_version(path):
    return jgtest.read_snapshot(path)['version']


class SnapshotRetry(unittest.TestCase):
    def test_failed_snapshot_write_is_retried(self):
        # Item 11: the snapshot's directory read-only while a token is revoked:
        # acknowledged, not ready; writable again: published and ready, by itself.
        if os.geteuid() != 0:
            raise RuntimeError('this test uses chattr: run it as root')
        tmp = tempfile.mkdtemp(prefix='jwtgated-snapdir-')
        path = os.path.join(tmp, 'snapshot.jgs')
        srv = None
        try:
            srv = Server('--snapshot', path)
            w = World(srv)
            w.subscribe('a', 'a', ['orders:read'])
            token = srv.token(*w.client('a')).json()['access_token']
            view = srv.versions()[0]  # caught up first: nothing left for the publisher
            self.assertTrue(wait_for(lambda: srv.versions()[1] >= view))
            before = snapshot_version(path)
            immutable(tmp)
            r = srv.post_form('/oauth2/revoke', {'token': token}, auth=w.client('a'))
            self.assertEqual(r.status, 200, r)  # durable in the database: acknowledged
            # the publisher writes shortly after (--publish-delay), fails: not ready
            self.assertTrue(wait_for(lambda: srv.request('GET', '/readyz').status == 503),
                            srv.request('GET', '/readyz'))
            r = srv.request('GET', '/readyz')
            self.assertIn(b'snapshot', r.body)
            time.sleep(1.5)  # retried meanwhile, still failing
            self.assertEqual(snapshot_version(path), before)
            immutable(tmp, False)
            self.assertTrue(wait_for(lambda: srv.request('GET', '/readyz').status == 200),
                            srv.request('GET', '/readyz'))
            snap = jgtest.read_snapshot(path)
            self.assertGreater(snap['version'], before)
            r = srv.post_form('/oauth2/introspect', {'token': token}, auth=w.client('a'))
            self.assertEqual(r.json(), {'active': False})
            self.assertEqual(len(snap['revoked_jti']), 1)  # every gateway refuses it now
            self.assertIn('written again', srv.read_log())
        finally:
            subprocess.run(['chattr', '-i', tmp], check=False)
            if srv:
                srv.close()
            shutil.rmtree(tmp, ignore_errors=True)


SQLITE_FILE = 'the SQLite database file: on PostgreSQL there is none of ours'


class DiskFull(unittest.TestCase):
    @unittest.skipIf(jgtest.ON_POSTGRES, SQLITE_FILE + ' (a PostgreSQL full disk is 53100)')
    def test_full_disk_is_not_ready_and_says_so(self):
        # Item 12: ready while every write failed. Now: not ready, clear 503
        # answers, and ready again by itself once there is room.
        fs = Tmpfs('16m')
        srv = None
        try:
            srv = Server(data_dir=fs.path)
            w = World(srv)
            self.assertEqual(srv.request('GET', '/readyz').status, 200)
            filler = fs.fill()
            r = srv.request('GET', '/readyz')
            self.assertEqual(r.status, 503, r)
            statuses = []
            for i in range(50):
                st, body = srv.admin('POST', '/tenants', {'name': 'full-%d' % i})
                statuses.append(st)
                if st == 503:
                    self.assertIn('full', body['detail'])
                    self.assertEqual(srv.last.header('Content-Type'), 'application/problem+json')
                    break
            self.assertIn(503, statuses)
            r = srv.request('GET', '/readyz')
            self.assertEqual(r.status, 503)
            self.assertIn(b'full', r.body)
            os.unlink(filler)
            self.assertTrue(wait_for(lambda: srv.request('GET', '/readyz').status == 200),
                            srv.request('GET', '/readyz'))
            st, _ = srv.admin('POST', '/tenants', {'name': 'after-full'})
            self.assertEqual(st, 201)
            self.assertIsNotNone(w)
        finally:
            if srv:
                srv.close()
            fs.close()


class OneInstance(unittest.TestCase):
    def test_second_server_refused(self):
        # Item 13: a second serve on the same data started, rewrote the issuer
        # and could move the snapshot backwards.
        srv = Server('--issuer', 'https://auth.example.com')
        try:
            before = srv.snapshot()
            out = run('serve', '--data-dir', srv.data, '--master-key-file', srv.master,
                      '--port', '0', *srv.db_args)
            self.assertNotEqual(out.returncode, 0)
            self.assertIn('another jwtgated (pid %d)' % srv.proc.pid, out.stderr)
            # Another database beside the same snapshot is refused too.
            other = tempfile.mkdtemp(prefix='jwtgated-other-')
            try:
                run('init', '--data-dir', other, '--master-key-file', srv.master)
                out = run('serve', '--data-dir', other, '--master-key-file', srv.master,
                          '--snapshot', srv.snapshot_path, '--port', '0')
                self.assertNotEqual(out.returncode, 0)
                self.assertIn('snapshot', out.stderr)
            finally:
                shutil.rmtree(other, ignore_errors=True)
            time.sleep(1.2)
            after = srv.snapshot()
            self.assertEqual(after['issuer'], 'https://auth.example.com')
            self.assertEqual(after['version'], before['version'])
            # rotate-keys runs beside the server, and never writes the snapshot itself.
            out = run('rotate-keys', '--data-dir', srv.data, '--master-key-file', srv.master,
                      *srv.db_args)
            self.assertEqual(out.returncode, 0, out.stderr)
            snap = wait_for(lambda: srv.snapshot()['version'] > before['version'] and
                            srv.snapshot())
            self.assertEqual(snap['issuer'], 'https://auth.example.com')
        finally:
            srv.close()

    def test_snapshot_never_goes_backwards(self):
        srv = Server()
        try:
            version = srv.snapshot()['version']
            srv.stop()
            # A newer snapshot on disk than the database (a database restored
            # by hand, another writer): not replaced, not ready, and said so.
            snap = srv.snapshot()
            snap['version'] = version + 10
            with open(srv.snapshot_path, 'w') as f:
                json.dump(snap, f)
            srv.start()
            r = srv.request('GET', '/readyz')
            self.assertEqual(r.status, 503)
            self.assertIn(b'older than the published snapshot', r.body)
            st, _ = srv.admin('POST', '/tenants', {'name': 'while-older'})
            self.assertEqual(st, 201)  # durable; not published over the newer one
            self.assertEqual(srv.snapshot()['version'], version + 10)
            self.assertIn('jwtgated restore', srv.read_log())
        finally:
            srv.close()


@unittest.skipIf(jgtest.ON_POSTGRES, SQLITE_FILE)
class DatabaseReplaced(unittest.TestCase):
    def test_removed_database_refuses_writes(self):
        # Item 14: after rm jwtgated.db, writes answered 201 and were lost at
        # the next start.
        srv = Server()
        try:
            os.unlink(os.path.join(srv.data, 'jwtgated.db'))
            st, body = srv.admin('POST', '/tenants', {'name': 'into-the-void'})
            self.assertEqual(st, 503, body)
            self.assertIn('removed or replaced', body['detail'])
            r = srv.request('GET', '/readyz')
            self.assertEqual(r.status, 503)
            self.assertIn(b'removed or replaced', r.body)
        finally:
            srv.stop()
            shutil.rmtree(srv.tmp, ignore_errors=True)

    def test_replaced_database_refuses_writes_and_its_log_is_not_replayed(self):
        srv = Server()
        try:
            backup = os.path.join(srv.tmp, 'copy.db')
            self.assertEqual(run('backup', '--data-dir', srv.data, '--to', backup).returncode, 0)
            srv.admin('POST', '/tenants', {'name': 'after-copy'}, expect=201)
            db = os.path.join(srv.data, 'jwtgated.db')
            os.rename(backup, db)  # what an operator must not do
            st, body = srv.admin('POST', '/tenants', {'name': 'lost'})
            self.assertEqual(st, 503, body)
            self.assertEqual(srv.request('GET', '/readyz').status, 503)
            srv.kill9()  # the old database's -wal stays beside the new file
            self.assertTrue(os.path.getsize(db + '-wal') > 0)
            with self.assertRaises(RuntimeError) as cm:
                srv.start()
            self.assertIn('jwtgated restore', str(cm.exception))
            self.assertIn('-wal', str(cm.exception))
        finally:
            try:
                srv.stop()
            except RuntimeError:
                pass
            shutil.rmtree(srv.tmp, ignore_errors=True)


class BackupRestore(unittest.TestCase):
    @unittest.skipUnless(jgtest.ON_POSTGRES, 'the PostgreSQL store')
    def test_postgresql_refused(self):
        # Not ours to copy: pg_dump and pg_restore are (docs/jwtgated.md).
        srv = Server()
        try:
            out = run('backup', '--to', os.path.join(srv.tmp, 'b.db'), *srv.db_args)
            self.assertEqual(out.returncode, 2)
            self.assertIn('pg_dump', out.stderr)
            self.assertFalse(os.path.exists(os.path.join(srv.tmp, 'b.db')))
            out = run('restore', '--from', srv.master, '--master-key-file', srv.master,
                      *srv.db_args)
            self.assertEqual(out.returncode, 2)
            self.assertIn('pg_restore', out.stderr)
            self.assertEqual(srv.admin('GET', '/me')[0], 200)
        finally:
            srv.close()

    @unittest.skipIf(jgtest.ON_POSTGRES, SQLITE_FILE + ' (pg_dump, pg_restore)')
    def test_backup_while_serving_and_restore(self):
        srv = Server()
        try:
            w = World(srv)
            backup = os.path.join(srv.tmp, 'backup.db')
            out = run('backup', '--data-dir', srv.data, '--to', backup)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertEqual(os.stat(backup).st_mode & 0o777, 0o600)
            self.assertFalse(os.path.exists(backup + '-wal'))  # one self-contained file
            with sqlite3.connect(backup) as c:
                self.assertEqual(c.execute('PRAGMA integrity_check').fetchone()[0], 'ok')
                names = [r[0] for r in c.execute('SELECT name FROM tenants')]
            self.assertEqual(sorted(names), ['tenant-a', 'tenant-b'])
            # After the backup: a tenant that the restore must take away.
            _, later = srv.admin('POST', '/tenants', {'name': 'after-backup'}, expect=201)
            published = srv.snapshot()['version']
            # Refused while the server holds the database.
            out = run('restore', '--data-dir', srv.data, '--master-key-file', srv.master,
                      '--from', backup)
            self.assertNotEqual(out.returncode, 0)
            self.assertIn('another jwtgated', out.stderr)
            srv.stop()
            # A file that is not a jwtgated database is refused; nothing changes.
            junk = os.path.join(srv.tmp, 'junk.db')
            with open(junk, 'wb') as f:
                f.write(b'not a database' * 100)
            out = run('restore', '--data-dir', srv.data, '--master-key-file', srv.master,
                      '--from', junk)
            self.assertNotEqual(out.returncode, 0)
            self.assertIn('unchanged', out.stderr)
            out = run('restore', '--data-dir', srv.data, '--master-key-file', srv.master,
                      '--from', backup)
            self.assertEqual(out.returncode, 0, out.stderr)
            srv.start()
            st, _ = srv.admin('GET', '/tenants/' + later['id'])
            self.assertEqual(st, 404)  # the restored state
            st, _ = srv.admin('GET', '/tenants/' + w.tenants['a'])
            self.assertEqual(st, 200)
            snap = srv.snapshot()
            self.assertGreater(snap['version'], published)  # gateways take it as new
            self.assertEqual(srv.request('GET', '/readyz').status, 200)
            _, audit = srv.admin('GET', '/audit?limit=1000')
            self.assertIn('system.restore', [e['action'] for e in audit['items']])
            # Tokens are issued from the restored keys.
            w.subscribe('a', 'a', ['orders:read'])
            self.assertEqual(srv.token(*w.client('a')).status, 200)
        finally:
            srv.close()


@unittest.skipUnless(jgtest.ON_POSTGRES, 'the PostgreSQL store')
class PostgresRestart(unittest.TestCase):
    def test_recovers_by_itself(self):
        # PostgreSQL stopped under a running jwtgated: tokens are still issued
        # from the view, writes are refused (503) and it is not ready; once
        # PostgreSQL is back, new connections replace the dead ones by themselves.
        srv = Server()
        try:
            w = World(srv)
            w.subscribe('a', 'a', ['orders:read'])
            self.assertEqual(srv.request('GET', '/readyz').status, 200)
            srv.pg.stop()
            try:
                self.assertEqual(srv.token(*w.client('a')).status, 200)
                st, body = srv.admin('POST', '/tenants', {'name': 'while-down'})
                self.assertEqual(st, 503, body)
                self.assertTrue(wait_for(lambda: srv.request('GET', '/readyz').status == 503))
                self.assertEqual(srv.token(*w.client('a')).status, 200)
            finally:
                srv.pg.start()
            self.assertTrue(wait_for(lambda: srv.request('GET', '/readyz').status == 200),
                            srv.request('GET', '/readyz'))
            st, ten = srv.admin('POST', '/tenants', {'name': 'after-restart'})
            self.assertEqual(st, 201, ten)
            _, got = srv.admin('GET', '/tenants/%s' % ten['id'], expect=200)
            self.assertEqual(got['name'], 'after-restart')
            self.assertNotIn(srv.pg.password, srv.read_log())  # the URI is logged without it
        finally:
            srv.close()


if __name__ == '__main__':
    unittest.main(verbosity=2)
