"""The snapshot publisher (issue 15): no change waits for the snapshot, a burst of
changes is one write, a revocation does not rebuild the view, a clean stop leaves
the newest snapshot, and every change still reaches the snapshot. Each fails
against a jwtgated that writes the snapshot inside every change."""
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

    def test_a_revocation_derives_the_view(self):
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
            self.assertEqual(metric(srv, 'jwtgated_views_total{how="built"}'), built)
            snap = srv.snapshot()
            self.assertEqual(len(snap['revoked_jti']), 3)
            # a change of another kind after derived views: built, and still complete
            srv.admin('POST', '/tenants', {'name': 'after'}, expect=201)
            self.assertEqual(metric(srv, 'jwtgated_views_total{how="built"}'), built + 1)
            self.assertEqual(len(srv.snapshot()['revoked_jti']), 3)
            for tok in tokens:
                r = srv.post_form('/oauth2/introspect', {'token': tok}, auth=w.client('a'))
                self.assertEqual(r.json(), {'active': False})

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
