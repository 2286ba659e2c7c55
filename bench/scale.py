#!/usr/bin/env python3
"""jwtgated at the scale of a large platform (issue 15): what one change costs, against
every target of the issue.

  scripts/bench-scale [--build DIR [--no-build]] [--scale F] [--samples N] [--issue N]
                      [--changes N] [--gateway-samples N] [--gateway-seconds S]
                      [--coalesce-seconds S] [--skip-gateway] [--json FILE]

Populates a fresh data directory with 10,000 APIs, 10,000 apps, 100,000 approved
subscriptions and 100,000 live revoked jti (times --scale) — written into SQLite
directly, since creating them through the admin API is exactly what is slow — then
starts jwtgated on it and measures, on loopback:

  - start-up (until /readyz answers 200) and the resident memory after it;
  - jwtgated's RSS after start, after the first 100 changes and after --changes (1,000);
  - the snapshot's size;
  - POST /oauth2/revoke answered (one new token revoked per sample) and an admin change
    answered (PATCH of an API's upstream): p50 / p99 / max of --samples each;
  - token issuance latency (--issue requests) alone, while admin changes run back to
    back, and during a paced stream of 50 changes per second;
  - with a real nginx and ngx_http_jwtgate_module (2 workers, the module's default
    snapshot check interval, 250 ms; the verified-token cache on) reading jwtgated's
    snapshot, unless --skip-gateway:
      - the gateway's memory: RSS and PSS of each worker, and of the snapshot's mapping;
      - a revocation enforced: from the revoke's answer until the gateway refuses the
        token (--gateway-samples);
      - request latency at the gateway for --gateway-seconds, steady and while one admin
        change per second makes jwtgated replace the snapshot every second;
  - coalescing: one client revoking its own tokens back to back for --coalesce-seconds,
    against the snapshot writes it causes;
  - the revoked entries in the published snapshot (`jwtgate snapshot info`) against the
    live revocations in the database.

Prints a Markdown table (docs/BENCHMARKS.md, "Scale"), a second one of the issue's
targets (each figure and "met" or "missed"), and optionally JSON of every figure.
"""
import argparse
import http.client
import json
import multiprocessing
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: the benchmark's own API (the populated ones are svc-N)
AUDIENCE = 'https://api.example.com/orders'
BASE_PATH = '/orders'


def ms(seconds):
    return seconds * 1000.0


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def summary(seconds):
    """p50 / p99 / max in ms, and the number of samples, of latencies in seconds."""
    return {'p50_ms': ms(statistics.median(seconds)), 'p99_ms': ms(pct(seconds, 99)),
            'max_ms': ms(max(seconds)), 'n': len(seconds)}


def loadavg():
    with open('/proc/loadavg') as f:
        return ' '.join(f.read().split()[:3])


def proc_kib(path, fields):
    """{field: kB} of the "Name:  N kB" lines of a /proc file."""
    out = dict.fromkeys(fields, 0)
    with open(path) as f:
        for line in f:
            name, _, rest = line.partition(':')
            if name in out:
                out[name] = int(rest.split()[0])
    return out


def rss_mib(pid):
    return proc_kib('/proc/%d/status' % pid, ('VmRSS',))['VmRSS'] / 1024.0


def mapping_kib(pid, needle):
    """Rss and Pss (kB) of the mappings of a file whose path contains `needle`."""
    out = {'Rss': 0, 'Pss': 0}
    inside = False
    with open('/proc/%d/smaps' % pid) as f:
        for line in f:
            first = line.split(None, 1)[0]
            if '-' in first and not first.endswith(':'):   # a mapping's header line
                inside = needle in line
            elif inside and first[:-1] in out:
                out[first[:-1]] += int(line.split()[1])
    return out


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


class Bench:
    """The running jwtgated and the calls the measurements make: as the benchmark's
    client (its API `AUDIENCE` at `BASE_PATH`) and as the first administrator."""

    slow = 900  # seconds: a change may take long at this scale; that is what is measured

    def __init__(self, jgtest, srv, tenant, api, app):
        self.jgtest = jgtest
        self.http = jgtest.http
        self.srv = srv
        self.cid, self.secret = app['client_id'], app['client_secret']
        self.api_path = '/tenants/%s/apis/%s' % (tenant['id'], api['id'])
        # shared with a Churn's process, so that every change sets a new upstream
        self.changes = multiprocessing.get_context('fork').Value('q', 0)

    def post_form(self, path, fields):
        return self.http.request(
            self.srv.port, path, method='POST', body=self.http.form(fields),
            headers={'Content-Type': 'application/x-www-form-urlencoded',
                     'Authorization': self.http.basic(self.cid, self.secret)},
            timeout=self.slow)

    def change(self):
        """One admin change: a PATCH of the benchmark API's upstream to a new value."""
        with self.changes.get_lock():
            n = self.changes.value
            self.changes.value += 1
        r = self.http.request(
            self.srv.port, '/admin/v1' + self.api_path, method='PATCH',
            body=json.dumps({'upstream': 'http://127.0.0.1:%d' % (1024 + n % 60000)}),
            headers={'Content-Type': 'application/json',
                     'Authorization': 'Bearer ' + self.srv.admin_token},
            timeout=self.slow)
        assert r.status == 200, r

    def issue(self):
        r = self.post_form('/oauth2/token', {'grant_type': 'client_credentials',
                                             'scope': 'orders:read'})
        assert r.status == 200, r
        return r.json()['access_token']

    def revoke(self, token):
        r = self.post_form('/oauth2/revoke', {'token': token})
        assert r.status == 200, r

    def metric(self, name):
        text = self.srv.request('GET', '/metrics', timeout=60).body.decode()
        m = re.search(r'^%s ([-\d.e+]+)$' % re.escape(name), text, re.M)
        return float(m.group(1)) if m else None

    def wait_published(self, timeout=120):
        """Until the snapshot on disk holds every committed change."""
        self.jgtest.wait_until(lambda: (lambda v: v and v[1] >= v[0])(self.srv.versions()),
                               timeout, step=0.02, what='the snapshot published')


class Churn:
    """Admin changes in another process while the `with` block runs: `rate` per second on
    a schedule (sleeping to it; behind it, the next change goes at once), or back to back
    when `rate` is None. A process, not a thread: a thread would hold the GIL the timed
    client needs, and its waits would be counted as jwtgated's latency. self.count: the
    changes made; self.seconds: for how long."""

    def __init__(self, bench, rate=None):
        ctx = multiprocessing.get_context('fork')
        self.bench = bench
        self.rate = rate
        self.count = 0
        self.seconds = 0.0
        self.stop = ctx.Event()
        self.made = ctx.Value('q', 0)
        self.took = ctx.Value('d', 0.0)
        self.proc = ctx.Process(target=self.run, daemon=True)

    def run(self):
        t0 = time.monotonic()
        while not self.stop.is_set():
            if self.rate:
                delay = t0 + self.made.value / self.rate - time.monotonic()
                if delay > 0 and self.stop.wait(delay):
                    break
            self.bench.change()  # an exception ends the process with exit code 1
            self.made.value += 1
        self.took.value = time.monotonic() - t0

    def __enter__(self):
        self.proc.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.proc.join()
        self.count, self.seconds = self.made.value, self.took.value
        if self.proc.exitcode != 0 and exc[0] is None:
            raise RuntimeError('the admin changes failed (exit code %s; above)'
                               % self.proc.exitcode)


# ---- jwtgated ----------------------------------------------------------------------------

def hwm_mib(pid):
    """The resident high-water mark (VmHWM): the peak, whenever it happened."""
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmHWM:'):
                return int(line.split()[1]) / 1024.0
    return 0.0


def measure_rss_over_changes(bench, res, changes):
    """jwtgated's RSS at rest (the publisher caught up, so no snapshot build's buffers
    are counted) after the first 100 changes and after `changes`, and the peak (VmHWM)
    over the whole run; after start: the caller's rss_mib."""
    def at_rest():
        bench.wait_published()
        time.sleep(0.3)
        return rss_mib(bench.srv.proc.pid)
    first = min(100, changes)
    for i in range(changes):
        if i == first:
            res['rss_after_100_mib'] = at_rest()
        bench.change()
    res.setdefault('rss_after_100_mib', at_rest())
    res['rss_after_changes_mib'] = at_rest()
    res['rss_peak_mib'] = hwm_mib(bench.srv.proc.pid)
    res['rss_changes'] = changes


def measure_revoke(bench, res, samples):
    """POST /oauth2/revoke answered, one new token per sample."""
    out = []
    for _ in range(samples):
        tok = bench.issue()
        t1 = time.monotonic()
        bench.revoke(tok)
        out.append(time.monotonic() - t1)
    res['revoke_ms'] = [ms(x) for x in out]
    res['revoke'] = summary(out)


def measure_admin(bench, res, samples):
    """An admin change answered (PATCH of an API's upstream)."""
    out = []
    for _ in range(samples):
        t1 = time.monotonic()
        bench.change()
        out.append(time.monotonic() - t1)
    res['admin_ms'] = [ms(x) for x in out]
    res['admin'] = summary(out)


def issuance_latencies(bench, n):
    out = []
    for _ in range(n):
        t1 = time.monotonic()
        bench.issue()
        out.append(time.monotonic() - t1)
    return out


def measure_issuance(bench, res, n):
    """Token issuance alone, while admin changes run back to back, and during a paced
    stream of 50 changes per second."""
    alone = issuance_latencies(bench, n)
    with Churn(bench) as churn:
        during = issuance_latencies(bench, n)
    with Churn(bench, rate=50) as paced:
        during50 = issuance_latencies(bench, n)
    res.update({
        'issue_alone_p50_ms': ms(statistics.median(alone)),
        'issue_alone_p99_ms': ms(pct(alone, 99)),
        'issue_during_p50_ms': ms(statistics.median(during)),
        'issue_during_p99_ms': ms(pct(during, 99)),
        'changes_during': churn.count,
        'issue_50ps_p50_ms': ms(statistics.median(during50)),
        'issue_50ps_p99_ms': ms(pct(during50, 99)),
        'changes_50ps': paced.count, 'changes_50ps_seconds': paced.seconds})
    res['issue_50ps_ratio'] = res['issue_50ps_p99_ms'] / res['issue_alone_p99_ms']


def measure_coalescing(bench, res, seconds):
    """One client revoking its own tokens back to back for `seconds`: revocations done
    against the snapshot writes they caused (until the snapshot holds the last one). The
    tokens are issued first: what fits by 10 timed revocations, and 30% more."""
    probe = [bench.issue() for _ in range(10)]
    t1 = time.monotonic()
    for tok in probe:
        bench.revoke(tok)
    each = max(0.0002, (time.monotonic() - t1) / len(probe))
    tokens = [bench.issue() for _ in range(min(20000, int(seconds / each * 1.3) + 10))]
    bench.wait_published()
    writes0 = bench.metric('jwtgated_snapshot_writes_total')
    done = 0
    t0 = time.monotonic()
    for tok in tokens:
        if time.monotonic() - t0 >= seconds:
            break
        bench.revoke(tok)
        done += 1
    took = time.monotonic() - t0
    bench.wait_published()
    writes = bench.metric('jwtgated_snapshot_writes_total')
    writes = None if writes is None or writes0 is None else int(writes - writes0)
    res['coalesce'] = {'revocations': done, 'seconds': took, 'tokens_issued': len(tokens),
                       'snapshot_writes': writes,
                       'revocations_per_write': done / writes if writes else None}


def measure_snapshot_entries(bench, res, snap_path):
    """The revoked entries in the published snapshot against the live revocations."""
    bench.wait_published()
    out = subprocess.run([bench.jgtest.config.JWTGATE_CLI, 'snapshot', 'info', '--json',
                          snap_path], capture_output=True, text=True, timeout=120)
    info = None
    if out.returncode == 0:
        try:
            info = json.loads(out.stdout)
        except ValueError:
            info = None
    res['snapshot_info'] = info
    con = sqlite3.connect('file:%s?mode=ro' % os.path.join(bench.srv.data, 'jwtgated.db'),
                          uri=True, timeout=60)
    try:
        (live,) = con.execute('SELECT COUNT(*) FROM revoked_tokens WHERE exp > ?',
                              (int(time.time()),)).fetchone()
    finally:
        con.close()
    res['revoked_live'] = live
    res['revoked_in_snapshot'] = info.get('revoked_jti') if info else None
    res['snapshot_end_mb'] = os.path.getsize(snap_path) / 1e6


# ---- the gateway -------------------------------------------------------------------------

GATEWAY_HTTP = r'''
    keepalive_requests 100000;
    jwtgate_cache zone=bench_tokens:10m;
    # the module's default check interval (250 ms)
    jwtgate_snapshot %(snapshot)s;
'''

GATEWAY_SERVER = r'''
        location / {
            jwtgate bench;
            proxy_pass http://echo;
        }
'''


def start_gateway(jgtest, srv, workers=2):
    gw = jgtest.Nginx('bench-scale-nginx', GATEWAY_SERVER, GATEWAY_HTTP, workers,
                      params={'snapshot': srv.snapshot_path},
                      dir=os.path.join(srv.tmp, 'nginx'), worker_connections=1024)
    return gw.start()


def gateway_workers(gw):
    def cmdline(pid):
        try:
            with open('/proc/%d/cmdline' % pid, 'rb') as f:
                return f.read()
        except OSError:
            return b''
    return [p for p in gw.worker_pids() if b'worker process' in cmdline(p)]


def measure_gateway_memory(gw, res, snap_path):
    """RSS and PSS of each worker (smaps_rollup) and of its mapping of the snapshot
    file, and the same of the master (which read the snapshot with the configuration)."""
    needle = os.path.basename(snap_path)
    procs = [('master', gw.svc.pid)] + [('worker', p) for p in gateway_workers(gw)]
    rows = []
    for role, pid in procs:
        roll = proc_kib('/proc/%d/smaps_rollup' % pid,
                        ('Rss', 'Pss', 'Private_Clean', 'Private_Dirty'))
        snap = mapping_kib(pid, needle)
        rows.append({'role': role, 'pid': pid, 'rss_mib': roll['Rss'] / 1024.0,
                     'pss_mib': roll['Pss'] / 1024.0,
                     'private_mib': (roll['Private_Clean'] + roll['Private_Dirty']) / 1024.0,
                     'snapshot_rss_mib': snap['Rss'] / 1024.0,
                     'snapshot_pss_mib': snap['Pss'] / 1024.0})
    workers = [r for r in rows if r['role'] == 'worker']
    res['gateway_memory'] = {
        'processes': rows, 'snapshot_file_mb': os.path.getsize(snap_path) / 1e6,
        'workers_pss_mib': sum(r['pss_mib'] for r in workers),
        'workers_snapshot_pss_mib': sum(r['snapshot_pss_mib'] for r in workers),
        'worker_snapshot_rss_mib': max([r['snapshot_rss_mib'] for r in workers] or [0])}


def gateway_status(gw, tok, conn=None):
    return gw.get(BASE_PATH + '/1', tok, conn=conn, timeout=10).status


def poll(fn, timeout, step=0.01, streak=1):
    """Seconds until fn() is true, measured to the first call of a run of `streak` true
    calls in a row (each worker picks a new snapshot up on its own timer); None if not
    within `timeout`."""
    start = time.monotonic()
    first, run = None, 0
    while time.monotonic() - start < timeout or run:
        now = time.monotonic()
        if fn():
            first = now if run == 0 else first
            run += 1
            if run >= streak:
                return first - start
            continue
        run = 0
        time.sleep(step)
    return None


def measure_gateway_enforcement(bench, gw, res, samples):
    """From the answer to POST /oauth2/revoke until the gateway refuses the token: a new
    token per sample, accepted first (200), then polled every 10 ms on new connections
    until 10 answers in a row are 401 (timed to the first of them)."""
    out, lost = [], 0
    for _ in range(samples):
        tok = bench.issue()
        if poll(lambda: gateway_status(gw, tok) == 200, 5, streak=5) is None:
            raise AssertionError('the gateway does not accept a fresh token: %r'
                                 % gw.get(BASE_PATH + '/1', tok))
        bench.revoke(tok)
        t = poll(lambda: gateway_status(gw, tok) == 401, 10, step=0.01, streak=10)
        if t is None:
            lost += 1
        else:
            out.append(t)
    res['enforce_ms'] = [ms(x) for x in out]
    res['enforce'] = summary(out) if out else None
    res['enforce_not_within_10s'] = lost


def gateway_latencies(gw, tok, seconds, threads=2):
    """Latencies of requests with `tok` for `seconds`, from `threads` threads with a
    keep-alive connection each; (latencies, failures)."""
    lat, bad = [], [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def load():
        conn = http.client.HTTPConnection('127.0.0.1', gw.port, timeout=10)
        mine, failed = [], 0
        while time.monotonic() < deadline:
            t1 = time.monotonic()
            try:
                ok = gateway_status(gw, tok, conn) == 200
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection('127.0.0.1', gw.port, timeout=10)
            if ok:
                mine.append(time.monotonic() - t1)
            else:
                failed += 1
        conn.close()
        with lock:
            lat.extend(mine)
            bad[0] += failed
    ths = [threading.Thread(target=load) for _ in range(threads)]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    return lat, bad[0]


def measure_gateway_latency(bench, gw, res, seconds):
    """Request latency at the gateway with a valid token (cached after its first use),
    steady and while one admin change per second makes jwtgated replace the snapshot."""
    tok = bench.issue()
    if poll(lambda: gateway_status(gw, tok) == 200, 5, streak=5) is None:
        raise AssertionError('the gateway does not accept a fresh token')
    bench.wait_published()
    steady, bad0 = gateway_latencies(gw, tok, seconds)
    v0 = bench.srv.versions()
    with Churn(bench, rate=1) as churn:
        during, bad1 = gateway_latencies(gw, tok, seconds)
    v1 = bench.srv.versions()
    res['gateway_steady'] = dict(summary(steady), failed=bad0)
    res['gateway_churn'] = dict(summary(during), failed=bad1, changes=churn.count,
                                snapshots=(v1[1] - v0[1]) if v0 and v1 else None)
    res['gateway_ratio'] = res['gateway_churn']['p99_ms'] / res['gateway_steady']['p99_ms']
    # each swap's notice: "checksum verified in N steps, the longest M us; keys and routes
    # prepared in F us" (F: the one turn that makes the routing table)
    steps = [(int(n), int(us), int(f)) for n, us, f in re.findall(
        r'verified in (\d+) steps, the longest (\d+) us; keys \w+ and routes prepared in '
        r'turns of at most (\d+) us',
        gw.logs())]
    res['gateway_reloads'] = len(steps)
    res['gateway_longest_step_us'] = max((us for _, us, _ in steps), default=None)
    res['gateway_steps_per_reload'] = max((n for n, _, _ in steps), default=None)
    res['gateway_finish_us'] = max((f for _, _, f in steps), default=None)


# ---- output ------------------------------------------------------------------------------

def verdict(ok):
    return '-' if ok is None else 'met' if ok else 'missed'


def three(s):
    return '%.1f / %.1f / %.1f ms (n=%d)' % (s['p50_ms'], s['p99_ms'], s['max_ms'], s['n'])


SKIPPED = 'not measured (--skip-gateway)'


def targets(res):
    """(target, figure, met) of each target of the issue; met is None when not measured."""
    out = [
        ('a revocation acknowledged ≤ 20 ms p99', '%.1f ms p99' % res['revoke']['p99_ms'],
         res['revoke']['p99_ms'] <= 20),
        ('a change acknowledged ≤ 20 ms p99', '%.1f ms p99' % res['admin']['p99_ms'],
         res['admin']['p99_ms'] <= 20)]
    if res.get('enforce') is not None or res.get('enforce_not_within_10s'):
        e = res.get('enforce')
        lost = res['enforce_not_within_10s']
        out.append(('enforced by a gateway on the same host ≤ 1 s p99',
                    ('%.0f ms p99' % e['p99_ms'] if e else 'none') +
                    (', %d not within 10 s' % lost if lost else ''),
                    bool(e) and not lost and e['p99_ms'] <= 1000))
    else:
        out.append(('enforced by a gateway on the same host ≤ 1 s p99', SKIPPED, None))
    out.append(('issuance p99 during 50 changes/s ≤ 2× without changes',
                '%.1f vs %.1f ms: %.2f×' % (res['issue_50ps_p99_ms'], res['issue_alone_p99_ms'],
                                            res['issue_50ps_ratio']),
                res['issue_50ps_ratio'] <= 2))
    rss = (res['rss_mib'], res['rss_after_100_mib'], res['rss_after_changes_mib'])
    growth = rss[2] - rss[1]
    peak = res['rss_peak_mib']
    out.append(('jwtgated RSS ≤ 300 MB (peak) and flat over %d changes (at rest: ≤ 5%% growth '
                'after the first 100)' % res['rss_changes'],
                '%.0f / %.0f / %.0f MB at rest (start / 100 / all; %+.1f MB after 100), '
                'peak %.0f MB' % (tuple(x * 1.048576 for x in rss) + (growth * 1.048576,
                                                                      peak * 1.048576)),
                peak * 1.048576 <= 300 and growth <= 0.05 * rss[1]))
    out.append(('start-up ≤ 2 s', '%.1f s' % res['startup_s'], res['startup_s'] <= 2))
    if res.get('gateway_longest_step_us') is not None:
        out.append(('a reload never blocks a gateway worker\'s event loop > 1 ms',
                    'longest checksum step %d us over %d reloads (%d steps each); keys and '
                    'routes prepared in turns of at most %d us (CPU time)'
                    % (res['gateway_longest_step_us'], res['gateway_reloads'],
                       res['gateway_steps_per_reload'], res['gateway_finish_us']),
                    max(res['gateway_longest_step_us'], res['gateway_finish_us']) <= 1000))
    if 'gateway_ratio' in res:
        churn, steady = res['gateway_churn'], res['gateway_steady']
        out.append(('gateway p99 while the snapshot is replaced every second ≤ 1.5× steady',
                    '%.2f vs %.2f ms: %.2f×'
                    % (churn['p99_ms'], steady['p99_ms'], res['gateway_ratio']),
                    res['gateway_ratio'] <= 1.5 and not churn['failed']))
    else:
        out.append(('gateway p99 while the snapshot is replaced every second ≤ 1.5× steady',
                    SKIPPED, None))
    if 'gateway_memory' in res:
        m = res['gateway_memory']
        shared = m['workers_snapshot_pss_mib'] <= 1.1 * m['worker_snapshot_rss_mib']
        out.append(('gateway memory for the snapshot shared by the workers and ≤ 64 MB',
                    'snapshot mapping PSS %.1f MiB over %d workers (%.1f MiB each mapped); '
                    'all of the workers\' PSS %.1f MiB'
                    % (m['workers_snapshot_pss_mib'],
                       sum(1 for r in m['processes'] if r['role'] == 'worker'),
                       m['worker_snapshot_rss_mib'], m['workers_pss_mib']),
                    shared and m['workers_pss_mib'] * 1.048576 <= 64))
    else:
        out.append(('gateway memory for the snapshot shared by the workers and ≤ 64 MB',
                    SKIPPED, None))
    c = res['coalesce']
    if c['snapshot_writes'] is not None:
        bound = c['seconds'] / (res['publish_delay_ms'] / 1000.0) + 1
        out.append(('coalescing: one client revoking in a loop writes ≤ 1 snapshot per '
                    '--publish-delay (%d ms)' % res['publish_delay_ms'],
                    '%d revocations, %d writes in %.1f s: %.1f per write'
                    % (c['revocations'], c['snapshot_writes'], c['seconds'],
                       c['revocations_per_write'] or 0),
                    c['snapshot_writes'] <= bound))
    if res.get('revoked_in_snapshot') is not None:
        out.append(('the snapshot holds the live revocations, no more',
                    '%d revoked in the snapshot, %d live; %.1f MB (%.1f MB at the start)'
                    % (res['revoked_in_snapshot'], res['revoked_live'], res['snapshot_end_mb'],
                       res['snapshot_mb']),
                    res['revoked_in_snapshot'] == res['revoked_live']))
    return out


def report(res, n):
    print('jwtgated with %(apis)d APIs, %(apps)d apps, %(subs)d subscriptions, '
          '%(revoked)d revoked jti' % n)
    print('load average at the start: %s' % res['loadavg_start'])
    print()
    print('| what | measured |')
    print('| --- | --- |')
    print('| start-up until ready | %.1f s |' % res['startup_s'])
    print('| resident memory after start / at the end | %.0f / %.0f MiB |'
          % (res['rss_mib'], res['rss_end_mib']))
    print('| resident memory at rest after start / 100 changes / %d changes; peak | '
          '%.0f / %.0f / %.0f MiB; %.0f MiB |'
          % (res['rss_changes'], res['rss_mib'], res['rss_after_100_mib'],
             res['rss_after_changes_mib'], res['rss_peak_mib']))
    print('| snapshot size at the start / the end | %.1f / %.1f MB (%s) |'
          % (res['snapshot_mb'], res['snapshot_end_mb'], res['snapshot_form']))
    if res.get('snapshot_write_s') is not None:
        print('| the last snapshot write | %.2f s |' % res['snapshot_write_s'])
    print('| `POST /oauth2/revoke` answered, p50 / p99 / max | %s |' % three(res['revoke']))
    print('| an admin change answered, p50 / p99 / max | %s |' % three(res['admin']))
    print('| token issuance alone, p50 / p99 | %.1f / %.1f ms |'
          % (res['issue_alone_p50_ms'], res['issue_alone_p99_ms']))
    print('| token issuance during admin changes, p50 / p99 | %.1f / %.1f ms (%d changes) |'
          % (res['issue_during_p50_ms'], res['issue_during_p99_ms'], res['changes_during']))
    print('| token issuance during 50 changes/s, p50 / p99 | %.1f / %.1f ms (%d changes in '
          '%.1f s) |' % (res['issue_50ps_p50_ms'], res['issue_50ps_p99_ms'],
                         res['changes_50ps'], res['changes_50ps_seconds']))
    if 'gateway_memory' in res:
        print('| gateway | nginx, 2 workers, snapshot checked every 250 ms (the default), '
              'token cache on |')
        m = res['gateway_memory']
        for r in m['processes']:
            print('| gateway %s %d: RSS / PSS / private; snapshot mapping RSS / PSS '
                  '| %.1f / %.1f / %.1f MiB; %.1f / %.1f MiB |'
                  % (r['role'], r['pid'], r['rss_mib'], r['pss_mib'], r['private_mib'],
                     r['snapshot_rss_mib'], r['snapshot_pss_mib']))
        print('| snapshot file at the gateway | %.1f MB |' % m['snapshot_file_mb'])
    if 'enforce' in res:
        lost = res['enforce_not_within_10s']
        print('| a revocation enforced by the gateway, p50 / p99 / max | %s%s |'
              % (three(res['enforce']) if res['enforce'] else 'none',
                 ', %d not within 10 s' % lost if lost else ''))
    for key, what in (('gateway_steady', 'steady'),
                      ('gateway_churn', 'while the snapshot is replaced every second')):
        if key in res:
            g = res[key]
            extra = ', %d changes, %s snapshots' % (g['changes'], g['snapshots']) \
                if 'changes' in g else ''
            print('| gateway requests %s, p50 / p99 / max | %s, %d failed%s |'
                  % (what, three(g), g['failed'], extra))
    c = res['coalesce']
    print('| one client revoking in a loop: revocations / snapshot writes | %d / %s in %.1f s '
          '(%s per write) |' % (c['revocations'], c['snapshot_writes'], c['seconds'],
                                '%.1f' % c['revocations_per_write']
                                if c['revocations_per_write'] else '-'))
    if res.get('revoked_in_snapshot') is not None:
        print('| revoked jti in the published snapshot / live in the database | %d / %d |'
              % (res['revoked_in_snapshot'], res['revoked_live']))
    print()
    print('targets')
    print()
    print('| target | measured | |')
    print('| --- | --- | --- |')
    res['targets'] = []
    for what, figure, ok in targets(res):
        print('| %s | %s | %s |' % (what, figure, verdict(ok)))
        res['targets'].append({'target': what, 'measured': figure,
                               'met': None if ok is None else bool(ok)})
    print()
    print('load average at the end: %s' % res['loadavg_end'])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--build', default=os.path.join(ROOT, 'build', 'release'))
    ap.add_argument('--scale', type=float, default=1.0)
    ap.add_argument('--samples', type=int, default=200,
                    help='revocations and admin changes timed (each)')
    ap.add_argument('--issue', type=int, default=500, help='token requests per latency run')
    ap.add_argument('--changes', type=int, default=1000,
                    help='admin changes over which jwtgated\'s RSS is followed')
    ap.add_argument('--gateway-samples', type=int, default=20,
                    help='revocations timed until the gateway refuses the token')
    ap.add_argument('--gateway-seconds', type=float, default=10.0,
                    help='seconds of gateway requests, steady and while changes run')
    ap.add_argument('--coalesce-seconds', type=float, default=5.0,
                    help='seconds of one client revoking its tokens back to back')
    ap.add_argument('--skip-gateway', action='store_true', help='no nginx measurements')
    ap.add_argument('--json')
    ap.add_argument('--no-build', action='store_true',
                    help='use the binaries in --build as they are (e.g. another checkout)')
    args = ap.parse_args()
    res = {'scale': args.scale, 'loadavg_start': loadavg()}
    if not args.no_build:
        subprocess.run([os.path.join(ROOT, 'scripts', 'bootstrap')], check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run(['cmake', '-S', ROOT, '-B', args.build,
                        '-DCMAKE_BUILD_TYPE=RelWithDebInfo'], check=True, stdout=subprocess.DEVNULL)
        build = ['jwtgated', 'jwtgate_cli']
        if not args.skip_gateway:
            build.append('ngx_http_jwtgate_module')
        subprocess.run(['cmake', '--build', args.build, '-j', '2', '--target'] + build,
                       check=True, stdout=subprocess.DEVNULL)
    os.environ['JWTGATED'] = os.path.join(args.build, 'server', 'jwtgated')
    os.environ.setdefault('JWTGATE', os.path.join(args.build, 'jwtgate'))
    os.environ.setdefault('JWTGATE_CLI', os.path.join(args.build, 'jwtgate'))
    os.environ.setdefault('JG_NGX_MODULE', os.path.join(args.build, 'nginx',
                                                        'ngx_http_jwtgate_module.so'))
    sys.path.insert(0, os.path.join(ROOT, 'tests', 'lib'))
    import jgtest  # noqa: E402
    if not args.skip_gateway:
        jgtest.nginx.require_module()

    n = {k: int(v * args.scale) for k, v in
         (('apis', 10000), ('apps', 10000), ('subs', 100000), ('revoked', 100000))}
    res.update(n)
    res['publish_delay_ms'] = 100  # jwtgated's default --publish-delay
    # a change may take longer than the default deadlines at this scale (that is what is measured)
    srv = jgtest.Server('--threads', '2', '--timeout', '3600', '--request-timeout', '3600',
                        access_log=False)
    gw = None
    try:
        _, t = srv.admin('POST', '/tenants', {'name': 'scale'}, expect=201)
        _, api = srv.admin('POST', '/tenants/%s/apis' % t['id'], {
            'name': 'orders', 'version': 'v1', 'base_path': BASE_PATH,
            'upstream': 'http://127.0.0.1:9', 'audience': AUDIENCE,
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

        bench = Bench(jgtest, srv, t, api, app)
        measure_rss_over_changes(bench, res, args.changes)
        measure_revoke(bench, res, args.samples)
        measure_admin(bench, res, args.samples)
        measure_issuance(bench, res, args.issue)
        if not args.skip_gateway:
            bench.wait_published()
            gw = start_gateway(jgtest, srv)
            measure_gateway_enforcement(bench, gw, res, args.gateway_samples)
            time.sleep(1.5)   # every worker has loaded the last snapshot (250 ms checks)
            measure_gateway_memory(gw, res, snap_path)
            measure_gateway_latency(bench, gw, res, args.gateway_seconds)
        measure_coalescing(bench, res, args.coalesce_seconds)
        measure_snapshot_entries(bench, res, snap_path)
        res['rss_end_mib'] = rss_mib(srv.proc.pid)
        res['snapshot_write_s'] = bench.metric('jwtgated_snapshot_write_seconds')
    finally:
        try:
            if gw is not None:
                gw.stop()
                problems = gw.crashes() + gw.alerts()
                if problems:
                    print('note: nginx: %s' % '; '.join(problems[:5]), file=sys.stderr)
        finally:
            try:
                srv.close()
            except RuntimeError as e:  # a slow stop is reported, the figures are still shown
                print('note: %s' % str(e).splitlines()[0], file=sys.stderr)
    res['loadavg_end'] = loadavg()
    report(res, n)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(res, f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
