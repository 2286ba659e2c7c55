"""A gateway on another host, end to end: jwtgated serves GET /gateway/v1/snapshot, the
agent (`jwtgate gateway sync`) keeps a local file up to date, and a real nginx with the
module reads that file only (never jwtgated's own snapshot). A change made through the
admin API is enforced by the gateway; the first --url is dead (failover); a revoked
credential gets 401 and the last snapshot is kept (--once: exit 4); every node down:
the snapshot is kept (--once: exit 3); SIGTERM: exit 0."""
import json
import os
import shutil
import signal
import subprocess
import time
import unittest

from jgtest import config, ports, procs
from jgtest.jwtgated import Server, read_snapshot
from jgtest.stack import Gateway, Stack


def cli_input(args, text):
    out = subprocess.run([config.JWTGATE_CLI] + list(args), input=text, capture_output=True,
                         text=True, env=config.child_env(), timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def cli(*args, env=None, timeout=60):
    return subprocess.run([config.JWTGATE_CLI] + list(args), capture_output=True, text=True,
                          env=env or config.child_env(), timeout=timeout)


class RemoteStack(Stack):
    """jwtgated, a registered gateway with its agent, nginx reading the agent's file."""

    def __init__(self):
        self.tmp = config.scratch('e2e-remote-')
        self.issuer = 'https://issuer.e2e.test'
        self.n = 0
        self.srv = Server('--issuer', self.issuer, data_dir=self.tmp, keep=True)
        self.agent = None
        self.gw = None
        try:
            self.env = dict(config.child_env(), JWTGATE_ADMIN_URL=self.srv.issuer,
                            JWTGATE_ADMIN_TOKEN=self.srv.admin_token)
            self.remote = os.path.join(self.tmp, 'gateway-host')
            os.makedirs(self.remote)
            self.cred = os.path.join(self.remote, 'edge.json')
            out = cli('admin', 'gateway', 'create', 'edge-1', '--out', self.cred, env=self.env)
            if out.returncode != 0:
                raise RuntimeError('gateway create: ' + out.stderr)
            self.gateway_id = [ln.split(': ', 1)[1] for ln in out.stdout.splitlines()
                               if ln.startswith('id: ')][0]
            self.snapshot = os.path.join(self.remote, 'snapshot.jgs')
            self.dead = 'http://127.0.0.1:%d' % ports.free_port()
            self.agent_log = os.path.join(self.remote, 'agent.log')
            self.agent = procs.Service('agent', [
                config.JWTGATE_CLI, 'gateway', 'sync', '--url', self.dead,
                '--url', self.srv.issuer, '--credential', self.cred, '--out', self.snapshot,
                '--wait', '20'], self.agent_log, env=config.child_env()).start()
            self.agent.wait_ready(lambda: os.path.exists(self.snapshot))
            self.gw = Gateway(self.tmp, self.snapshot)
            _, ten = self.srv.admin('POST', '/tenants', {'name': 'e2e'}, expect=201)
            self.tenant = ten['id']
        except BaseException:
            self.close(check=False)
            raise

    def agent_text(self):
        return procs.read_text(self.agent_log)

    def sync_once(self, *urls):
        args = ['gateway', 'sync', '--credential', self.cred, '--out', self.snapshot, '--once']
        for u in urls:
            args += ['--url', u]
        return cli(*args)

    def close(self, check=True):
        try:
            if self.agent is not None and self.agent.running():
                code = self.agent.stop(signal.SIGTERM)
                if check and code != 0:
                    raise AssertionError('the agent exited with %s:\n%s' % (
                        code, self.agent_text()[-3000:]))
            if self.agent is not None and check and self.agent.crashes():
                raise AssertionError('agent: ' + '\n'.join(self.agent.crashes()))
            if self.gw is not None:
                self.gw.stop()
        finally:
            self.srv.stop()
        problems = self.gw.check_log() if self.gw is not None else []
        if check and problems:
            raise AssertionError('nginx error log:\n' + '\n'.join(problems[:20]))
        shutil.rmtree(self.tmp, ignore_errors=True)


class RemoteGateway(unittest.TestCase):
    # The order matters: revocation of the credential comes last (test_z...).

    @classmethod
    def setUpClass(cls):
        cls.stack = RemoteStack()
        cls.gw = cls.stack.gw

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def test_a_change_is_enforced_through_the_agent(self):
        s = self.stack
        api = s.api('orders')
        app = s.app('shop')
        s.subscribe(app, api, ['orders:read'])
        tok = s.token(app)
        took = s.until(lambda: self.gw.get('/orders/1', tok).status == 200, timeout=5)
        print('subscription enforced by the remote gateway after %.0f ms' % (took * 1000))
        # a revocation reaches the gateway through the long poll
        s.revoke(app, tok)
        took = s.until(lambda: self.gw.get('/orders/1', tok).status == 401, timeout=5)
        print('revocation enforced by the remote gateway after %.0f ms' % (took * 1000))
        # the gateway read the agent's file, never jwtgated's
        self.assertNotEqual(os.path.realpath(s.snapshot), os.path.realpath(s.srv.snapshot_path))

    def test_b_failover_from_the_dead_node(self):
        text = self.stack.agent_text()
        self.assertIn(self.stack.dead, text)   # tried, failed, went on to the live node
        self.assertIn('written to', text)
        # no key, credential or token in the agent's log
        with open(self.stack.cred) as f:
            doc = json.load(f)
        self.assertNotIn(doc['credential'], text)
        self.assertNotIn(doc['key']['d'], text)

    def test_c_once_fresh_and_unreachable(self):
        s = self.stack
        out = s.sync_once(s.dead, s.srv.issuer)
        self.assertEqual(out.returncode, 0, out.stderr)
        out = s.sync_once(s.dead)
        self.assertEqual(out.returncode, 3, out.stderr)
        self.assertIn('keeping the snapshot on disk', out.stderr)
        self.assertTrue(os.path.exists(s.snapshot))
        # trust that does not hold the control plane's keys: the snapshot is refused (5)
        # and the file on disk is left alone
        with open(s.cred) as f:
            doc = json.load(f)
        other = cli('key', 'generate', '--alg', 'ES256')
        self.assertEqual(other.returncode, 0, other.stderr)
        pub = cli_input(['key', 'public'], other.stdout)
        doc['trust'] = {'keys': [json.loads(pub)]}
        wrong = os.path.join(s.remote, 'wrong-trust.json')
        with open(wrong, 'w') as f:
            json.dump(doc, f)
        os.chmod(wrong, 0o600)
        elsewhere = os.path.join(s.remote, 'elsewhere.jgs')
        out = cli('gateway', 'sync', '--url', s.srv.issuer, '--credential', wrong, '--out',
                  elsewhere, '--once')
        self.assertEqual(out.returncode, 5, out.stderr)
        self.assertIn('not from a trusted control-plane key', out.stderr)
        self.assertFalse(os.path.exists(elsewhere))
        # a credential file that is not one: setup error
        bad = os.path.join(s.remote, 'bad.json')
        with open(bad, 'w') as f:
            f.write('{}')
        out = cli('gateway', 'sync', '--url', s.srv.issuer, '--credential', bad, '--out',
                  s.snapshot, '--once')
        self.assertEqual(out.returncode, 2, out.stderr)

    def test_d_trust_follows_key_rotation(self):
        """Two signing-key rotations: each snapshot is verified with the keys the
        previous one announced, and the credential file's trust follows."""
        s = self.stack
        with open(s.cred) as f:
            trust0 = {k['kid'] for k in json.load(f)['trust']['keys']}
        api = s.api('rot')
        app = s.app('rot-app')
        s.subscribe(app, api, ['orders:read'])
        for _ in range(2):
            s.srv.admin('POST', '/keys/rotate', {'purpose': 'both'}, expect=200)
            tok = s.token(app)   # signed and encrypted with the new keys
            s.until(lambda: self.gw.get('/rot/1', tok).status == 200, timeout=5)
        with open(s.cred) as f:
            doc = json.load(f)
        self.assertNotEqual({k['kid'] for k in doc['trust']['keys']}, trust0)
        self.assertIn('trusted signing keys updated', s.agent_text())
        self.assertEqual(oct(os.stat(s.cred).st_mode & 0o777), '0o600')

    def test_z_revoked_credential_keeps_the_last_snapshot(self):
        s = self.stack
        api = s.api('kept')
        app = s.app('kept-app')
        s.subscribe(app, api, ['orders:read'])
        tok = s.token(app)
        s.until(lambda: self.gw.get('/kept/1', tok).status == 200, timeout=5)
        out = cli('admin', 'gateway', 'revoke', s.gateway_id, env=s.env)
        self.assertEqual(out.returncode, 0, out.stderr)
        procs.wait_until(lambda: 'credential was refused' in s.agent_text(), 10,
                         what='the agent to be refused')
        self.assertTrue(s.agent.running())   # it keeps trying, and keeps the file
        before = os.stat(s.snapshot).st_mtime_ns
        time.sleep(1.5)
        self.assertEqual(os.stat(s.snapshot).st_mtime_ns, before)
        self.assertEqual(self.gw.get('/kept/1', tok).status, 200)   # still served
        out = s.sync_once(s.srv.issuer)
        self.assertEqual(out.returncode, 4, out.stderr)
        self.assertEqual(self.gw.get('/kept/1', tok).status, 200)

    def test_zz_failover_when_the_node_dies(self):
        """Another gateway's agent with two live URLs: the node it polls is killed
        (SIGKILL) and comes back as another node (another port, the same database); the
        agent moves to it and gets the next change."""
        s = self.stack
        cred2 = os.path.join(s.remote, 'edge2.json')
        out = cli('admin', 'gateway', 'create', 'edge-2', '--out', cred2, env=s.env)
        self.assertEqual(out.returncode, 0, out.stderr)
        first = s.srv.issuer
        second_port = ports.free_port()
        snap2 = os.path.join(s.remote, 'snapshot2.jgs')
        log2 = os.path.join(s.remote, 'agent2.log')
        agent2 = procs.Service('agent2', [
            config.JWTGATE_CLI, 'gateway', 'sync', '--url', first,
            '--url', 'http://127.0.0.1:%d' % second_port, '--credential', cred2, '--out', snap2,
            '--wait', '20'], log2, env=config.child_env()).start()
        try:
            agent2.wait_ready(lambda: os.path.exists(snap2))
            s.srv.kill9()
            s.srv.extra += ['--port', str(second_port)]
            s.srv.start()
            self.assertEqual(s.srv.port, second_port)
            s.api('after-failover')
            want = s.srv.versions()[0]
            procs.wait_until(lambda: read_snapshot(snap2)['version'] >= want, 30,
                             what='the agent to fetch from the second node')
            text = procs.read_text(log2)
            self.assertIn(first, text)   # the first node failed, and was reported
        finally:
            code = agent2.stop(signal.SIGTERM)
        self.assertEqual(code, 0, procs.read_text(log2)[-2000:])
        self.assertEqual(agent2.crashes(), [])


if __name__ == '__main__':
    unittest.main(verbosity=2)
