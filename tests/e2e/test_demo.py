"""The README quick start's first command, as a user runs it: scripts/demo starts the stack and
prints commands; the test runs the printed commands verbatim in a shell (token, call, revoke,
call), then presses Ctrl-C (SIGINT to the demo's process group) and checks that nothing is left
running. And scripts/demo --check, which scripts/test also runs, and scripts/demo --cluster
--check (PostgreSQL, three jwtgated nodes, two gateways with their sync agents).

Environment: JWTGATE_DEMO_BUILD (the build directory with jwtgate, server/jwtgated and
nginx/ngx_http_jwtgate_module.so), JWTGATE_DEMO_DIR (a scratch directory)."""
import os
import re
import signal
import subprocess
import time
import unittest

from jgtest import REPO, descendants, free_port_range

DEMO = os.path.join(REPO, 'scripts', 'demo')


class Demo(unittest.TestCase):

    def env(self, sub):
        env = dict(os.environ)
        env['JWTGATE_DEMO_NO_BUILD'] = '1'
        env['JWTGATE_DEMO_DIR'] = os.path.join(os.environ.get('JWTGATE_DEMO_DIR', '/tmp'), sub)
        return env

    def test_check_mode(self):
        p = subprocess.run([DEMO, '--check'], env=self.env('check'), capture_output=True,
                           text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn('demo --check: OK', p.stdout)
        self.assertRegex(p.stdout, r'revoked: 401 invalid_token after \d+ ms')

    def test_cluster_check_mode(self):
        # scripts/demo --cluster --check: PostgreSQL, three nodes, two gateways with agents
        p = subprocess.run([DEMO, '--cluster', '--check'], env=self.env('cluster'),
                           capture_output=True, text=True, timeout=180)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn('demo --cluster --check: OK', p.stdout)
        self.assertRegex(p.stdout, r'revoked through node 3: 401 from both gateways after \d+ ms')

    def test_printed_commands_then_ctrl_c(self):
        env = self.env('interactive')
        env['JWTGATE_DEMO_PORT'] = str(free_port_range(4))   # P .. P+3 (P+3: the mock LLM)
        log = os.path.join(os.environ.get('JWTGATE_DEMO_DIR', '/tmp'), 'interactive.out')
        os.makedirs(os.path.dirname(log), exist_ok=True)
        with open(log, 'w') as out:
            demo = subprocess.Popen([DEMO], env=env, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        try:
            deadline = time.time() + 120
            text = ''
            while 'Ctrl-C stops everything' not in text:
                self.assertIsNone(demo.poll(), 'the demo exited:\n' + text)
                self.assertLess(time.time(), deadline, 'the demo did not get ready:\n' + text)
                time.sleep(0.1)
                with open(log) as f:
                    text = f.read()
            tree = descendants(demo.pid)
            self.assertGreaterEqual(len(tree), 3, tree)   # jwtgated, nginx master and worker
            # The commands between "In another terminal" and "Admin token", as printed.
            block = text.split('In another terminal:', 1)[1].split('Admin token:', 1)[0]
            cmds = [c.strip() for c in re.split(r'\n(?=\S)', block.strip())
                    if c.strip() and not c.startswith('#')]
            # token, call, the LLM API with curl and with the openai client, revoke, call
            self.assertEqual(len(cmds), 6, cmds)
            self.assertRegex(text, r'Web console: http://127\.0\.0\.1:\d+/console/ - sign in as '
                                   r'admin with [a-z2-9]{5}(-[a-z2-9]{5}){3} ')
            self.assertTrue(cmds[0].startswith('TOKEN=$(curl'), cmds[0])
            self.assertIn('/llm/v1/chat/completions', cmds[2])
            self.assertIn("require('openai')", cmds[3])
            script = ('set -e\n%s\necho "CALL1 $(%s | head -1)"\necho "LLM $(%s | head -1)"\n'
                      '%s\nsleep 1.2\necho "CALL2 $(%s | head -1)"\n'
                      % (cmds[0], cmds[1], cmds[2], cmds[4], cmds[5]))
            r = subprocess.run(['bash', '-c', script], capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertRegex(r.stdout, r'CALL1 HTTP/1.1 200')
            # the LLM API answers once jwtgated publishes the snapshot's llm section
            # (with its secrets key beside the snapshot); before that: 404, no model
            secrets = os.path.join(env['JWTGATE_DEMO_DIR'], 'jwtgated', 'gateway-secrets.jwk')
            self.assertRegex(r.stdout, r'LLM HTTP/1.1 %s'
                             % ('200' if os.path.exists(secrets) else '404'))
            self.assertRegex(r.stdout, r'CALL2 HTTP/1.1 401')
        finally:
            # Ctrl-C: the terminal sends SIGINT to the whole foreground process group.
            os.killpg(demo.pid, signal.SIGINT)
            try:
                demo.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(demo.pid, signal.SIGKILL)
                demo.wait()
                self.fail('the demo did not stop on Ctrl-C')
        self.assertEqual(demo.returncode, 0)
        time.sleep(0.2)
        left = [p for p in tree if os.path.exists('/proc/%d' % p)]
        self.assertEqual(left, [], 'processes left after Ctrl-C')
        with open(log) as f:
            self.assertIn('== stopping', f.read())


if __name__ == '__main__':
    unittest.main(verbosity=2)
