#!/usr/bin/env python3
"""`scripts/demo --cluster`: the cluster on loopback (docs/cluster.md), in one command.

  - PostgreSQL 15: a throwaway cluster (initdb in the state directory, loopback only, an
    unprivileged user), removed at the end;
  - three `jwtgated serve` nodes on one database, one issuer;
  - two nginx gateways with ngx_http_jwtgate_module, each with its own `jwtgate gateway
    sync` agent (registered with `jwtgate admin gateway create`) that long-polls all three
    nodes and writes the gateway's snapshot file;
  - an upstream that echoes what it got;

then a tenant, an API, an application and an approved subscription, and the curl commands
that get a token from one node, call the API through either gateway and revoke the token
through another node. Ctrl-C stops everything.

  --check   run those steps itself and check the answers (a token from node 2, 200 from
            both gateways, revoked through node 3, 401 from both), stop and exit.

Run by scripts/demo (which builds first); the binaries are JWTGATE_DEMO_BUILD's
(default build/release), the state in JWTGATE_DEMO_DIR (default build/demo-cluster).
"""
import os
import shutil
import signal
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    check = sys.argv[1:] == ['--check']
    if sys.argv[1:] not in ([], ['--check']):
        print('usage: scripts/demo --cluster [--check]', file=sys.stderr)
        return 2
    build = os.environ.get('JWTGATE_DEMO_BUILD') or os.path.join(ROOT, 'build', 'release')
    state = os.environ.get('JWTGATE_DEMO_DIR') or os.path.join(
        ROOT, 'build', 'demo-cluster-check' if check else 'demo-cluster')
    shutil.rmtree(state, ignore_errors=True)
    os.makedirs(state)
    os.environ.update(JG_BUILD_DIR=build, JG_TEST_DIR=state, JG_TEST_STORE='postgresql')
    sys.path.insert(0, os.path.join(ROOT, 'tests', 'lib'))
    from jgtest import http  # noqa: E402  (after the environment is set)
    from jgtest.cluster import Cluster  # noqa: E402

    print('== PostgreSQL 15, three jwtgated nodes, two gateways with their sync agents')
    c = Cluster(nodes=3, gateways=2)
    try:
        api = c.api('orders', scopes=('orders:read',))
        app = c.app('demo-app')
        c.subscribe(app, api, ['orders:read'])
        n1, n2, n3 = c.nodes
        g1, g2 = c.gateways
        for i, n in enumerate(c.nodes):
            print('   node %d:    %s  (jwtgated, PostgreSQL %s)'
                  % (i + 1, n.issuer, n.db_url.split('@')[-1]))
        for i, (g, a) in enumerate(zip(c.gateways, c.agents)):
            print('   gateway %d: http://127.0.0.1:%d  (nginx; agent: jwtgate gateway sync, '
                  'log %s)' % (i + 1, g.port, os.path.relpath(a.log_path, ROOT)))
        cid, secret = app['client_id'], app['client_secret']
        token_cmd = ('curl -s -u %s:%s -d grant_type=client_credentials %s/oauth2/token'
                     % (cid, secret, n2.issuer))
        print()
        print('== a token from node 2, the API through either gateway, revoked through node 3:')
        print('   TOKEN=$(%s | sed \'s/.*"access_token":"\\([^"]*\\)".*/\\1/\')' % token_cmd)
        for g in (g1, g2):
            print('   curl -i -H "Authorization: Bearer $TOKEN" http://127.0.0.1:%d/orders/1'
                  % g.port)
        print('   curl -s -u %s:%s -d "token=$TOKEN" %s/oauth2/revoke'
              % (cid, secret, n3.issuer))
        print('   (then the gateways answer 401 within a second)')
        print()
        print('== the admin API of any node: JWTGATE_ADMIN_URL=%s JWTGATE_ADMIN_TOKEN=%s'
              % (n1.issuer, n1.admin_token[:8] + '...'))
        if check:
            return run_check(c, http, app, n2, n3, (g1, g2))
        print('== running; Ctrl-C stops everything')
        signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
        # Ctrl-C, even when started from a shell that ignores it in background jobs
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print('\n== stopping')
        return 0
    finally:
        c.close()


def run_check(c, http, app, n2, n3, gateways):
    cred = (app['client_id'], app['client_secret'])
    # node 2 applies node 1's approval milliseconds after node 1 answered it
    c.until(lambda: n2.token(*cred).status == 200, timeout=10)
    r = n2.token(*cred)
    if r.status != 200:
        print('demo --cluster --check: FAILED: token from node 2: %r' % r)
        return 1
    tok = r.json()['access_token']
    took = c.until(lambda: all(g.get('/orders/1', tok).status == 200 for g in gateways),
                   timeout=10)
    print('   the API through both gateways: 200 after %.0f ms' % (took * 1000))
    r = n3.post_form('/oauth2/revoke', {'token': tok}, auth=cred)
    if r.status != 200:
        print('demo --cluster --check: FAILED: revoke at node 3: %r' % r)
        return 1
    took = c.until(lambda: all(g.get('/orders/1', tok).status == 401 for g in gateways),
                   timeout=10)
    print('   revoked through node 3: 401 from both gateways after %.0f ms' % (took * 1000))
    print('demo --cluster --check: OK')
    return 0


if __name__ == '__main__':
    sys.exit(main())
