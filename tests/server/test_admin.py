"""The admin API of jwtgated (/admin/v1): every resource, its errors (RFC 9457
problem details), API lifecycle and subscription state machines, secrets,
keys and rotation, the audit log, the snapshot, and start-up refusals."""
import json
import os
import stat
import subprocess
import time
import unittest
import uuid

import jgtest
from jgtest import Server, World


def uniq(prefix):
    return prefix + '-' + uuid.uuid4().hex[:8]


class AdminTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server()
        cls.w = World(cls.srv)
        cls.ta = cls.w.tenants['a']
        cls.tb = cls.w.tenants['b']
        cls.w.subscribe('a', 'a', ['orders:read'])

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def problem(self, resp_or_status, body=None, status=None):
        st, doc = resp_or_status
        self.assertEqual(st, status, doc)
        self.assertEqual(self.srv.last.header('Content-Type'), 'application/problem+json')
        self.assertEqual(doc['status'], status)
        self.assertIn('title', doc)
        return doc

    def new_api(self, tenant=None, **over):
        n = uuid.uuid4().hex[:8]
        body = {'name': 'api-' + n, 'version': 'v1', 'base_path': '/p/' + n,
                'upstream': 'https://backend.test/' + n, 'audience': 'https://aud.test/' + n,
                'scopes': ['read', 'write']}
        body.update(over)
        return self.srv.admin('POST', '/tenants/%s/apis' % (tenant or self.ta), body)

    def lifecycle(self, api, state, sunset=None, tenant=None):
        body = {'state': state}
        if sunset is not None:
            body['sunset'] = sunset
        return self.srv.admin('POST', '/tenants/%s/apis/%s/lifecycle' % (tenant or self.ta,
                                                                         api['id']), body)

    # ---- Authentication and request shape -----------------------------------------------

    def test_authentication(self):
        r = self.srv.request('GET', '/admin/v1/me')
        self.assertEqual(r.status, 401)
        self.assertEqual(r.header('Content-Type'), 'application/problem+json')
        self.assertIn('Bearer', r.header('WWW-Authenticate'))
        for bad in ('Bearer jgp_nope', 'Bearer ' + 'x' * 50, 'Basic abc',
                    'Bearer ' + self.srv.admin_token + 'x'):
            r = self.srv.request('GET', '/admin/v1/me', headers={'Authorization': bad})
            self.assertEqual(r.status, 401, bad)
        st, me = self.srv.admin('GET', '/me')
        self.assertEqual(st, 200)
        self.assertTrue(me['system_admin'])
        st, me = self.srv.admin('GET', '/me', token=self.w.tokens['a-viewer'])
        self.assertEqual([m['role'] for m in me['memberships']], ['viewer'])

    def test_request_shape(self):
        h = {'Authorization': 'Bearer ' + self.srv.admin_token}
        r = self.srv.request('POST', '/admin/v1/tenants', '{"name":"x"}',
                             dict(h, **{'Content-Type': 'text/plain'}))
        self.assertEqual(r.status, 415)
        r = self.srv.request('POST', '/admin/v1/tenants', '{"name":',
                             dict(h, **{'Content-Type': 'application/json'}))
        self.assertEqual(r.status, 400)
        r = self.srv.request('POST', '/admin/v1/tenants', '{"name":"a","name":"b"}',
                             dict(h, **{'Content-Type': 'application/json'}))
        self.assertEqual(r.status, 400)  # duplicate member names
        r = self.srv.request('POST', '/admin/v1/tenants', '[' * 100 + ']' * 100,
                             dict(h, **{'Content-Type': 'application/json'}))
        self.assertEqual(r.status, 400)  # too deep
        self.problem(self.srv.admin('POST', '/tenants', {'name': 'x', 'color': 'red'}),
                     status=422)
        self.problem(self.srv.admin('GET', '/tenants/'), status=404)
        self.problem(self.srv.admin('GET', '/nothing'), status=404)
        self.problem(self.srv.admin('GET', '//tenants'), status=404)
        st, doc = self.srv.admin('PUT', '/tenants')
        self.assertEqual(st, 405)
        r = self.srv.request('POST', '/admin/v1/tenants', '{"name":"' + 'a' * 70000 + '"}',
                             dict(h, **{'Content-Type': 'application/json'}))
        self.assertEqual(r.status, 413)

    # ---- Users, tokens, tenants, members ----------------------------------------------------

    def test_users_and_tokens(self):
        name = uniq('user')
        st, u = self.srv.admin('POST', '/users', {'name': name})
        self.assertEqual(st, 201)
        self.assertFalse(u['system_admin'])
        self.problem(self.srv.admin('POST', '/users', {'name': name}), status=409)
        self.problem(self.srv.admin('POST', '/users', {'name': 'bad name'}), status=422)
        self.problem(self.srv.admin('POST', '/users', {}), status=422)
        self.problem(self.srv.admin('POST', '/users', {'name': 'x', 'system_admin': 'yes'}),
                     status=422)
        self.problem(self.srv.admin('GET', '/users', token=self.w.tokens['a-owner']),
                     status=403)
        st, pat = self.srv.admin('POST', '/tokens', {'name': 't', 'user_id': u['id'],
                                                     'expires_in': 3600})
        self.assertEqual(st, 201)
        self.assertTrue(pat['token'].startswith('jgp_'))
        self.assertNotIn('hash', pat)
        self.assertEqual(pat['expires_at'], pat['created_at'] + 3600)
        st, mine = self.srv.admin('GET', '/tokens', token=pat['token'])
        self.assertEqual([t['id'] for t in mine['items']], [pat['id']])
        self.assertNotIn('hash', mine['items'][0])
        # Only a system administrator makes tokens for others.
        self.problem(self.srv.admin('POST', '/tokens', {'name': 't', 'user_id': u['id']},
                                    token=self.w.tokens['a-owner']), status=403)
        self.problem(self.srv.admin('POST', '/tokens', {'name': 't', 'expires_in': 5}),
                     status=422)
        self.problem(self.srv.admin('DELETE', '/tokens/' + pat['id'],
                                    token=self.w.tokens['a-owner']), status=404)
        self.assertEqual(self.srv.admin('DELETE', '/tokens/' + pat['id'],
                                        token=pat['token'])[0], 204)
        self.assertEqual(self.srv.admin('GET', '/me', token=pat['token'])[0], 401)

    def test_tenants(self):
        name = uniq('ten')
        st, t = self.srv.admin('POST', '/tenants', {'name': name, 'owner': 'a-viewer'})
        self.assertEqual(st, 201)
        self.problem(self.srv.admin('POST', '/tenants', {'name': name}), status=409)
        self.problem(self.srv.admin('POST', '/tenants', {'name': 'x', 'owner': 'nobody'}),
                     status=422)
        self.problem(self.srv.admin('POST', '/tenants', {'name': 'y'},
                                    token=self.w.tokens['a-owner']), status=403)
        _, all_t = self.srv.admin('GET', '/tenants')
        self.assertIn(t['id'], [x['id'] for x in all_t['items']])
        _, mine = self.srv.admin('GET', '/tenants', token=self.w.tokens['a-viewer'])
        self.assertEqual(sorted(x['id'] for x in mine['items']), sorted([self.ta, t['id']]))
        self.assertEqual(self.srv.admin('GET', '/tenants/' + t['id'],
                                        token=self.w.tokens['a-viewer'])[0], 200)
        self.problem(self.srv.admin('GET', '/tenants/' + t['id'],
                                    token=self.w.tokens['b-owner']), status=403)
        self.problem(self.srv.admin('GET', '/tenants/ten_missing'), status=404)

    def test_members(self):
        _, t = self.srv.admin('POST', '/tenants', {'name': uniq('ten'), 'owner': 'b-viewer'})
        base = '/tenants/%s/members' % t['id']
        owner = self.w.tokens['b-viewer']  # owner of this new tenant
        st, m = self.srv.admin('POST', base, {'user': 'a-developer', 'role': 'admin'},
                               token=owner)
        self.assertEqual(st, 201)
        self.problem(self.srv.admin('POST', base, {'user': 'a-developer', 'role': 'viewer'},
                                    token=owner), status=409)
        self.problem(self.srv.admin('POST', base, {'user': 'ghost', 'role': 'viewer'},
                                    token=owner), status=422)
        self.problem(self.srv.admin('POST', base, {'user': 'a-owner', 'role': 'king'},
                                    token=owner), status=422)
        # An admin of the tenant cannot manage members.
        self.problem(self.srv.admin('POST', base, {'user': 'a-owner', 'role': 'viewer'},
                                    token=self.w.tokens['a-developer']), status=403)
        uid = self.w.users['a-developer']
        st, m2 = self.srv.admin('PUT', base + '/' + uid, {'role': 'viewer'}, token=owner)
        self.assertEqual((st, m2['role']), (200, 'viewer'))
        _, lst = self.srv.admin('GET', base, token=self.w.tokens['a-developer'])
        self.assertEqual(len(lst['items']), 2)
        # The last owner stays.
        owner_id = self.w.users['b-viewer']
        self.problem(self.srv.admin('PUT', base + '/' + owner_id, {'role': 'admin'},
                                    token=owner), status=409)
        self.problem(self.srv.admin('DELETE', base + '/' + owner_id, token=owner), status=409)
        self.assertEqual(self.srv.admin('DELETE', base + '/' + uid, token=owner)[0], 204)
        self.problem(self.srv.admin('DELETE', base + '/' + uid, token=owner), status=404)

    # ---- APIs and their lifecycle ----------------------------------------------------------------

    def test_api_validation(self):
        for over in ({'base_path': 'relative'}, {'base_path': '/'}, {'base_path': '/a/'},
                     {'base_path': '/a/../b'}, {'base_path': '/a//b'}, {'base_path': '/a?b'},
                     {'base_path': '/a/%2e'}, {'base_path': '/a/.'}, {'upstream': 'ftp://x'},
                     {'upstream': 'nope'}, {'audience': 'no-scheme'},
                     {'audience': 'https://x#frag'}, {'policy': 'sometimes'},
                     {'scopes': ['ok', 'ok']}, {'scopes': ['bad scope']}, {'scopes': 'read'},
                     {'name': ''}, {'name': 'a b'}, {'version': None}, {'extra': 1}):
            st, doc = self.new_api(**over)
            self.assertEqual(st, 422, (over, doc))
            self.assertEqual(doc['status'], 422)

    def test_api_uniqueness(self):
        st, api = self.new_api()
        self.assertEqual(st, 201)
        self.assertEqual((api['state'], api['policy']), ('draft', 'manual'))
        # Base path and audience are unique across tenants.
        self.problem(self.new_api(tenant=self.tb, base_path=api['base_path']), status=409)
        self.problem(self.new_api(tenant=self.tb, audience=api['audience']), status=409)
        self.problem(self.new_api(name=api['name']), status=409)  # same name and version
        st, _ = self.new_api(name=api['name'], version='v2')
        self.assertEqual(st, 201)

    def test_api_read_update_delete(self):
        _, api = self.new_api()
        path = '/tenants/%s/apis/%s' % (self.ta, api['id'])
        self.assertEqual(self.srv.admin('GET', path, token=self.w.tokens['a-viewer'])[1]['id'],
                         api['id'])
        # Through another tenant's path it does not exist.
        self.problem(self.srv.admin('GET', '/tenants/%s/apis/%s' % (self.tb, api['id'])),
                     status=404)
        _, lst = self.srv.admin('GET', '/tenants/%s/apis' % self.ta)
        self.assertIn(api['id'], [x['id'] for x in lst['items']])
        st, up = self.srv.admin('PATCH', path, {'upstream': 'https://new.test',
                                                'scopes': ['read'], 'base_path': '/moved/' +
                                                api['id']})
        self.assertEqual((st, up['upstream'], up['scopes']), (200, 'https://new.test', ['read']))
        self.problem(self.srv.admin('PATCH', path, {}), status=422)
        self.lifecycle(api, 'published')
        self.problem(self.srv.admin('PATCH', path, {'base_path': '/again'}), status=409)
        self.problem(self.srv.admin('DELETE', path), status=409)
        _, draft = self.new_api()
        self.assertEqual(self.srv.admin('DELETE', '/tenants/%s/apis/%s' % (self.ta,
                                                                           draft['id']))[0], 204)

    def test_openapi_document(self):
        # An owner attaches an OpenAPI document (JSON, up to 1 MiB, bigger than any other
        # admin body); the catalogue lists it and serves it while the API is published.
        _, api = self.new_api()
        path = '/tenants/%s/apis/%s/openapi' % (self.ta, api['id'])
        doc = {'openapi': '3.1.0', 'info': {'title': 'Orders', 'version': '2.3'},
               'paths': {'/orders/{id}': {'get': {'summary': 'one order', 'responses': {
                   '200': {'description': 'the order'}}}}},
               'components': {'schemas': {'Big': {'description': 'x' * 100000}}}}
        st, facts = self.srv.admin('PUT', path, doc)
        self.assertEqual((st, facts['title'], facts['doc_version']), (200, 'Orders', '2.3'), facts)
        self.assertGreater(facts['size'], 100000)
        for bad in ({'info': {'title': 't'}, 'paths': {}}, {'openapi': '3.0.0', 'paths': {}},
                    {'openapi': '3.0.0', 'info': {'title': 't'}, 'paths': []},
                    {'openapi': '4', 'info': {'title': 't'}, 'paths': {}},
                    {'swagger': '1.2', 'info': {'title': 't'}, 'paths': {}}):
            self.problem(self.srv.admin('PUT', path, bad), status=422)
        huge = dict(doc, components={'x': 'y' * (1024 * 1024)})
        self.assertEqual(self.srv.admin('PUT', path, huge)[0], 413)
        deep = {'openapi': '3.0.0', 'info': {'title': 't'}, 'paths': {}}
        nest = deep
        for _ in range(100):
            nest['x'] = {}
            nest = nest['x']
        self.assertEqual(self.srv.admin('PUT', path, deep)[0], 400)  # depth is bounded too
        st, got = self.srv.admin('GET', path)
        self.assertEqual((st, got), (200, doc))
        # not in the catalogue while a draft
        cat = '/catalog/%s/openapi' % api['id']
        self.assertEqual(self.srv.admin('GET', cat)[0], 404)
        self.lifecycle(api, 'published')
        self.assertEqual(self.srv.admin('GET', cat), (200, doc))
        item = [x for x in self.srv.admin('GET', '/catalog')[1]['items'] if x['id'] == api['id']]
        self.assertEqual(item[0]['openapi'], {'title': 'Orders', 'version': '2.3'})
        _, other = self.new_api()
        self.lifecycle(other, 'published')
        item = [x for x in self.srv.admin('GET', '/catalog')[1]['items'] if x['id'] == other['id']]
        self.assertNotIn('openapi', item[0])
        # a developer of the tenant may read it but not replace it; another tenant's
        # user reads it through the catalogue only
        dev = self.w.tokens['a-developer']
        self.assertEqual(self.srv.admin('GET', path, token=dev)[0], 200)
        self.assertEqual(self.srv.admin('PUT', path, doc, token=dev)[0], 403)
        outsider = self.w.tokens['b-owner']
        self.assertEqual(self.srv.admin('GET', path, token=outsider)[0], 403)
        self.assertEqual(self.srv.admin('GET', cat, token=outsider), (200, doc))
        # the audit log has the facts, not the document
        _, audit = self.srv.admin('GET', '/tenants/%s/audit?limit=1000' % self.ta)
        entries = [e for e in audit['items'] if e['action'] == 'api.openapi']
        self.assertEqual(entries[-1]['after']['title'], 'Orders')
        self.assertNotIn('xxxxxxxx', json.dumps(entries))
        self.assertEqual(self.srv.admin('DELETE', path)[0], 204)
        self.assertEqual(self.srv.admin('GET', cat)[0], 404)
        self.assertEqual(self.srv.admin('DELETE', path)[0], 404)

    def test_require_binding(self):
        # What gateways demand of an API's tokens: none unless set; set at
        # creation or later; anything else refused; in the snapshot (only
        # when set, so snapshots of APIs without it are unchanged); audited.
        st, api = self.new_api()
        self.assertEqual((st, api['require_binding']), (201, 'none'))
        self.problem(self.new_api(require_binding='cert'), status=422)
        self.problem(self.new_api(require_binding=1), status=422)
        st, dpop = self.new_api(require_binding='dpop')
        self.assertEqual((st, dpop['require_binding']), (201, 'dpop'))
        path = '/tenants/%s/apis/%s' % (self.ta, api['id'])
        self.problem(self.srv.admin('PATCH', path, {'require_binding': 'DPoP'}), status=422)
        st, up = self.srv.admin('PATCH', path, {'require_binding': 'any'})
        self.assertEqual((st, up['require_binding']), (200, 'any'))
        self.lifecycle(api, 'published')
        self.lifecycle(dpop, 'published')
        st, up = self.srv.admin('PATCH', path, {'require_binding': 'mtls'})
        self.assertEqual((st, up['require_binding']), (200, 'mtls'))  # not fixed once published
        snap = {a['id']: a for a in self.srv.snapshot()['apis']}
        self.assertEqual(snap[api['id']]['require_binding'], 'mtls')
        self.assertEqual(snap[dpop['id']]['require_binding'], 'dpop')
        _, plain = self.new_api()
        self.lifecycle(plain, 'published')
        self.assertNotIn('require_binding',
                         [a for a in self.srv.snapshot()['apis'] if a['id'] == plain['id']][0])
        _, audit = self.srv.admin('GET', '/tenants/%s/audit?limit=1000' % self.ta)
        changes = [(e['before'].get('require_binding'), e['after']['require_binding'])
                   for e in audit['items']
                   if e['action'] == 'api.update' and e['target'] == api['id']]
        self.assertEqual(sorted(changes), [('any', 'mtls'), ('none', 'any')])

    def test_lifecycle(self):
        now = int(time.time())
        _, api = self.new_api()
        for bad in ('deprecated', 'retired', 'draft', 'gone'):
            st, doc = self.lifecycle(api, bad, sunset=now + 100 if bad == 'deprecated' else None)
            self.assertIn(st, (409, 422), (bad, doc))
        self.problem(self.lifecycle(api, 'published', sunset=now + 100), status=422)
        st, api2 = self.lifecycle(api, 'published')
        self.assertEqual((st, api2['state']), (200, 'published'))
        self.assertIsNone(api2['deprecated_at'])
        self.problem(self.lifecycle(api, 'published'), status=409)
        self.problem(self.lifecycle(api, 'deprecated'), status=422)  # needs a sunset
        self.problem(self.lifecycle(api, 'deprecated', sunset=now - 10), status=422)
        self.problem(self.lifecycle(api, 'retired'), status=409)
        st, api3 = self.lifecycle(api, 'deprecated', sunset=now + 3600)
        self.assertEqual((st, api3['state'], api3['sunset']), (200, 'deprecated', now + 3600))
        self.assertLessEqual(abs(api3['deprecated_at'] - time.time()), 5)
        snap_api = [a for a in self.srv.snapshot()['apis'] if a['id'] == api['id']][0]
        self.assertEqual((snap_api['state'], snap_api['sunset'], snap_api['deprecated_at']),
                         ('deprecated', now + 3600, api3['deprecated_at']))
        self.problem(self.lifecycle(api, 'published'), status=409)
        st, api4 = self.lifecycle(api, 'retired')
        self.assertEqual((api4['state'], api4['deprecated_at']), ('retired', api3['deprecated_at']))
        for s in ('draft', 'published', 'deprecated'):
            self.problem(self.lifecycle(api, s, sunset=now + 9 if s == 'deprecated' else None),
                         status=409)
        self.problem(self.srv.admin('PATCH', '/tenants/%s/apis/%s' % (self.ta, api['id']),
                                    {'upstream': 'https://x.test'}), status=409)
        _, audit = self.srv.admin('GET', '/tenants/%s/audit?limit=1000' % self.ta)
        moves = [(e['before']['state'], e['after']['state']) for e in audit['items']
                 if e['action'] == 'api.transition' and e['target'] == api['id']]
        self.assertEqual(moves, [('draft', 'published'), ('published', 'deprecated'),
                                 ('deprecated', 'retired')])

    # ---- Applications and secrets --------------------------------------------------------------

    def test_apps(self):
        base = '/tenants/%s/apps' % self.ta
        name = uniq('app')
        st, app = self.srv.admin('POST', base, {'name': name, 'secret_expires_in': 86400},
                                 token=self.w.tokens['a-developer'])
        self.assertEqual(st, 201)
        self.assertTrue(app['client_id'].startswith('jgc_'))
        self.assertTrue(app['client_secret'].startswith('jgs_'))
        self.assertGreaterEqual(len(app['client_secret']), 4 + 43)  # 256 bits
        self.problem(self.srv.admin('POST', base, {'name': name}), status=409)
        self.problem(self.srv.admin('POST', base, {'name': 'x', 'auth_method': 'magic'}),
                     status=422)
        self.problem(self.srv.admin('POST', base, {'name': 'x', 'jwks': {'keys': []}}),
                     status=422)
        self.problem(self.srv.admin('POST', base, {'name': 'x',
                                                   'auth_method': 'private_key_jwt'}),
                     status=422)
        path = base + '/' + app['id']
        st, got = self.srv.admin('GET', path, token=self.w.tokens['a-viewer'])
        self.assertNotIn('client_secret', got)
        self.problem(self.srv.admin('PATCH', path, {}), status=422)
        self.problem(self.srv.admin('PATCH', path, {'name': 'renamed'}), status=422)
        self.problem(self.srv.admin('PATCH', path, {'jwks': {'kty': 'EC'}}), status=422)
        secrets = path + '/secrets'
        _, lst = self.srv.admin('GET', secrets, token=self.w.tokens['a-viewer'])
        self.assertEqual(len(lst['items']), 1)
        s0 = lst['items'][0]
        self.assertNotIn('hash', s0)
        self.assertEqual(s0['hint'], app['client_secret'][:8])
        self.assertEqual(s0['expires_at'], s0['created_at'] + 86400)
        for _ in range(4):
            self.assertEqual(self.srv.admin('POST', secrets, {})[0], 201)
        self.problem(self.srv.admin('POST', secrets, {}), status=409)  # five live at most
        self.problem(self.srv.admin('DELETE', secrets + '/sec_missing'), status=404)
        self.problem(self.srv.admin('POST', secrets, {'expires_in': 1}), status=422)
        # No secret or hash anywhere in the database's audit trail or the snapshot.
        with open(self.srv.snapshot_path, 'rb') as f:
            snap_bytes = f.read()
        self.assertNotIn(app['client_secret'].encode(), snap_bytes)
        self.assertNotIn(app['client_secret'], json.dumps(self.srv.snapshot()))
        self.assertEqual(self.srv.admin('DELETE', path, token=self.w.tokens['a-developer'])[0],
                         403)
        self.assertEqual(self.srv.admin('DELETE', path, token=self.w.tokens['a-admin'])[0], 204)
        self.problem(self.srv.admin('GET', path), status=404)
        self.assertEqual(self.srv.token(app['client_id'], app['client_secret']).status, 401)

    # ---- Subscriptions ---------------------------------------------------------------------

    def test_subscription_flow(self):
        _, api = self.new_api(tenant=self.tb)
        self.lifecycle(api, 'published', tenant=self.tb)
        _, app = self.srv.admin('POST', '/tenants/%s/apps' % self.ta, {'name': uniq('sub')})
        base_a = '/tenants/%s/subscriptions' % self.ta
        base_b = '/tenants/%s/subscriptions' % self.tb
        body = {'app_id': app['id'], 'api_id': api['id'], 'scopes': ['read']}
        self.problem(self.srv.admin('POST', base_a, dict(body, scopes=['admin'])), status=422)
        self.problem(self.srv.admin('POST', base_a, dict(body, app_id='app_missing')),
                     status=404)
        # The app must belong to the tenant in the path.
        self.problem(self.srv.admin('POST', base_b, body), status=404)
        st, sub = self.srv.admin('POST', base_a, body, token=self.w.tokens['a-developer'])
        self.assertEqual((st, sub['state']), (201, 'pending'))
        self.assertEqual(sub['requested_by'], 'user:' + self.w.users['a-developer'])
        self.problem(self.srv.admin('POST', base_a, body), status=409)  # one live at a time
        cid, secret = app['client_id'], app['client_secret']
        self.assertEqual(self.srv.token(cid, secret).json()['error'], 'invalid_scope')
        # The consumer cannot approve its own request; the API owner's admin can.
        self.problem(self.srv.admin('POST', base_a + '/%s/approve' % sub['id'],
                                    token=self.w.tokens['a-admin']), status=403)
        self.problem(self.srv.admin('POST', base_b + '/%s/approve' % sub['id'],
                                    token=self.w.tokens['b-developer']), status=403)
        st, ok = self.srv.admin('POST', base_b + '/%s/approve' % sub['id'], {'reason': 'fine'},
                                token=self.w.tokens['b-admin'])
        self.assertEqual((st, ok['state'], ok['reason']), (200, 'approved', 'fine'))
        self.assertEqual(ok['decided_by'], 'user:' + self.w.users['b-admin'])
        self.problem(self.srv.admin('POST', base_b + '/%s/approve' % sub['id']), status=409)
        self.problem(self.srv.admin('POST', base_b + '/%s/reject' % sub['id']), status=409)
        r = self.srv.token(cid, secret)
        self.assertEqual((r.status, r.json()['scope']), (200, 'read'))
        snap = self.srv.snapshot()
        self.assertIn({'id': sub['id'], 'client_id': cid, 'api_id': api['id'],
                       'audience': api['audience'], 'scopes': ['read']}, snap['subscriptions'])
        # Both sides see it.
        for base, tok in ((base_a, 'a-viewer'), (base_b, 'b-viewer')):
            _, lst = self.srv.admin('GET', base, token=self.w.tokens[tok])
            self.assertIn(sub['id'], [s['id'] for s in lst['items']])
            self.assertEqual(self.srv.admin('GET', base + '/' + sub['id'],
                                            token=self.w.tokens[tok])[0], 200)
        # The consumer's admin may revoke too.
        st, rv = self.srv.admin('POST', base_a + '/%s/revoke' % sub['id'], {'reason': 'done'},
                                token=self.w.tokens['a-admin'])
        self.assertEqual((st, rv['state']), (200, 'revoked'))
        self.problem(self.srv.admin('POST', base_a + '/%s/revoke' % sub['id']), status=409)
        self.assertEqual(self.srv.token(cid, secret).status, 400)
        self.assertNotIn(sub['id'], [s['id'] for s in self.srv.snapshot()['subscriptions']])
        # A new request after revocation, rejected this time.
        _, sub2 = self.srv.admin('POST', base_a, body)
        st, rj = self.srv.admin('POST', base_b + '/%s/reject' % sub2['id'], {'reason': 'no'})
        self.assertEqual(rj['state'], 'rejected')
        self.problem(self.srv.admin('POST', base_b + '/%s/revoke' % sub2['id']), status=409)
        # Both tenants' audit logs hold the decisions.
        for t in (self.ta, self.tb):
            _, audit = self.srv.admin('GET', '/tenants/%s/audit?limit=1000' % t)
            acts = [e['action'] for e in audit['items'] if e['target'] in (sub['id'],
                                                                           sub2['id'])]
            self.assertEqual(acts, ['subscription.request', 'subscription.approve',
                                    'subscription.revoke', 'subscription.request',
                                    'subscription.reject'])

    def test_subscription_api_states(self):
        _, draft = self.new_api(tenant=self.tb)
        _, app = self.srv.admin('POST', '/tenants/%s/apps' % self.ta, {'name': uniq('st')})
        base = '/tenants/%s/subscriptions' % self.ta
        body = {'app_id': app['id'], 'api_id': draft['id'], 'scopes': ['read']}
        self.problem(self.srv.admin('POST', base, body), status=404)  # other tenant's draft
        self.lifecycle(draft, 'published', tenant=self.tb)
        self.lifecycle(draft, 'deprecated', sunset=int(time.time()) + 999, tenant=self.tb)
        self.problem(self.srv.admin('POST', base, body), status=409)
        _, auto = self.new_api(tenant=self.tb, policy='automatic')
        self.lifecycle(auto, 'published', tenant=self.tb)
        st, sub = self.srv.admin('POST', base, dict(body, api_id=auto['id']))
        self.assertEqual((st, sub['state'], sub['decided_by']),
                         (201, 'approved', 'policy:automatic'))

    # ---- Keys, audit, snapshot ----------------------------------------------------------------

    def test_key_rotation(self):
        old = self.srv.token(*self.w.client('a'))
        _, keys = self.srv.admin('GET', '/keys')
        self.assertTrue(all('private_jwe' not in k for k in keys['items']))
        before = {(k['purpose'], k['state']): k['id'] for k in keys['items']}
        self.problem(self.srv.admin('POST', '/keys/rotate', {'purpose': 'nope'}), status=422)
        self.problem(self.srv.admin('POST', '/keys/rotate', {}, token=self.w.tokens['a-owner']),
                     status=403)
        st, keys = self.srv.admin('POST', '/keys/rotate', {'purpose': 'both'})
        self.assertEqual(st, 200)
        after = {}
        for k in keys['items']:
            after.setdefault((k['purpose'], k['state']), []).append(k['id'])
        for p in ('signing', 'encryption'):
            self.assertEqual(after[(p, 'active')], [before[(p, 'next')]])
            self.assertIn(before[(p, 'active')], after[(p, 'retiring')])
            self.assertEqual(len(after[(p, 'next')]), 1)
        jwks = [k['kid'] for k in self.srv.request('GET', '/.well-known/jwks.json').json()['keys']]
        self.assertIn(before[('signing', 'active')], jwks)  # retiring stays published
        new = self.srv.token(*self.w.client('a')).json()['access_token']
        self.assertEqual(jgtest.jwe_header(new)['kid'], before[('encryption', 'next')])
        # A token from before the rotation still introspects as active.
        r = self.srv.post_form('/oauth2/introspect', {'token': old.json()['access_token']},
                               auth=self.w.client('a'))
        self.assertIs(r.json()['active'], True)
        snap_kids = {k['kid'] for k in self.srv.snapshot()['decryption_keys']['keys']}
        self.assertIn(before[('encryption', 'active')], snap_kids)
        # The rotate-keys command, while the service runs: picked up within seconds.
        out = subprocess.run([jgtest.JWTGATED, 'rotate-keys', '--purpose', 'signing',
                              '--data-dir', self.srv.data, '--master-key-file', self.srv.master,
                              '--issuer', self.srv.issuer] + self.srv.db_args,
                             capture_output=True, text=True,
                             timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        deadline = time.time() + 10
        while time.time() < deadline:
            self.assertIn('access_token', self.srv.token(*self.w.client('a')).json())
            snap = self.srv.snapshot()
            active = [k['kid'] for k in snap['keys']
                      if k['purpose'] == 'signing' and k['state'] == 'active']
            if active == after[('signing', 'next')]:
                break
            time.sleep(0.2)
        self.assertEqual(active, after[('signing', 'next')])

    def test_audit(self):
        t0 = int(time.time())
        _, api = self.new_api()
        _, audit = self.srv.admin('GET', '/tenants/%s/audit?since=%d&limit=1000' % (self.ta, t0),
                                  token=self.w.tokens['a-admin'])
        rec = [e for e in audit['items'] if e['target'] == api['id']][0]
        self.assertEqual(rec['action'], 'api.create')
        self.assertEqual(rec['actor'], 'user:' + self.srv.admin('GET', '/me')[1]['id'])
        self.assertIsNone(rec['before'])
        self.assertEqual(rec['after']['base_path'], api['base_path'])
        self.assertGreaterEqual(rec['at'], t0)
        # Paging and time windows.
        _, page = self.srv.admin('GET', '/tenants/%s/audit?limit=1&after=%d' % (self.ta,
                                                                                rec['seq'] - 1))
        self.assertEqual([e['seq'] for e in page['items']], [rec['seq']])
        _, none = self.srv.admin('GET', '/tenants/%s/audit?until=%d' % (self.ta, t0 - 3600))
        self.assertEqual(none['items'], [])
        for bad in ('limit=0', 'limit=5000', 'since=-1', 'since=abc', 'after='):
            self.assertEqual(self.srv.admin('GET', '/tenants/%s/audit?%s' % (self.ta, bad))[0],
                             400, bad)
        self.problem(self.srv.admin('GET', '/tenants/%s/audit' % self.ta,
                                    token=self.w.tokens['a-developer']), status=403)
        self.problem(self.srv.admin('GET', '/audit', token=self.w.tokens['a-owner']),
                     status=403)
        _, everything = self.srv.admin('GET', '/audit?limit=1000')
        actions = {e['action'] for e in everything['items']}
        self.assertTrue({'user.create', 'pat.create', 'key.create', 'tenant.create'} <= actions)
        for e in everything['items']:
            for side in ('before', 'after'):
                self.assertNotIn('hash', e[side] or {})
                self.assertNotIn('private_jwe', e[side] or {})
        # Append-only, enforced by the database itself.
        for sql in ('UPDATE audit SET actor = \'x\'', 'DELETE FROM audit'):
            with self.assertRaises(RuntimeError) as cm:
                self.srv.sql(sql)
            self.assertIn('append-only', str(cm.exception))

    def test_expiry(self):
        """Expired personal access tokens and client secrets stop working (the
        expiry is moved into the past directly in the database)."""
        _, u = self.srv.admin('POST', '/users', {'name': uniq('exp')}, expect=201)
        _, pat = self.srv.admin('POST', '/tokens', {'name': 't', 'user_id': u['id'],
                                                    'expires_in': 3600}, expect=201)
        self.assertEqual(self.srv.admin('GET', '/me', token=pat['token'])[0], 200)
        self.srv.sql("UPDATE pats SET expires_at = %d WHERE id = '%s'"
                     % (int(time.time()) - 1, pat['id']))
        self.assertEqual(self.srv.admin('GET', '/me', token=pat['token'])[0], 401)
        _, app = self.srv.admin('POST', '/tenants/%s/apps' % self.ta,
                                {'name': uniq('exp'), 'secret_expires_in': 3600}, expect=201)
        self.srv.admin('POST', '/tenants/%s/subscriptions' % self.ta, {
            'app_id': app['id'], 'api_id': self.w.apis['a']['id'],
            'scopes': ['orders:read']}, expect=201)
        _, subs = self.srv.admin('GET', '/tenants/%s/subscriptions' % self.ta)
        sub = [x for x in subs['items'] if x['app_id'] == app['id']][0]
        self.srv.admin('POST', '/tenants/%s/subscriptions/%s/approve' % (self.ta, sub['id']),
                       expect=200)
        self.assertEqual(self.srv.token(app['client_id'], app['client_secret']).status, 200)
        # as another node would: the change counter tells the service
        self.srv.sql("UPDATE app_secrets SET expires_at = %d WHERE app_id = '%s';"
                     " UPDATE meta SET v = v + 1 WHERE k = 'version'"
                     % (int(time.time()) - 1, app['id']))
        deadline = time.time() + 10
        while time.time() < deadline:
            st = self.srv.token(app['client_id'], app['client_secret']).status
            if st != 200:
                break
            time.sleep(0.2)
        self.assertEqual(st, 401)

    def test_snapshot_file(self):
        path = self.srv.snapshot_path
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        if not jgtest.ON_POSTGRES:  # a PostgreSQL database is no file of ours
            self.assertEqual(stat.S_IMODE(os.stat(os.path.join(self.srv.data, 'jwtgated.db'))
                                          .st_mode), 0o600)
        with open(path, 'rb') as f:
            self.assertEqual(f.read(8), b'JGSNAP\r\n')  # the compiled form (format 2)
        s1 = self.srv.snapshot()  # its JSON form, through jwtgate snapshot dump
        self.assertEqual((s1['format'], s1['format_version']), ('jwtgate-snapshot', 1))
        self.assertEqual(s1['issuer'], self.srv.issuer)
        for k in ('decryption_keys', 'verification_keys', 'apis', 'subscriptions',
                  'revoked_jti', 'suspended_clients', 'keys', 'version', 'generated_at'):
            self.assertIn(k, s1)
        self.assertTrue(all('d' in k for k in s1['decryption_keys']['keys']))
        self.assertTrue(all('d' not in k for k in s1['verification_keys']['keys']))
        self.new_api()
        s2 = self.srv.snapshot()
        self.assertGreater(s2['version'], s1['version'])
        self.assertEqual([f for f in os.listdir(self.srv.data) if '.tmp' in f], [])

    def test_openapi(self):
        r = self.srv.request('GET', '/openapi.json')
        self.assertEqual(r.status, 200)
        doc = r.json()
        with open(os.path.join(jgtest.REPO, 'docs', 'openapi.json')) as f:
            self.assertEqual(doc, json.load(f))
        self.assertTrue(doc['openapi'].startswith('3.'))
        for p in ('/oauth2/token', '/oauth2/introspect', '/oauth2/revoke',
                  '/.well-known/oauth-authorization-server', '/.well-known/jwks.json',
                  '/healthz', '/readyz', '/metrics', '/admin/v1/tenants',
                  '/admin/v1/tenants/{tenant}/members/{user}',
                  '/admin/v1/tenants/{tenant}/apis/{api}/lifecycle',
                  '/admin/v1/tenants/{tenant}/apps/{app}/secrets/{secret}',
                  '/admin/v1/tenants/{tenant}/subscriptions/{subscription}/approve',
                  '/admin/v1/keys/rotate', '/admin/v1/audit', '/admin/v1/tenants/{tenant}/audit'):
            self.assertIn(p, doc['paths'])

        # Every reference resolves; every operation has a summary and responses.
        def walk(node):
            if isinstance(node, dict):
                ref = node.get('$ref')
                if ref is not None:
                    target = doc
                    for part in ref.lstrip('#/').split('/'):
                        target = target[part]
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)
        walk(doc)
        methods = {'get', 'post', 'put', 'patch', 'delete'}
        for path, ops in doc['paths'].items():
            for method, op in ops.items():
                self.assertIn(method, methods)
                self.assertTrue(op['summary'] and op['responses'], (path, method))
                # The server routes every documented operation (no "no such
                # endpoint", no 405), whatever the ids.
                url = path.replace('{', 'x').replace('}', '')
                if method == 'post' and path.startswith('/oauth2/'):
                    continue  # covered by test_oauth
                if path.endswith('/keys/rotate'):
                    continue  # would rotate the keys under the other tests
                if url.startswith('/admin/v1'):
                    st, body = self.srv.admin(method.upper(), url[len('/admin/v1'):],
                                              {} if method in ('post', 'put', 'patch') else None)
                else:
                    r = self.srv.request(method.upper(), url)
                    st, body = r.status, r.body
                self.assertNotEqual(st, 405, (method, path, body))
                if st == 404:
                    self.assertNotEqual(body.get('detail'), 'no such endpoint', (method, path))


class StartupTest(unittest.TestCase):
    """The service refuses to start without the right master key."""

    def run_serve(self, srv, env=None, master=None):
        args = [jgtest.JWTGATED, 'serve', '--data-dir', srv.data, '--port', '0'] + srv.db_args
        if master:
            args += ['--master-key-file', master]
        e = dict(os.environ)
        e.pop('JWTGATED_MASTER_KEY', None)
        e.update(env or {})
        return subprocess.run(args, capture_output=True, text=True, timeout=30, env=e)

    def test_refusals(self):
        srv = Server()
        try:
            srv.stop()
            out = self.run_serve(srv)
            self.assertNotEqual(out.returncode, 0)
            self.assertIn('no master key', out.stderr)
            other = os.path.join(srv.tmp, 'other.key')
            subprocess.run([jgtest.JWTGATED, 'init', '--data-dir', os.path.join(srv.tmp, 'x'),
                            '--master-key-file', other], capture_output=True, check=True)
            out = self.run_serve(srv, master=other)
            self.assertNotEqual(out.returncode, 0)
            self.assertIn('refusing to start', out.stderr)
            with open(other) as f:
                key = f.read().strip()
            out = self.run_serve(srv, env={'JWTGATED_MASTER_KEY': key})
            self.assertNotEqual(out.returncode, 0)
            out = self.run_serve(srv, env={'JWTGATED_MASTER_KEY': 'short'})
            self.assertIn('32 bytes', out.stderr)
            os.chmod(srv.master, 0o644)
            out = self.run_serve(srv, master=srv.master)
            self.assertIn('readable by others', out.stderr)
            os.chmod(srv.master, 0o600)
            out = subprocess.run([jgtest.JWTGATED, 'init', '--data-dir', srv.data,
                                  '--master-key-file', srv.master] + srv.db_args,
                                 capture_output=True,
                                 text=True, timeout=30)
            self.assertNotEqual(out.returncode, 0)
            self.assertIn('already initialised', out.stderr)
            # The right key from the environment works, and the data survived a restart.
            with open(srv.master) as f:
                os.environ['JWTGATED_MASTER_KEY'] = f.read().strip()
            try:
                srv.master_saved = srv.master
                srv.start()
                self.assertEqual(srv.admin('GET', '/me')[0], 200)
                srv.stop()
                # From the environment alone, and wiped from it once read.
                port_file = os.path.join(srv.tmp, 'env-port')
                p = subprocess.Popen([jgtest.JWTGATED, 'serve', '--data-dir', srv.data,
                                      '--port', '0', '--port-file', port_file] + srv.db_args,
                                     stderr=subprocess.DEVNULL)
                try:
                    deadline = time.time() + 30
                    while not os.path.exists(port_file) and time.time() < deadline:
                        time.sleep(0.02)
                    self.assertTrue(os.path.exists(port_file))
                    with open('/proc/%d/environ' % p.pid, 'rb') as f:
                        environ = f.read()
                    self.assertNotIn(os.environ['JWTGATED_MASTER_KEY'].encode(), environ)
                finally:
                    p.terminate()
                    self.assertEqual(p.wait(timeout=30), 0)
            finally:
                del os.environ['JWTGATED_MASTER_KEY']
        finally:
            srv.close()


if __name__ == '__main__':
    unittest.main(verbosity=2)
