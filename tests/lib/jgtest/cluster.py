"""A cluster for end-to-end tests and `scripts/demo --cluster`: one PostgreSQL database,
`nodes` jwtgated nodes on it with one issuer, and `gateways` nginx gateways, each with its
own `jwtgate gateway sync` agent (registered with `jwtgate admin gateway create`) that
long-polls every node and writes the gateway's local snapshot file; one upstream (the
first gateway's echo server block) for every API.

Needs JG_TEST_STORE=postgresql (set before jgtest is imported)."""
import os
import shutil
import signal
import subprocess

from . import config, procs
from .jwtgated import ON_POSTGRES, Server
from .stack import Gateway, Stack

ISSUER = 'https://issuer.cluster.test'


class Agent:
    """`jwtgate gateway sync` for one gateway host: registered through node 1
    (`jwtgate admin gateway create`), long-polling every node in `urls`, writing `out`."""

    def __init__(self, cluster, name, urls):
        self.dir = os.path.join(cluster.tmp, name)
        os.makedirs(self.dir, exist_ok=True)
        self.name = name
        self.credential = os.path.join(self.dir, 'credential.json')
        self.out = os.path.join(self.dir, 'snapshot.jgs')
        self.log_path = os.path.join(self.dir, 'sync.log')
        self.urls = list(urls)
        n1 = cluster.nodes[0]
        env = dict(config.child_env(), JWTGATE_ADMIN_URL=n1.issuer,
                   JWTGATE_ADMIN_TOKEN=n1.admin_token)
        out = subprocess.run([config.JWTGATE_CLI, 'admin', 'gateway', 'create', name,
                              '--out', self.credential],
                             capture_output=True, text=True, timeout=60, env=env)
        if out.returncode != 0:
            raise RuntimeError('gateway create %s: %s' % (name, out.stderr))
        self.id = [ln.split(': ', 1)[1] for ln in out.stdout.splitlines()
                   if ln.startswith('id: ')][0]
        self.svc = None

    def argv(self, *extra):
        argv = [config.JWTGATE_CLI, 'gateway', 'sync', '--credential', self.credential,
                '--out', self.out]
        for u in self.urls:
            argv += ['--url', u]
        return argv + list(extra)

    def once(self, timeout=60):
        """`--once`: (exit status, standard error)."""
        p = subprocess.run(self.argv('--once'), capture_output=True, text=True,
                           timeout=timeout, env=config.child_env())
        return p.returncode, p.stderr

    def start(self):
        self.svc = procs.Service('sync-' + self.name, self.argv('--wait', '20'), self.log_path,
                                 env=config.child_env()).start()
        self.svc.wait_ready(lambda: os.path.exists(self.out))
        return self

    def stop(self):
        """SIGTERM: its exit status (0 for a clean stop)."""
        if self.svc is not None and self.svc.running():
            return self.svc.stop(signal.SIGTERM)
        return None

    def read_log(self):
        return procs.read_text(self.log_path)


class Cluster(Stack):
    """PostgreSQL + `nodes` jwtgated + `gateways` gateways with their agents. The admin
    calls of Stack (api, app, subscribe, token, revoke, until) go to node 1 (`srv`); APIs
    proxy to the first gateway's echo upstream."""

    def __init__(self, nodes=3, gateways=2, token_ttl=None):
        if not ON_POSTGRES:
            raise RuntimeError('Cluster: set JG_TEST_STORE=postgresql')
        self.tmp = config.scratch('cluster-')
        self.nodes, self.agents, self.gateways = [], [], []
        try:
            extra = ('--issuer', ISSUER)
            self.nodes.append(Server(*extra, token_ttl=token_ttl, access_log=False))
            for _ in range(nodes - 1):
                self.nodes.append(Server(*extra, token_ttl=token_ttl, access_log=False,
                                         join=self.nodes[0]))
            for i in range(gateways):
                a = Agent(self, 'gw%d' % (i + 1), [n.issuer for n in self.nodes])
                self.agents.append(a)
                a.start()
                self.gateways.append(Gateway(a.dir, a.out))
            self.srv, self.gw, self.issuer, self.n = self.nodes[0], self.gateways[0], ISSUER, 0
            _, ten = self.srv.admin('POST', '/tenants', {'name': 'cluster'}, expect=201)
            self.tenant = ten['id']
        except BaseException:
            self.close()
            raise

    def node_token(self, node, app, expect=200):
        """A token issued by `node`."""
        r = node.token(app['client_id'], app['client_secret'])
        if r.status != expect:
            raise AssertionError('token at node %d: expected %d, got %r'
                                 % (self.nodes.index(node) + 1, expect, r))
        return r.json().get('access_token') if expect == 200 else r

    def close(self):
        problems = []
        for g in self.gateways:
            try:
                g.stop()
                problems += g.check_log()
            except Exception as e:  # keep closing the rest
                problems.append('%s' % e)
        for a in self.agents:
            try:
                code = a.stop()
                if code not in (None, 0):
                    problems.append('agent %s exited with %s' % (a.name, code))
            except Exception as e:
                problems.append('%s' % e)
        for n in reversed(self.nodes):
            try:
                n.close()
            except Exception as e:
                problems.append('%s' % e)
        shutil.rmtree(self.tmp, ignore_errors=True)
        if problems:
            raise AssertionError('cluster: ' + '\n'.join(problems[:20]))
