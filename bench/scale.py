#!/usr/bin/env python3
"""jwtgated at the scale of a large platform (issue 15): what one change costs.

  scripts/bench-scale [--build DIR [--no-build]] [--scale F] [--samples N] [--issue N]
                      [--json FILE]

Populates a fresh data directory with 10,000 APIs, 10,000 apps, 100,000 approved
subscriptions and 100,000 live revoked jti (times --scale) — written into SQLite
directly, since creating them through the admin API is exactly what is slow — then
starts jwtgated on it and measures, on loopback:

  - start-up (until /readyz answers 200) and the resident memory after it;
  - the snapshot's size;
  - POST /oauth2/revoke answered (one new token revoked per sample);
  - an admin change answered (PATCH of an API's upstream);
  - token issuance latency alone, and while admin changes run back to back.

Prints a Markdown table (docs/BENCHMARKS.md, "Scale") and optionally JSON.
"""
import argparse
import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def ms(seconds):
    return seconds * 1000.0


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def rss_mib(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024.0
    return 0.0


def populate(db, tenant_id, napis, napps, nsubs, nrev):
    """Rows as jwtgated writes them (server/store/store_tables.c)."""
    now = int(time.time())
    con = sqlite3.connect(db)
    cur = con.cursor()
    cur.executemany(
        'INSERT INTO apis (id, tenant_id, name, version, base_path, upstream, audience, scopes,'
        ' policy, state, sunset, created_at, updated_at, deprecated_at)'
        ' VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)',
        (('api_scale%07d' % i, tenant_id, 'svc-%d' % i, 'v1', '/svc/%d' % i,
          'http://10.0.%d.%d:9000' % (i // 256 % 256, i % 256),
          'https://api.example.com/svc/%d' % i,
          json.dumps(['svc%d:read' % i, 'svc%d:write' % i]), 'automatic', 'published', None,
          now, now, None) for i in range(napis)))
    cur.executemany(
        'INSERT INTO apps (id, tenant_id, name, client_id, auth_method, jwks, suspended,'
        ' created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)',
        (('app_scale%07d' % i, tenant_id, 'app-%d' % i, 'jgc_scale%07d' % i, 'client_secret',
          None, 0, now, now) for i in range(napps)))
    per_app = max(1, nsubs // max(1, napps))

    def subs():
        for i in range(nsubs):
            app = i // per_app % napps
            api = (app * 7919 + i % per_app) % napis
            yield ('sub_scale%07d' % i, 'app_scale%07d' % app, 'api_scale%07d' % api,
                   tenant_id, tenant_id, json.dumps(['svc%d:read' % api]), 'approved',
                   'bench', now, 'bench', now, None)
    cur.executemany(
        'INSERT OR IGNORE INTO subscriptions (id, app_id, api_id, app_tenant_id, api_tenant_id,'
        ' scopes, state, requested_by, requested_at, decided_by, decided_at, reason)'
        ' VALUES (?,?,?,?,?,?,?,?,?,?,?,?)', subs())
    cur.executemany(
        'INSERT INTO revoked_tokens (jti, client_id, exp, revoked_at) VALUES (?,?,?,?)',
        (('jti-scale-%010d' % i, 'jgc_scale%07d' % (i % napps), now + 3600, now)
         for i in range(nrev)))
    # the change counter moves on, as it would have with every change
    cur.execute("UPDATE meta SET v = v + 1 WHERE k = 'version'")
    con.commit()
    con.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--build', default=os.path.join(ROOT, 'build', 'release'))
    ap.add_argument('--scale', type=float, default=1.0)
    ap.add_argument('--samples', type=int, default=10)
    ap.add_argument('--issue', type=int, default=200, help='token requests per latency run')
    ap.add_argument('--json')
    ap.add_argument('--no-build', action='store_true',
                    help='use the binaries in --build as they are (e.g. another checkout)')
    args = ap.parse_args()
    if not args.no_build:
        subprocess.run([os.path.join(ROOT, 'scripts', 'bootstrap')], check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run(['cmake', '-S', ROOT, '-B', args.build,
                        '-DCMAKE_BUILD_TYPE=RelWithDebInfo'], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(['cmake', '--build', args.build, '-j', '2', '--target', 'jwtgated',
                        'jwtgate_cli'], check=True, stdout=subprocess.DEVNULL)
    os.environ['JWTGATED'] = os.path.join(args.build, 'server', 'jwtgated')
    os.environ.setdefault('JWTGATE', os.path.join(args.build, 'jwtgate'))
    sys.path.insert(0, os.path.join(ROOT, 'tests', 'lib'))
    import jgtest  # noqa: E402

    n = {k: int(v * args.scale) for k, v in
         (('apis', 10000), ('apps', 10000), ('subs', 100000), ('revoked', 100000))}
    # a change may take longer than the default deadlines at this scale (that is what is measured)
    srv = jgtest.Server('--threads', '2', '--timeout', '3600', '--request-timeout', '3600',
                        access_log=False)
    res = {'scale': args.scale, **n}
    try:
        _, t = srv.admin('POST', '/tenants', {'name': 'scale'}, expect=201)
        _, api = srv.admin('POST', '/tenants/%s/apis' % t['id'], {
            'name': 'orders', 'version': 'v1', 'base_path': '/orders',
            'upstream': 'http://127.0.0.1:9', 'audience': 'https://api.example.com/orders',
            'scopes': ['orders:read'], 'policy': 'automatic'}, expect=201)
        srv.admin('POST', '/tenants/%s/apis/%s/lifecycle' % (t['id'], api['id']),
                  {'state': 'published'}, expect=200)
        _, app = srv.admin('POST', '/tenants/%s/apps' % t['id'], {'name': 'client'}, expect=201)
        srv.admin('POST', '/tenants/%s/subscriptions' % t['id'], {
            'app_id': app['id'], 'api_id': api['id'], 'scopes': ['orders:read']}, expect=201)
        srv.stop()
        populate(os.path.join(srv.data, 'jwtgated.db'), t['id'], n['apis'], n['apps'],
                 n['subs'], n['revoked'])

        t0 = time.monotonic()
        srv.start()
        jgtest.wait_until(lambda: srv.request('GET', '/readyz').status == 200, 600,
                          step=0.05, what='jwtgated ready')
        res['startup_s'] = time.monotonic() - t0
        res['rss_mib'] = rss_mib(srv.proc.pid)
        snap_path = srv.snapshot_path
        if not os.path.exists(snap_path):  # a jwtgated before format 2 (--build of an old one)
            snap_path = os.path.join(srv.data, 'snapshot.json')
        res['snapshot_mb'] = os.path.getsize(snap_path) / 1e6
        with open(snap_path, 'rb') as f:
            res['snapshot_form'] = 'compiled' if f.read(6) == b'JGSNAP' else 'JSON'

        cid, secret = app['client_id'], app['client_secret']
        http = jgtest.http
        slow = 900  # seconds: a change may take long at this scale; that is what is measured

        def post_form(path, fields):
            return http.request(srv.port, path, method='POST', body=http.form(fields),
                                headers={'Content-Type': 'application/x-www-form-urlencoded',
                                         'Authorization': http.basic(cid, secret)},
                                timeout=slow)

        def patch(path, body):
            r = http.request(srv.port, '/admin/v1' + path, method='PATCH', body=json.dumps(body),
                             headers={'Content-Type': 'application/json',
                                      'Authorization': 'Bearer ' + srv.admin_token},
                             timeout=slow)
            assert r.status == 200, r

        def issue():
            r = post_form('/oauth2/token', {'grant_type': 'client_credentials',
                                            'scope': 'orders:read'})
            assert r.status == 200, r
            return r.json()['access_token']

        revoke = []
        for _ in range(args.samples):
            tok = issue()
            t1 = time.monotonic()
            r = post_form('/oauth2/revoke', {'token': tok})
            revoke.append(time.monotonic() - t1)
            assert r.status == 200, r

        path = '/tenants/%s/apis/%s' % (t['id'], api['id'])
        admin = []
        for i in range(args.samples):
            t1 = time.monotonic()
            patch(path, {'upstream': 'http://127.0.0.1:%d' % (1000 + i)})
            admin.append(time.monotonic() - t1)

        def issuance_latencies():
            out = []
            for _ in range(args.issue):
                t1 = time.monotonic()
                issue()
                out.append(time.monotonic() - t1)
            return out

        alone = issuance_latencies()
        stop = threading.Event()
        changes = [0]

        def churn():
            i = 0
            while not stop.is_set():
                patch(path, {'upstream': 'http://127.0.0.1:%d' % (2000 + i % 1000)})
                i += 1
                changes[0] += 1
        th = threading.Thread(target=churn)
        th.start()
        try:
            during = issuance_latencies()
        finally:
            stop.set()
            th.join()
        res.update({
            'revoke_ms': [ms(x) for x in revoke], 'admin_ms': [ms(x) for x in admin],
            'issue_alone_p50_ms': ms(statistics.median(alone)),
            'issue_alone_p99_ms': ms(pct(alone, 99)),
            'issue_during_p50_ms': ms(statistics.median(during)),
            'issue_during_p99_ms': ms(pct(during, 99)),
            'changes_during': changes[0]})
        res['rss_end_mib'] = rss_mib(srv.proc.pid)
        metrics = srv.request('GET', '/metrics', timeout=60).body.decode()
        m = re.search(r'^jwtgated_snapshot_write_seconds ([\d.]+)$', metrics, re.M)
        res['snapshot_write_s'] = float(m.group(1)) if m else None
    finally:
        try:
            srv.close()
        except RuntimeError as e:  # a slow stop is reported, the figures are still shown
            print('note: %s' % str(e).splitlines()[0], file=sys.stderr)

    def rng(v):
        return '%.0f–%.0f ms (median %.0f)' % (min(v), max(v), statistics.median(v))
    print('jwtgated with %(apis)d APIs, %(apps)d apps, %(subs)d subscriptions, '
          '%(revoked)d revoked jti' % n)
    print()
    print('| what | measured |')
    print('| --- | --- |')
    print('| start-up until ready | %.1f s |' % res['startup_s'])
    print('| resident memory after start / at the end | %.0f / %.0f MiB |'
          % (res['rss_mib'], res['rss_end_mib']))
    print('| snapshot size | %.1f MB (%s) |' % (res['snapshot_mb'], res['snapshot_form']))
    if res.get('snapshot_write_s') is not None:
        print('| the last snapshot write | %.2f s |' % res['snapshot_write_s'])
    print('| `POST /oauth2/revoke` answered | %s |' % rng(res['revoke_ms']))
    print('| an admin change answered | %s |' % rng(res['admin_ms']))
    print('| token issuance alone, p50 / p99 | %.1f / %.1f ms |'
          % (res['issue_alone_p50_ms'], res['issue_alone_p99_ms']))
    print('| token issuance during admin changes, p50 / p99 | %.1f / %.1f ms (%d changes) |'
          % (res['issue_during_p50_ms'], res['issue_during_p99_ms'], res['changes_during']))
    print('load average at the end: %s' % open('/proc/loadavg').read().split()[0])
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(res, f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
