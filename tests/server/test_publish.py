"""The snapshot publisher (issue 15): no change waits for the snapshot, a burst of
changes is one write, a change derives the view from the previous one (and the
result equals a view built from the store), a clean stop leaves
the newest snapshot, and every change still reaches the snapshot. Each fails
against a jwtgated that writes the snapshot inside every change."""
import json
import os
import re
import unittest

from jgtest import Server, World


def metric(srv, name):
    text = srv.request('GET', '/metrics').body.decode()
    m = re.search(r'^%s (\d+(?:\.\d+)?)$' % re.escape(name), text, re.M)
    return float(m.group(1)) if m else None


class Publisher(unittest.TestCase):
    def test_a_burst_of_changes_is_one_write(self):
        with Server('--publish-delay', '400') as srv:
            _, t = srv.admin('POST', '/tenants', {'name': 'burst'}, expect=201)
            srv.snapshot()  # caught up
            writes = metric(srv, 'jwtgated_snapshot_writes_total')
            for i in range(20):
                srv.admin('POST', '/tenants/%s/apis' % t['id'], {
                    'name': 'api%d' % i, 'version': 'v1', 'base_path': '/b%d' % i,
                    'upstream': 'http://127.0.0.1:9', 'audience': 'https://a/%d' % i,
                    'scopes': ['read'], 'policy': 'automatic'}, expect=201)
            snap = srv.snapshot()
            self.assertEqual(len([a for a in snap['apis'] if a['tenant_id'] == t['id']]), 20)
            # twenty changes in well under the delay: one or two writes, not twenty
            self.assertLessEqual(metric(srv, 'jwtgated_snapshot_writes_total') - writes, 3)

    def test_a_change_is_answered_before_the_snapshot_is_written(self):
        with Server('--publish-delay', '3000') as srv:
            before = srv.versions()
            srv.admin('POST', '/tenants', {'name': 'quick'}, expect=201)
            view, published = srv.versions()
            self.assertEqual(view, before[0] + 1)
            # answered while the file still holds the previous snapshot: the
            # answer did not wait for the write (no timing threshold needed)
            self.assertEqual(published, before[1])
            self.assertEqual(srv.snapshot(timeout=10)['version'], view)  # then written

    def test_changes_derive_the_view(self):
        with Server() as srv:
            w = World(srv)
            w.subscribe('a', 'a', ['orders:read'])
            tokens = [srv.token(*w.client('a')).json()['access_token'] for _ in range(3)]
            built = metric(srv, 'jwtgated_views_total{how="built"}')
            derived = metric(srv, 'jwtgated_views_total{how="derived"}')
            for tok in tokens:
                r = srv.post_form('/oauth2/revoke', {'token': tok}, auth=w.client('a'))
                self.assertEqual(r.status, 200)
                # the derived view answers at once: the token is no longer active
                r = srv.post_form('/oauth2/introspect', {'token': tok}, auth=w.client('a'))
                self.assertEqual(r.json(), {'active': False})
            self.assertEqual(metric(srv, 'jwtgated_views_total{how="derived"}') - derived, 3)
            snap = srv.snapshot()
            self.assertEqual(len(snap['revoked_jti']), 3)
            # an admin change is derived too, and the view stays complete
            srv.admin('POST', '/tenants', {'name': 'after'}, expect=201)
            self.assertEqual(metric(srv, 'jwtgated_views_total{how="derived"}') - derived, 4)
            self.assertEqual(metric(srv, 'jwtgated_views_total{how="built"}'), built)
            self.assertEqual(len(srv.snapshot()['revoked_jti']), 3)
            for tok in tokens:
                r = srv.post_form('/oauth2/introspect', {'token': tok}, auth=w.client('a'))
                self.assertEqual(r.json(), {'active': False})

    def test_derived_views_equal_a_rebuild(self):
        """Every kind of change, each applied to the previous view; then the
        snapshot and the answers of a view built from the store at the same
        version must be the same."""
        with Server() as srv:
            w = World(srv)
            ta, tb = w.tenants['a'], w.tenants['b']
            api_a, api_b = w.apis['a']['id'], w.apis['b']['id']
            w.subscribe('a', 'a', ['orders:read', 'orders:write'])
            w.subscribe('b', 'a', ['orders:read', 'orders:write'])
            w.subscribe('a', 'b', ['orders:read'])
            tok = srv.token(*w.client('a')).json()['access_token']
            # an API drops a scope (its subscriptions are trimmed)
            srv.admin('PATCH', '/tenants/%s/apis/%s' % (ta, api_a), {
                'scopes': ['orders:read', 'orders:admin']}, expect=200)
            # a draft API moves to another audience, then is published
            _, draft = srv.admin('POST', '/tenants/%s/apis' % ta, {
                'name': 'draft', 'version': 'v1', 'base_path': '/a/draft',
                'upstream': 'http://127.0.0.1:9/d', 'audience': 'https://d.example/1',
                'scopes': ['d:read']}, expect=201)
            srv.admin('PATCH', '/tenants/%s/apis/%s' % (ta, draft['id']),
                      {'audience': 'https://d.example/2'}, expect=200)
            srv.admin('POST', '/tenants/%s/apis/%s/lifecycle' % (ta, draft['id']),
                      {'state': 'published'}, expect=200)
            # an app with its subscription, then deleted (its rows cascade)
            _, gone = srv.admin('POST', '/tenants/%s/apps' % tb, {'name': 'gone'}, expect=201)
            _, sub = srv.admin('POST', '/tenants/%s/subscriptions' % tb, {
                'app_id': gone['id'], 'api_id': api_b, 'scopes': ['orders:read']}, expect=201)
            srv.admin('POST', '/tenants/%s/subscriptions/%s/approve' % (tb, sub['id']),
                      {'reason': 't'}, expect=200)
            srv.admin('DELETE', '/tenants/%s/apps/%s' % (tb, gone['id']), expect=204)
            # suspension, a second secret, a revoked subscription, a deprecation
            srv.admin('PATCH', '/tenants/%s/apps/%s' % (tb, w.apps['b']['id']),
                      {'suspended': True}, expect=200)
            _, sec = srv.admin('POST', '/tenants/%s/apps/%s/secrets' % (ta, w.apps['a']['id']),
                               {}, expect=201)
            _, subs = srv.admin('GET', '/tenants/%s/subscriptions' % ta)
            listed = subs['items'] if isinstance(subs, dict) else subs
            ours = [s for s in listed if s['api_id'] == api_b and s['state'] == 'approved']
            self.assertEqual(len(ours), 1)
            srv.admin('POST', '/tenants/%s/subscriptions/%s/revoke' % (tb, ours[0]['id']),
                      {'reason': 't'}, expect=200)
            srv.admin('POST', '/tenants/%s/apis/%s/lifecycle' % (ta, api_a),
                      {'state': 'deprecated', 'sunset': 4102444800}, expect=200)
            srv.post_form('/oauth2/revoke', {'token': tok}, auth=w.client('a'))
            srv.admin('POST', '/keys/rotate', {}, expect=200)
            self.assertEqual(metric(srv, 'jwtgated_views_total{how="built"}'), 1)  # the start

            def state():
                snap = srv.snapshot()
                snap.pop('generated_at', None)
                for k, key in (('apis', 'id'), ('subscriptions', 'id'), ('revoked_jti', 'jti')):
                    snap[k] = sorted(snap[k], key=lambda e: e[key])
                snap['suspended_clients'] = sorted(snap['suspended_clients'])
                r = srv.token(w.apps['a']['client_id'], sec['client_secret'])  # the new secret
                body = r.json()
                meta = srv.request('GET', '/.well-known/oauth-authorization-server').json()
                # the port (so the issuer) changes with the restart
                return json.loads(json.dumps([snap, r.status, body.get('scope'),
                                              body.get('error'), meta]).replace(srv.issuer, 'I'))
            derived = state()
            self.assertIn('orders:read', derived[2])
            self.assertEqual([a['audience'] for a in derived[0]['apis'] if a['id'] == draft['id']],
                             ['https://d.example/2'])
            self.assertIn('d:read', derived[4]['scopes_supported'])
            self.assertEqual(len(derived[0]['revoked_jti']), 1)
            srv.stop()
            os.unlink(srv.snapshot_path)  # so the rebuilt view is written at the same version
            srv.start()
            self.assertEqual(metric(srv, 'jwtgated_views_total{how="derived"}'), 0)
            rebuilt = state()
            self.assertEqual(derived[0]['version'], rebuilt[0]['version'])
            self.assertEqual(derived, rebuilt)

    def test_every_snapshot_names_its_database(self):
        # 128 random bits made with the database, in every snapshot, the same after a
        # restart; another database has another (the gateway refuses to mix them)
        with Server() as a, Server() as b:
            ida = a.snapshot()['db_id']
            self.assertRegex(ida, '^[0-9a-f]{32}$')
            self.assertNotEqual(ida, b.snapshot()['db_id'])
            a.admin('POST', '/tenants', {'name': 'x'}, expect=201)
            a.stop()
            a.start()
            self.assertEqual(a.snapshot()['db_id'], ida)

    def test_a_clean_stop_writes_what_is_pending(self):
        srv = Server('--publish-delay', '30000')
        try:
            srv.admin('POST', '/tenants', {'name': 'pending'}, expect=201)
            view, published = srv.versions()
            self.assertLess(published, view)
            srv.stop()  # SIGTERM: the publisher writes before the process exits
            self.assertEqual(srv.snapshot()['version'], view)
        finally:
            srv.close()


class Formats(unittest.TestCase):
    def test_json_form_on_request(self):
        # --snapshot-format json: format 1 for gateways that predate format 2,
        # through the same publisher and atomic writer
        with Server('--snapshot-format', 'json') as srv:
            _, t = srv.admin('POST', '/tenants', {'name': 'json-form'}, expect=201)
            doc = srv.snapshot()
            with open(srv.snapshot_path, 'rb') as f:
                self.assertEqual(f.read(1), b'{')
            self.assertEqual((doc['format'], doc['format_version']), ('jwtgate-snapshot', 1))
            self.assertTrue(all('d' in k for k in doc['decryption_keys']['keys']))
            self.assertEqual(doc['version'], srv.versions()[0])

    def test_compiled_by_default_and_unknown_form_refused(self):
        with Server() as srv:
            with open(srv.snapshot_path, 'rb') as f:
                self.assertEqual(f.read(8), b'JGSNAP\r\n')
        with self.assertRaises(RuntimeError):
            Server('--snapshot-format', 'xml')


if __name__ == '__main__':
    unittest.main()
