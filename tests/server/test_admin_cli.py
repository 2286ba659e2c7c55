"""jwtgate admin: the operators' CLI over the admin API, against a running
jwtgated — every resource, table and --json output, exit statuses."""
import json
import os
import subprocess
import tempfile
import time
import unittest

import jgtest
from jgtest import Server


class AdminCli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server()

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def run_cli(self, *args, token=None, expect=0, env_token=True):
        env = dict(os.environ)
        env['JWTGATE_ADMIN_URL'] = self.srv.issuer
        if env_token:
            env['JWTGATE_ADMIN_TOKEN'] = token or self.srv.admin_token
        else:
            env.pop('JWTGATE_ADMIN_TOKEN', None)
        out = subprocess.run([jgtest.JWTGATE_CLI, 'admin'] + list(args), capture_output=True,
                             text=True, timeout=60, env=env)
        self.assertEqual(out.returncode, expect, (args, out.stdout, out.stderr))
        return out

    def js(self, *args, **kw):
        return json.loads(self.run_cli('--json', *args, **kw).stdout)

    def test_full_cycle(self):
        self.assertIn('subscription approve', self.run_cli('--help').stdout)
        self.js('user', 'create', 'alice')
        t = self.js('tenant', 'create', 'payments', '--owner', 'alice')
        tid = t['id']
        table = self.run_cli('tenant', 'list').stdout.splitlines()
        self.assertEqual(table[0].split(), ['ID', 'NAME', 'CREATED_AT'])
        self.assertIn(tid, table[1])
        self.assertIn('owner', self.run_cli('tenant', 'members', tid).stdout)
        bob = self.js('user', 'create', 'bob')
        self.js('tenant', 'add-member', tid, 'bob', 'developer')
        self.assertEqual(self.js('tenant', 'set-role', tid, bob['id'], 'viewer')['role'], 'viewer')
        self.run_cli('tenant', 'remove-member', tid, bob['id'])
        api = self.js('api', 'create', tid, '--name', 'orders', '--version', 'v1',
                      '--base-path', '/orders', '--upstream', 'http://127.0.0.1:9',
                      '--audience', 'https://api.example.com/orders', '--scope',
                      'orders:read', '--scope', 'orders:write', '--policy', 'manual')
        self.assertEqual(api['scopes'], ['orders:read', 'orders:write'])
        self.assertEqual(api['require_binding'], 'none')
        self.assertEqual(self.js('api', 'update', tid, api['id'], '--require-binding',
                                 'dpop')['require_binding'], 'dpop')
        self.assertEqual(self.js('api', 'publish', tid, api['id'])['state'], 'published')
        self.assertIn('orders', self.run_cli('api', 'catalog').stdout)
        app = self.js('app', 'create', tid, 'shop')
        self.assertTrue(app['client_secret'].startswith('jgs_'))
        shown = self.run_cli('app', 'add-secret', tid, app['id']).stdout
        self.assertIn('client_secret: jgs_', shown)
        self.assertEqual(len(self.js('app', 'secrets', tid, app['id'])['items']), 2)
        sub = self.js('subscription', 'request', tid, '--app', app['id'], '--api', api['id'],
                      '--scope', 'orders:read')
        self.assertEqual(sub['state'], 'pending')
        out = self.run_cli('subscription', 'approve', tid, sub['id'], '--reason', 'ok').stdout
        self.assertIn('state: approved', out)
        r = self.srv.token(app['client_id'], app['client_secret'])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.js('app', 'suspend', tid, app['id'])['suspended'], True)
        self.assertEqual(self.js('app', 'resume', tid, app['id'])['suspended'], False)
        dep = self.js('api', 'deprecate', tid, api['id'], '--sunset', '30d')
        self.assertAlmostEqual(dep['sunset'], time.time() + 30 * 86400, delta=60)
        self.assertEqual(self.js('api', 'retire', tid, api['id'])['state'], 'retired')
        keys = self.js('key', 'rotate', '--purpose', 'signing')['items']
        self.assertEqual(len([k for k in keys if k['state'] == 'retiring']), 1)
        self.assertIn('ECDH-ES+A256KW', self.run_cli('key', 'list').stdout)
        audit = self.js('audit', 'tenant', tid, '--limit', '500')['items']
        self.assertIn('subscription.approve', [e['action'] for e in audit])
        self.assertIn('key.state', [e['action'] for e in self.js('audit', 'list', '--limit',
                                                                 '1000')['items']])
        tok = self.js('token', 'create', 'ci', '--expires-in', '1h')
        self.assertEqual(self.js('user', 'me', token=tok['token'])['name'], 'admin')
        with tempfile.NamedTemporaryFile('w', suffix='.tok') as f:
            f.write(tok['token'] + '\n')
            f.flush()
            out = self.run_cli('--token-file', f.name, 'user', 'me', env_token=False)
            self.assertIn('name: admin', out.stdout)
        self.run_cli('token', 'delete', tok['id'])

    def test_private_key_jwt_app(self):
        t = self.js('tenant', 'create', 'pk')
        with tempfile.NamedTemporaryFile('w', suffix='.json') as f:
            json.dump({'kty': 'EC', 'crv': 'P-256',
                       'x': 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
                       'y': 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', 'kid': 'k1'}, f)
            f.flush()
            app = self.js('app', 'create', t['id'], 'signer', '--auth-method',
                          'private_key_jwt', '--jwks', f.name)
            self.assertEqual(app['jwks']['keys'][0]['kid'], 'k1')
            self.assertNotIn('client_secret', app)
            self.js('app', 'set-keys', t['id'], app['id'], '--jwks', f.name)

    def test_errors(self):
        out = self.run_cli('tenant', 'get', 'ten_missing', expect=1)
        self.assertIn('404', out.stderr)
        out = self.run_cli('user', 'list', token='jgp_wrong', expect=1)
        self.assertIn('401', out.stderr)
        self.run_cli('user', 'list', env_token=False, expect=2)
        self.run_cli('nothing', 'here', expect=2)
        self.run_cli('tenant', 'get', expect=2)  # missing argument
        self.run_cli('tenant', 'list', '--bogus', expect=2)
        self.run_cli('api', 'deprecate', 't', 'a', '--sunset', 'soon', expect=2)
        env = dict(os.environ, JWTGATE_ADMIN_TOKEN='x', JWTGATE_ADMIN_URL='http://127.0.0.1:1')
        out = subprocess.run([jgtest.JWTGATE_CLI, 'admin', 'user', 'list'], capture_output=True,
                             text=True, env=env, timeout=60)
        self.assertEqual(out.returncode, 2)


if __name__ == '__main__':
    unittest.main(verbosity=2)
