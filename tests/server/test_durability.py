"""Durability: jwtgated is killed with SIGKILL at random moments while clients
stream changes at it. Every change that was acknowledged (2xx) must be there
after a restart, with its audit record; no change may exist without one; the
snapshot file must always be a complete document (atomic replacement)."""
import os
import random
import threading
import time
import unittest
import uuid

import jgtest
from jgtest import Server

ROUNDS = 5


class Durability(unittest.TestCase):
    def test_kill9_loses_no_acknowledged_change(self):
        srv = Server()
        rng = random.Random(int(os.environ.get('JG_SEED', time.time())))
        _, tenant = srv.admin('POST', '/tenants', {'name': 'durable'}, expect=201)
        acked_users, acked_apis = [], []
        total_attempts = 0
        try:
            for rnd in range(ROUNDS):
                stop = threading.Event()
                lock = threading.Lock()
                attempts = [0]

                def users():
                    while not stop.is_set():
                        name = 'u' + uuid.uuid4().hex[:12]
                        attempts[0] += 1
                        try:
                            st, _ = srv.admin('POST', '/users', {'name': name})
                        except OSError:
                            return  # the server is gone: not acknowledged
                        if st == 201:
                            with lock:
                                acked_users.append(name)

                def apis():
                    while not stop.is_set():
                        n = uuid.uuid4().hex[:12]
                        attempts[0] += 1
                        try:
                            st, doc = srv.admin('POST', '/tenants/%s/apis' % tenant['id'], {
                                'name': 'a' + n, 'version': 'v1', 'base_path': '/d/' + n,
                                'upstream': 'https://d.test', 'audience': 'https://d.test/' + n})
                        except OSError:
                            return
                        if st == 201:
                            with lock:
                                acked_apis.append(doc['id'])

                threads = [threading.Thread(target=f) for f in (users, users, apis)]
                for t in threads:
                    t.start()
                time.sleep(rng.uniform(0.1, 1.2))
                srv.kill9()
                stop.set()
                for t in threads:
                    t.join(timeout=30)
                total_attempts += attempts[0]
                # The snapshot is whole even after a kill in the middle of anything.
                snap = jgtest.read_snapshot(srv.snapshot_path)  # whole: its checksum holds
                self.assertEqual(snap['format'], 'jwtgate-snapshot')
                srv.start()
                _, users_now = srv.admin('GET', '/users', expect=200)
                names = {u['name'] for u in users_now['items']}
                missing = [n for n in acked_users if n not in names]
                self.assertEqual(missing, [], 'round %d lost acknowledged users' % rnd)
                _, apis_now = srv.admin('GET', '/tenants/%s/apis' % tenant['id'], expect=200)
                ids = {a['id'] for a in apis_now['items']}
                self.assertEqual([a for a in acked_apis if a not in ids], [],
                                 'round %d lost acknowledged APIs' % rnd)
                # Every change has its audit record, and only changes that exist do.
                seen = []
                after = 0
                while True:
                    _, page = srv.admin('GET', '/audit?limit=1000&after=%d' % after, expect=200)
                    if not page['items']:
                        break
                    seen += page['items']
                    after = page['items'][-1]['seq']
                audited_users = {e['after']['name'] for e in seen if e['action'] == 'user.create'}
                audited_apis = {e['target'] for e in seen if e['action'] == 'api.create'}
                self.assertEqual(audited_users, names)
                self.assertEqual(audited_apis, ids)
                # The snapshot written at start-up reflects the committed state.
                self.assertEqual({a['id'] for a in srv.snapshot()['apis']}, ids)
            print('durability: %d rounds, %d changes attempted, %d users and %d APIs '
                  'acknowledged, none lost' % (ROUNDS, total_attempts, len(acked_users),
                                               len(acked_apis)))
            self.assertGreater(len(acked_users) + len(acked_apis), ROUNDS)
        finally:
            srv.close()


if __name__ == '__main__':
    unittest.main(verbosity=2)
