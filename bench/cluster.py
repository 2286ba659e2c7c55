#!/usr/bin/env python3
"""jwtgated as a cluster on one PostgreSQL database (issue 16): token issuance with 1, 2
and 3 nodes and the database's share of it, and how fast a change made through one node
reaches the others.

  scripts/bench-cluster [--seconds S] [--connections N] [--changes N] [--build DIR]
                        [--no-build] [--json FILE]

Starts a throwaway PostgreSQL 15 cluster (tests/lib/jgtest: initdb in a temporary
directory, loopback only; fsync off, as in the tests: the commit's disk flush is not what
is measured), three `jwtgated serve` on one database with one issuer (as behind a load
balancer), a tenant, an API, an app and an approved subscription, then:

  - issuance: POST /oauth2/token (client_secret_basic, client_credentials) with wrk
    against 1, 2 and 3 nodes at once (--connections in all, split between the nodes,
    --seconds each): tokens/s,
    CPU per token of the jwtgated processes and of PostgreSQL (every backend and the
    postmaster), and the database's share of the CPU;
  - propagation: --changes admin changes (PATCH of an API's upstream) through node 1, one
    at a time: from the answer until node 2's and node 3's views hold it (their
    /metrics), and until their snapshots are written; a token issued by node 2 revoked
    through node 3: until node 1's introspection says inactive.

All on this machine: the nodes, wrk and PostgreSQL share its cores, so more nodes do not
mean more tokens per second here; CPU per token and the database's share are what carry
over to a deployment with a host per node.
"""
import argparse
import base64
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ISSUER = ('--issuer', 'https://cluster.bench')


def cpu_s(pid, children=False):
    """utime + stime (+ the reaped children's) of a process, in seconds; 0 if gone."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf('SC_CLK_TCK')


def children_of(ppid):
    out = []
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % name) as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == ppid:
            out.append(int(name))
    return out


def postgres_cpu(pid):
    """The postmaster, its reaped children, and every live backend."""
    return cpu_s(pid, children=True) + sum(cpu_s(c) for c in children_of(pid))


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def metric(srv, name):
    text = srv.request('GET', '/metrics', timeout=10).body.decode()
    m = re.search(r'^%s (-?\d+(?:\.\d+)?)$' % re.escape(name), text, re.M)
    return float(m.group(1)) if m else None


def issuance(nodes, pg_pid, app, seconds, connections):
    auth = base64.b64encode(('%s:%s' % (app['client_id'], app['client_secret'])).encode())
    with tempfile.NamedTemporaryFile('w', suffix='.lua', delete=False) as lua:
        lua.write('wrk.method = "POST"\n'
                  'wrk.body = "grant_type=client_credentials&scope=orders%%3Aread"\n'
                  'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
                  'wrk.headers["Authorization"] = "Basic %s"\n' % auth.decode())
    pids = [n.proc.pid for n in nodes]
    jg0 = sum(cpu_s(p) for p in pids)
    pg0 = postgres_cpu(pg_pid)
    issued0 = sum(metric(n, 'jwtgated_tokens_issued_total') for n in nodes)
    # the same offered load whatever the number of nodes: the connections split between them
    per = max(1, connections // len(nodes))
    threads = '2' if len(nodes) == 1 else '1'
    runs = [subprocess.Popen(['wrk', '-t', threads, '-c', str(per), '-d', '%ds' % seconds,
                              '-s', lua.name, 'http://127.0.0.1:%d/oauth2/token' % n.port],
                             stdout=subprocess.PIPE, text=True) for n in nodes]
    outs = [r.communicate()[0] for r in runs]
    jg = sum(cpu_s(p) for p in pids) - jg0
    pg = postgres_cpu(pg_pid) - pg0
    os.unlink(lua.name)
    issued = sum(metric(n, 'jwtgated_tokens_issued_total') for n in nodes) - issued0
    bad = sum(int(m.group(1)) for o in outs
              for m in [re.search(r'Non-2xx or 3xx responses: (\d+)', o)] if m)
    rate = sum(float(re.search(r'Requests/sec:\s+([\d.]+)', o).group(1)) for o in outs)
    return {'nodes': len(nodes), 'tokens_per_s': rate, 'issued': issued, 'non_2xx': bad,
            'jwtgated_cpu_us_per_token': jg * 1e6 / issued if issued else 0,
            'postgres_cpu_us_per_token': pg * 1e6 / issued if issued else 0,
            'postgres_share': pg / (pg + jg) if pg + jg else 0}


def propagation(n1, others, path, changes):
    views, snaps = [], []
    for i in range(changes):
        n1.admin('PATCH', path, {'upstream': 'http://127.0.0.1:%d' % (2000 + i)}, expect=200)
        t0 = time.monotonic()
        version = n1.versions()[0]
        pending = {id(o): o for o in others}
        seen_view, seen_snap = {}, {}
        while pending and time.monotonic() - t0 < 10:
            for key, o in list(pending.items()):
                v, published = o.versions()
                if v >= version and key not in seen_view:
                    seen_view[key] = time.monotonic() - t0
                if published >= version:
                    seen_snap[key] = time.monotonic() - t0
                    del pending[key]
            time.sleep(0.002)
        if pending:
            raise RuntimeError('change %d not on every node within 10 s' % i)
        views.append(max(seen_view.values()))
        snaps.append(max(seen_snap.values()))
        time.sleep(0.05)
    return views, snaps


def revocation(n1, n2, n3, client):
    out = []
    for _ in range(20):
        tok = n2.token(*client).json()['access_token']
        assert n3.post_form('/oauth2/revoke', {'token': tok}, auth=client).status == 200
        t0 = time.monotonic()
        while n1.post_form('/oauth2/introspect', {'token': tok}, auth=client).json()['active']:
            if time.monotonic() - t0 > 10:
                raise RuntimeError('revocation not seen by node 1 within 10 s')
            time.sleep(0.002)
        out.append(time.monotonic() - t0)
    return out


def ms(x):
    return x * 1000.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--seconds', type=int, default=8)
    ap.add_argument('--connections', type=int, default=24, help='in all, split between the nodes')
    ap.add_argument('--changes', type=int, default=50)
    ap.add_argument('--build', default=os.path.join(ROOT, 'build', 'release'))
    ap.add_argument('--no-build', action='store_true')
    ap.add_argument('--json')
    args = ap.parse_args()
    subprocess.run([os.path.join(ROOT, 'scripts', 'bootstrap'), '--with-bench'], check=True)
    if not args.no_build:
        subprocess.run(['cmake', '-S', ROOT, '-B', args.build,
                        '-DCMAKE_BUILD_TYPE=RelWithDebInfo'], check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run(['cmake', '--build', args.build, '-j', '2', '--target', 'jwtgated',
                        'jwtgate_cli'], check=True, stdout=subprocess.DEVNULL)
    os.environ['JWTGATED'] = os.path.join(args.build, 'server', 'jwtgated')
    os.environ['JG_TEST_STORE'] = 'postgresql'
    sys.path.insert(0, os.path.join(ROOT, 'tests', 'lib'))
    import jgtest  # noqa: E402

    res = {'loadavg_start': open('/proc/loadavg').read().split()[0]}
    nodes = []
    try:
        n1 = jgtest.Server(*ISSUER, '--threads', '2', access_log=False)
        nodes.append(n1)
        for _ in range(2):
            nodes.append(jgtest.Server(*ISSUER, '--threads', '2', access_log=False, join=n1))
        pg_pid = n1.pg.svc.proc.pid
        _, t = n1.admin('POST', '/tenants', {'name': 'bench'}, expect=201)
        _, api = n1.admin('POST', '/tenants/%s/apis' % t['id'], {
            'name': 'orders', 'version': 'v1', 'base_path': '/orders',
            'upstream': 'http://127.0.0.1:9', 'audience': 'https://api.example.com/orders',
            'scopes': ['orders:read'], 'policy': 'automatic'}, expect=201)
        n1.admin('POST', '/tenants/%s/apis/%s/lifecycle' % (t['id'], api['id']),
                 {'state': 'published'}, expect=200)
        _, app = n1.admin('POST', '/tenants/%s/apps' % t['id'], {'name': 'bench'}, expect=201)
        n1.admin('POST', '/tenants/%s/subscriptions' % t['id'], {
            'app_id': app['id'], 'api_id': api['id'], 'scopes': ['orders:read']}, expect=201)
        client = (app['client_id'], app['client_secret'])
        jgtest.wait_until(lambda: all(n.token(*client).status == 200 for n in nodes), 10,
                          what='every node issues')
        res['issuance'] = [issuance(nodes[:k], pg_pid, app, args.seconds, args.connections)
                           for k in (1, 2, 3)]
        path = '/tenants/%s/apis/%s' % (t['id'], api['id'])
        views, snaps = propagation(n1, nodes[1:], path, args.changes)
        revs = revocation(n1, nodes[1], nodes[2], client)
        for k, xs in (('view', views), ('snapshot', snaps), ('revocation', revs)):
            res[k] = {'p50_ms': ms(statistics.median(xs)), 'p99_ms': ms(pct(xs, 99)),
                      'max_ms': ms(max(xs)), 'n': len(xs)}
    finally:
        for n in reversed(nodes):
            n.close()
    res['loadavg_end'] = open('/proc/loadavg').read().split()[0]

    print('| nodes | tokens/s | jwtgated CPU per token | PostgreSQL CPU per token '
          '| PostgreSQL share | non-2xx |')
    print('| --- | --- | --- | --- | --- | --- |')
    for r in res['issuance']:
        print('| %d | %.0f | %.0f us | %.2f us | %.2f %% | %d |' % (
            r['nodes'], r['tokens_per_s'], r['jwtgated_cpu_us_per_token'],
            r['postgres_cpu_us_per_token'], 100 * r['postgres_share'], r['non_2xx']))
    print()
    for k, what in (('view', 'a change through node 1 in the views of nodes 2 and 3'),
                    ('snapshot', 'the same in their published snapshots'),
                    ('revocation', 'a token of node 2 revoked through node 3, inactive at '
                                   'node 1')):
        r = res[k]
        print('%s: p50 %.1f ms, p99 %.1f ms, max %.1f ms (n=%d)'
              % (what, r['p50_ms'], r['p99_ms'], r['max_ms'], r['n']))
    print('load average: %s at the start, %s at the end'
          % (res['loadavg_start'], res['loadavg_end']))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(res, f, indent=1)
    return 1 if any(r['non_2xx'] for r in res['issuance']) else 0


if __name__ == '__main__':
    sys.exit(main())
