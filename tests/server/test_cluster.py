"""Several jwtgated nodes on one PostgreSQL database (issue 16): a change made through
one node is in every node's view and snapshot, applied from the change log (not read
whole); a token issued by one node and revoked through another is inactive everywhere;
a key rotation happens once; a write missing from the log is found by the poll and read
whole; a node killed leaves the others serving; PostgreSQL restarted under them.
PostgreSQL only (CTest: server.pg.cluster).

The waits are generous (10 s): how fast a change reaches the other nodes is measured
by scripts/bench-cluster, not asserted here."""
import json
import re
import unittest

from jgtest import Server, World
from jgtest.jwtgated import ON_POSTGRES
from jgtest.procs import wait_until

WAIT = 10
ISSUER = ('--issuer', 'https://cluster.test')


def metric(srv, name):
    text = srv.request('GET', '/metrics').body.decode()
    m = re.search(r'^%s (\d+(?:\.\d+)?)$' % re.escape(name), text, re.M)
    return float(m.group(1)) if m else None


def view_version(srv):
    return srv.versions()[0]


def caught_up(nodes):
    """Every node's view at the newest version any of them has."""
    newest = max(view_version(n) for n in nodes)
    wait_until(lambda: all(view_version(n) >= newest for n in nodes), WAIT,
               what='every node at version %d' % newest)
    return newest


def state(srv):
    """The published snapshot without what differs between nodes (issuer, time)."""
    snap = srv.snapshot()
    snap.pop('generated_at', None)
    for k, key in (('apis', 'id'), ('subscriptions', 'id'), ('revoked_jti', 'jti')):
        snap[k] = sorted(snap[k], key=lambda e: e[key])
    snap['suspended_clients'] = sorted(snap['suspended_clients'])
    # each node seals the provider keys itself (a random IV each): the same keys, other bytes
    for a in snap.get('llm', {}).get('apis', []):
        for p in a['providers']:
            for k in p['keys']:
                k['sealed'] = 'S'
    return json.loads(json.dumps(snap).replace(srv.issuer, 'I'))


@unittest.skipUnless(ON_POSTGRES, 'several nodes share a PostgreSQL database')
class Cluster(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # one issuer, as behind a load balancer: a token of one node is every node's
        cls.nodes = []
        try:
            cls.n1 = Server(*ISSUER)
            cls.nodes.append(cls.n1)
            cls.n2 = Server(*ISSUER, join=cls.n1)
            cls.nodes.append(cls.n2)
            cls.n3 = Server(*ISSUER, join=cls.n1)
            cls.nodes.append(cls.n3)
            cls.w = World(cls.n1)
            cls.w.subscribe('a', 'a', ['orders:read'])
            caught_up(cls.nodes)
        except BaseException:
            cls.tearDownClass()  # no node outlives a failed set-up
            raise

    @classmethod
    def tearDownClass(cls):
        for n in reversed(cls.nodes):
            n.close()

    def test_a_change_through_one_node_is_applied_by_the_others(self):
        built = [metric(n, 'jwtgated_views_total{how="built"}') for n in self.nodes]
        derived = [metric(n, 'jwtgated_views_total{how="derived"}') for n in self.nodes]
        ta = self.w.tenants['a']
        _, api = self.n1.admin('POST', '/tenants/%s/apis' % ta, {
            'name': 'spread', 'version': 'v1', 'base_path': '/a/spread',
            'upstream': 'http://127.0.0.1:9/s', 'audience': 'https://spread.example',
            'scopes': ['s:read'], 'policy': 'automatic'}, expect=201)
        self.n1.admin('POST', '/tenants/%s/apis/%s/lifecycle' % (ta, api['id']),
                      {'state': 'published'}, expect=200)
        version = caught_up(self.nodes)
        for i, n in enumerate(self.nodes):
            snap = n.snapshot()
            self.assertGreaterEqual(snap['version'], version)
            self.assertIn(api['id'], [a['id'] for a in snap['apis']], 'node %d' % (i + 1))
            meta = n.request('GET', '/.well-known/oauth-authorization-server').json()
            self.assertIn('s:read', meta['scopes_supported'], 'node %d' % (i + 1))
            # applied from the change log, not read whole
            self.assertEqual(metric(n, 'jwtgated_views_total{how="built"}'), built[i])
            self.assertGreater(metric(n, 'jwtgated_views_total{how="derived"}'), derived[i])

    def test_a_token_from_one_node_revoked_through_another_is_inactive_on_all(self):
        client = self.w.client('a')
        r = self.n2.token(*client)
        self.assertEqual(r.status, 200, r)
        tok = r.json()['access_token']
        for n in self.nodes:  # every node knows the keys of every other
            r = n.post_form('/oauth2/introspect', {'token': tok}, auth=client)
            self.assertTrue(r.json()['active'], r.json())
        r = self.n3.post_form('/oauth2/revoke', {'token': tok}, auth=client)
        self.assertEqual(r.status, 200)
        caught_up(self.nodes)
        for i, n in enumerate(self.nodes):
            r = n.post_form('/oauth2/introspect', {'token': tok}, auth=client)
            self.assertEqual(r.json(), {'active': False}, 'node %d' % (i + 1))
        jtis = [[e['jti'] for e in n.snapshot()['revoked_jti']] for n in self.nodes]
        for j in jtis:
            self.assertEqual(sorted(j), sorted(jtis[0]))
            self.assertTrue(j)

    def test_every_kind_of_change_applied_from_the_log_equals_the_writer_s_view(self):
        w, n1 = self.w, self.n1
        ta, tb = w.tenants['a'], w.tenants['b']
        api_a, api_b = w.apis['a']['id'], w.apis['b']['id']
        n1.admin('PATCH', '/tenants/%s/apis/%s' % (ta, api_a), {
            'scopes': ['orders:read', 'orders:admin']}, expect=200)
        _, gone = n1.admin('POST', '/tenants/%s/apps' % tb, {'name': 'gone'}, expect=201)
        _, sub = n1.admin('POST', '/tenants/%s/subscriptions' % tb, {
            'app_id': gone['id'], 'api_id': api_b, 'scopes': ['orders:read']}, expect=201)
        n1.admin('POST', '/tenants/%s/subscriptions/%s/approve' % (tb, sub['id']),
                 {'reason': 't'}, expect=200)
        # changes through the other nodes too, interleaved
        self.n2.admin('PATCH', '/tenants/%s/apps/%s' % (tb, w.apps['b']['id']),
                      {'suspended': True}, expect=200)
        _, sec = self.n3.admin('POST', '/tenants/%s/apps/%s/secrets' % (ta, w.apps['a']['id']),
                               {}, expect=201)
        n1.admin('DELETE', '/tenants/%s/apps/%s' % (tb, gone['id']), expect=204)
        self.n2.admin('POST', '/tenants/%s/apis/%s/lifecycle' % (ta, api_a),
                      {'state': 'deprecated', 'sunset': 4102444800}, expect=200)
        caught_up(self.nodes)
        states = [state(n) for n in self.nodes]
        self.assertEqual(states[1], states[0])
        self.assertEqual(states[2], states[0])
        self.assertIn(w.apps['b']['client_id'], states[0]['suspended_clients'])
        # the secret made through node 3 works at node 1 and node 2
        for n in self.nodes:
            r = n.token(w.apps['a']['client_id'], sec['client_secret'])
            self.assertEqual(r.status, 200, r)
        # the suspended app is refused by every node
        for n in self.nodes:
            r = n.token(*w.client('b'))
            self.assertEqual((r.status, r.json()['error']), (400, 'unauthorized_client'))
        self.n3.admin('PATCH', '/tenants/%s/apps/%s' % (tb, w.apps['b']['id']),
                      {'suspended': False}, expect=200)
        caught_up(self.nodes)

    def test_a_key_rotation_happens_once_and_every_node_signs_with_the_new_key(self):
        def count(sql):
            return int(self.n1.sql(sql).split()[-1])
        keys = count('SELECT count(*) FROM keys')
        self.n2.admin('POST', '/keys/rotate', {}, expect=200)
        caught_up(self.nodes)
        # one rotation, whichever node ran it: a new key per purpose rotated (signing and
        # encryption: "both"), one active each (and the gateway secrets key's, untouched)
        self.assertEqual(count('SELECT count(*) FROM keys') - keys, 2)
        self.assertEqual(count("SELECT count(*) FROM keys WHERE state = 'active'"), 3)
        self.assertEqual(count("SELECT count(*) FROM keys WHERE state = 'active'"
                               " AND purpose = 'secrets'"), 1)
        jwks = [n.request('GET', '/.well-known/jwks.json').json() for n in self.nodes]
        kids = [sorted(k['kid'] for k in j['keys']) for j in jwks]
        self.assertEqual(kids[1], kids[0])
        self.assertEqual(kids[2], kids[0])
        for n in self.nodes:
            r = n.token(*self.w.client('a'))
            self.assertEqual(r.status, 200)
            tok = r.json()['access_token']
            for m in self.nodes:
                r = m.post_form('/oauth2/introspect', {'token': tok}, auth=self.w.client('a'))
                self.assertTrue(r.json()['active'])

    def test_a_write_missing_from_the_change_log_is_found_and_read_whole(self):
        """A writer that logged nothing (an older jwtgated, a log pruned past a node):
        no NOTIFY either, so the nodes' poll finds the store ahead, and with no log
        entry for it they read the whole store."""
        built = [metric(n, 'jwtgated_views_total{how="built"}') for n in self.nodes]
        api = self.w.apis['a']['id']
        self.n1.sql("UPDATE apis SET upstream = 'http://127.0.0.1:9/by-hand' WHERE id = '%s';"
                    " UPDATE meta SET v = v + 1 WHERE k = 'version'" % api)
        caught_up(self.nodes)
        for i, n in enumerate(self.nodes):
            wait_until(lambda: metric(n, 'jwtgated_views_total{how="built"}') > built[i], WAIT,
                       what='node %d read the store' % (i + 1))
            ups = [a['upstream'] for a in n.snapshot()['apis'] if a['id'] == api]
            self.assertEqual(ups, ['http://127.0.0.1:9/by-hand'])
        # and the next change is applied from the log again
        derived = [metric(n, 'jwtgated_views_total{how="derived"}') for n in self.nodes]
        self.n1.admin('PATCH', '/tenants/%s/apis/%s' % (self.w.tenants['a'], api),
                      {'upstream': 'http://127.0.0.1:9/logged'}, expect=200)
        caught_up(self.nodes)
        for i, n in enumerate(self.nodes):
            self.assertGreater(metric(n, 'jwtgated_views_total{how="derived"}'), derived[i])
        self.assertEqual(state(self.n2), state(self.n1))

    def test_over_quota_decided_by_one_node_is_in_every_snapshot(self):
        """Usage reported to one node, over the limit: the entry it writes reaches the
        other nodes' snapshots (docs/ai-gateway.md "Over-quota clients")."""
        import time
        import uuid
        ta, tb = self.w.tenants['a'], self.w.tenants['b']
        _, api = self.n1.admin('POST', '/tenants/%s/apis' % ta, {
            'name': 'llmq', 'version': 'v1', 'base_path': '/llmq', 'kind': 'llm',
            'audience': 'https://llmq.test', 'scopes': ['chat']}, expect=201)
        self.n1.admin('POST', '/tenants/%s/apis/%s/lifecycle' % (ta, api['id']),
                      {'state': 'published'}, expect=200)
        _, app = self.n1.admin('POST', '/tenants/%s/apps' % tb, {'name': 'llmq'}, expect=201)
        _, sub = self.n1.admin('POST', '/tenants/%s/subscriptions' % tb, {
            'app_id': app['id'], 'api_id': api['id'], 'scopes': ['chat']}, expect=201)
        self.n1.admin('POST', '/tenants/%s/subscriptions/%s/approve' % (ta, sub['id']),
                      {'limits': {'tokens_per_day': 10}}, expect=200)
        _, gw = self.n1.admin('POST', '/gateways', {'name': 'q-' + uuid.uuid4().hex[:6], 'jwk': {
            'kty': 'EC', 'crv': 'P-256', 'x': 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
            'y': 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0'}}, expect=201)
        caught_up(self.nodes)
        day = int(time.time()) // 86400 * 86400
        rec = {'minute': int(time.time()) // 60 * 60, 'client_id': app['client_id'],
               'api': api['id'], 'model': 'm', 'provider': 'p', 'key_id': 'k', 'requests': 1,
               'input_tokens': 10, 'output_tokens': 0, 'status': 200}
        r = self.n2.request('POST', '/gateway/v1/usage',
                            json.dumps({'batch_id': 'q1', 'records': [rec]}),
                            {'Authorization': 'Bearer ' + gw['credential'],
                             'Content-Type': 'application/json'})
        self.assertEqual(r.status, 200, r)
        caught_up(self.nodes)
        for n in self.nodes:
            got = [(e['client_id'], e['api_id'], e['until'])
                   for e in n.snapshot().get('over_quota', [])]
            self.assertIn((app['client_id'], api['id'], day + 86400), got)

    def test_z_a_node_killed_leaves_the_others_serving(self):
        n3 = self.n3
        n3.kill9()
        r = self.n1.token(*self.w.client('a'))
        self.assertEqual(r.status, 200)
        self.n2.admin('POST', '/tenants', {'name': 'after-kill'}, expect=201)
        caught_up([self.n1, self.n2])
        n3.start()
        caught_up(self.nodes)
        self.assertEqual(state(n3), state(self.n1))

    def test_zz_postgresql_restarted_under_the_cluster(self):
        """Every node keeps issuing from its view and refuses writes while PostgreSQL is
        down; afterwards every node is ready again by itself and follows the others."""
        self.n1.pg.stop()
        try:
            for n in self.nodes:
                self.assertEqual(n.token(*self.w.client('a')).status, 200)
            st, _ = self.n2.admin('POST', '/tenants', {'name': 'while-down'})
            self.assertEqual(st, 503)
            for n in self.nodes:
                wait_until(lambda: n.request('GET', '/readyz').status == 503, WAIT,
                           what='not ready while PostgreSQL is down')
        finally:
            self.n1.pg.start()
        for n in self.nodes:
            wait_until(lambda: n.request('GET', '/readyz').status == 200, 30,
                       what='ready again')
        _, t = self.n3.admin('POST', '/tenants', {'name': 'after-restart'}, expect=201)
        caught_up(self.nodes)
        for n in self.nodes:
            n.admin('GET', '/tenants/%s' % t['id'], expect=200)
        self.assertEqual(state(self.n1), state(self.n3))


if __name__ == '__main__':
    unittest.main(verbosity=2)
