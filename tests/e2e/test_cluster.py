"""The cluster end to end (issue 16): PostgreSQL, three jwtgated nodes on one database, two
nginx gateways each with its own `jwtgate gateway sync` agent long-polling all three nodes,
and an upstream (jgtest.cluster). A change through node 1 is enforced by both gateways; a
token issued by node 2 and revoked through node 3 is refused by both; node 1 killed:
tokens still issued by the others and the agents fail over; PostgreSQL stopped: the
gateways keep serving from their last snapshot while jwtgated is not ready and refuses
writes with 503, and everything recovers when it is back; a gateway's credential revoked:
its agent gets 401 and keeps its last snapshot, the other gateway goes on.

How fast each step reaches the gateways is printed (the issue's "within 1 s"); the tests
wait up to 10 s: these machines are shared, speed is measured by the benchmarks."""
import unittest

from jgtest.cluster import Cluster
from jgtest.jwtgated import ON_POSTGRES

WAIT = 10


@unittest.skipUnless(ON_POSTGRES, 'the cluster runs on PostgreSQL (CTest: e2e.pg.cluster)')
class ClusterEndToEnd(unittest.TestCase):
    # The order matters: the destructive tests come last (test_x..., test_y..., test_z...).

    @classmethod
    def setUpClass(cls):
        cls.c = Cluster(nodes=3, gateways=2)  # closes what it started if it fails
        try:
            cls.n1, cls.n2, cls.n3 = cls.c.nodes
            cls.gws = cls.c.gateways
            cls.api = cls.c.api('orders')
            cls.app = cls.c.app('shop')
            cls.c.subscribe(cls.app, cls.api, ['orders:read'])
        except BaseException:
            cls.c.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.c.close()

    def on_both(self, token, status, what):
        took = self.c.until(lambda: all(g.get('/orders/1', token).status == status
                                        for g in self.gws), timeout=WAIT)
        print('%s: on both gateways after %.0f ms' % (what, took * 1000))

    def test_a_change_through_node_1_is_enforced_by_both_gateways(self):
        app = self.c.app('change')
        self.c.subscribe(app, self.api, ['orders:read'])  # through node 1
        # node 3 applies it a few milliseconds after node 1 answered (docs/cluster.md)
        took = self.c.until(lambda: self.n3.token(app['client_id'],
                                                  app['client_secret']).status == 200,
                            timeout=WAIT)
        print('the approval through node 1 at node 3 after %.0f ms' % (took * 1000))
        tok = self.c.node_token(self.n3, app)
        self.on_both(tok, 200, 'a subscription approved through node 1')
        for g in self.gws:
            r = g.get('/orders/1', tok)
            self.assertEqual(r.json()['client_id'], app['client_id'])

    def test_a_token_from_node_2_revoked_through_node_3_is_refused_by_both(self):
        tok = self.c.node_token(self.n2, self.app)
        self.on_both(tok, 200, 'a token of node 2')
        r = self.n3.post_form('/oauth2/revoke', {'token': tok},
                              auth=(self.app['client_id'], self.app['client_secret']))
        self.assertEqual(r.status, 200)
        self.on_both(tok, 401, 'revoked through node 3')

    def test_x_node_1_killed_tokens_still_issued_and_the_agents_fail_over(self):
        app = self.c.app('after-kill')
        self.n1.kill9()
        try:
            _, sub = self.n2.admin('POST', '/tenants/%s/subscriptions' % self.c.tenant, {
                'app_id': app['id'], 'api_id': self.api['id'], 'scopes': ['orders:read']},
                expect=201)
            self.n3.admin('POST', '/tenants/%s/subscriptions/%s/approve' % (
                self.c.tenant, sub['id']), {'reason': 'e2e'}, expect=200)
            tok = self.c.node_token(self.n3, app)
            # the agents' first --url is the dead node 1: they get it from node 2 or 3
            self.on_both(tok, 200, 'a change with node 1 dead')
        finally:
            self.n1.start()
        self.c.until(lambda: self.n1.request('GET', '/readyz').status == 200, timeout=WAIT)

    def test_y_postgresql_stopped_gateways_serve_jwtgated_not_ready_then_recovers(self):
        c = self.c
        tok = c.node_token(self.n1, self.app)
        self.on_both(tok, 200, 'a token before PostgreSQL stops')
        pg = self.n1.pg
        pg.stop()
        try:
            for n in c.nodes:
                c.until(lambda: n.request('GET', '/readyz').status == 503, timeout=WAIT)
                st, _ = n.admin('POST', '/tenants', {'name': 'while-down'})
                self.assertEqual(st, 503)
            for g in self.gws:  # serving from the last snapshot
                self.assertEqual(g.get('/orders/1', tok).status, 200)
            # tokens are still issued from the nodes' views, and the gateways take them
            fresh = c.node_token(self.n2, self.app)
            self.on_both(fresh, 200, 'a token issued while PostgreSQL is down')
        finally:
            pg.start()
        for n in c.nodes:
            c.until(lambda: n.request('GET', '/readyz').status == 200, timeout=30)
        r = self.n2.post_form('/oauth2/revoke', {'token': tok},
                              auth=(self.app['client_id'], self.app['client_secret']))
        self.assertEqual(r.status, 200)
        self.on_both(tok, 401, 'a revocation after PostgreSQL is back')

    def test_z_a_revoked_gateway_credential_keeps_its_last_snapshot(self):
        c = self.c
        a2 = c.agents[1]
        app = c.app('after-revoke')
        c.srv.admin('POST', '/gateways/%s/revoke' % a2.id, {}, expect=200)
        code, err = a2.once()
        self.assertEqual(code, 4, err)
        c.until(lambda: '401' in a2.read_log(), timeout=WAIT)
        c.subscribe(app, self.api, ['orders:read'])
        tok = c.node_token(self.n1, app)
        # gateway 1 takes the change; gateway 2 keeps serving its last snapshot
        c.until(lambda: self.gws[0].get('/orders/1', tok).status == 200, timeout=WAIT)
        self.assertEqual(self.gws[1].get('/orders/1', tok).status, 401)
        old = c.node_token(self.n1, self.app)
        self.assertEqual(self.gws[1].get('/orders/1', old).status, 200)


if __name__ == '__main__':
    unittest.main(verbosity=2)
