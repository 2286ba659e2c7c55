"""The harness's own tests, part 3: a throwaway PostgreSQL 15 cluster
(jgtest.PostgreSQL), the shared store of issue 16: started as an
unprivileged user on a loopback port, password-only, data kept across a
restart, nothing left behind."""
import os
import unittest

import jgtest
from jgtest import procs


class Cluster(unittest.TestCase):

    def test_throwaway_cluster(self):
        pg = jgtest.PostgreSQL().start()
        try:
            self.assertEqual(pg.psql('SELECT 1'), '1')
            self.assertTrue(pg.psql('SHOW server_version').startswith('15.'))
            # not root: initdb and postgres refuse it, and a test server should not be
            owner = os.stat(pg.data).st_uid
            self.assertNotEqual(owner, 0)
            with open('/proc/%d/status' % pg.svc.pid) as f:
                uid = [line.split()[1] for line in f if line.startswith('Uid:')][0]
            self.assertEqual(int(uid), owner)
            # TCP on loopback only, no Unix socket, a password is needed
            self.assertEqual(pg.psql('SHOW listen_addresses'), '127.0.0.1')
            self.assertEqual(pg.psql('SHOW unix_socket_directories'), '')
            refused = pg.psql('SELECT 1', check=False, password='wrong')
            self.assertNotEqual(refused.returncode, 0)
            self.assertIn('password authentication failed', refused.stderr)
            self.assertIn('password=' + pg.password, pg.dsn('jwtgate'))
            self.assertTrue(pg.url().startswith('postgresql://jwtgate:'))
            pg.psql('CREATE DATABASE jwtgate')
            pg.psql('CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (2)',
                    db='jwtgate')
            # restarted: the same port, the data kept
            port = pg.port
            pg.stop()
            self.assertFalse(pg.svc.running())
            pg.start()
            self.assertEqual(pg.port, port)
            self.assertEqual(pg.psql('SELECT count(*) FROM t', db='jwtgate'), '2')
            with self.assertRaises(RuntimeError):
                pg.psql('SELECT * FROM missing', db='jwtgate')
            pid = pg.svc.pid
            backends = procs.descendants(pid)
            self.assertTrue(backends)   # checkpointer, walwriter, ...
            self.assertEqual(pg.crashes(), [])
        finally:
            pg.close()
        self.assertFalse(os.path.exists(pg.dir))
        self.assertEqual([p for p in backends | {pid} if os.path.exists('/proc/%d' % p)], [])


if __name__ == '__main__':
    jgtest.main()
