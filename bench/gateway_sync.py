#!/usr/bin/env python3
"""What a remote gateway's snapshot costs at the scale of bench/scale.py (issue 15's data set:
10,000 APIs, 10,000 apps, 100,000 subscriptions, 100,000 revoked jti; a 16 MB compiled
snapshot): GET /gateway/v1/snapshot's body size and the time of its first request (sign +
encrypt, jwtgated_gateway_encrypt_seconds) and of a cached one, the agent's first sync
(`jwtgate gateway sync --once`: download, decrypt, verify, check, write), DEFLATE of the
JWS (what "zip":"DEF" would save and cost), and the long poll's wake-up after an admin
change (from the change's answer to the 200; the publisher's build of the 16 MB snapshot
is part of it).

  bench/gateway_sync.py [--build DIR] [--scale F] [--polls N]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'bench'))
import scale  # noqa: E402  (populate)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--build', default=os.path.join(ROOT, 'build', 'release'))
    ap.add_argument('--scale', type=float, default=1.0)
    ap.add_argument('--polls', type=int, default=5, help='long polls woken by a change')
    args = ap.parse_args()
    os.environ['JWTGATED'] = os.path.join(args.build, 'server', 'jwtgated')
    os.environ['JWTGATE_CLI'] = os.path.join(args.build, 'jwtgate')
    sys.path.insert(0, os.path.join(ROOT, 'tests', 'lib'))
    import jgtest  # noqa: E402
    n = {k: int(v * args.scale) for k, v in
         (('apis', 10000), ('apps', 10000), ('subs', 100000), ('revoked', 100000))}
    srv = jgtest.Server('--threads', '2', '--timeout', '3600', '--request-timeout', '3600',
                        access_log=False)
    res = {}
    try:
        _, t = srv.admin('POST', '/tenants', {'name': 'scale'}, expect=201)
        _, api = srv.admin('POST', '/tenants/%s/apis' % t['id'], {
            'name': 'orders', 'version': 'v1', 'base_path': '/orders',
            'upstream': 'http://127.0.0.1:9', 'audience': 'https://api.example.com/orders',
            'scopes': ['orders:read'], 'policy': 'automatic'}, expect=201)
        srv.stop()
        scale.populate(os.path.join(srv.data, 'jwtgated.db'), t['id'], n['apis'], n['apps'],
                       n['subs'], n['revoked'])
        srv.start()
        jgtest.wait_until(lambda: srv.request('GET', '/readyz').status == 200, 600,
                          step=0.05, what='ready')
        res['snapshot_mb'] = os.path.getsize(srv.snapshot_path) / 1e6
        cred = os.path.join(srv.tmp, 'edge.json')
        env = dict(jgtest.config.child_env(), JWTGATE_ADMIN_URL=srv.issuer,
                   JWTGATE_ADMIN_TOKEN=srv.admin_token)
        subprocess.run([jgtest.config.JWTGATE_CLI, 'admin', 'gateway', 'create', 'edge',
                        '--out', cred], env=env, check=True, capture_output=True)
        with open(cred) as f:
            credential = json.load(f)['credential']
        h = {'Authorization': 'Bearer ' + credential}

        def metric(name):
            text = srv.request('GET', '/metrics').body.decode()
            return float(re.search(r'^%s (\S+)$' % re.escape(name), text, re.M).group(1))

        # wait for the snapshot that holds the registration
        def settled():
            r = srv.request('GET', '/gateway/v1/snapshot', headers=h, timeout=600)
            return r if r.header('ETag').endswith('-%d"' % srv.versions()[0]) else None
        t0 = time.monotonic()
        r = jgtest.wait_until(settled, 120, step=0.05, what='settled')
        res['first_request_s'] = time.monotonic() - t0
        res['encrypt_s'] = metric('jwtgated_gateway_encrypt_seconds')
        res['body_mb'] = len(r.body) / 1e6
        cached = []
        for _ in range(5):
            t0 = time.monotonic()
            srv.request('GET', '/gateway/v1/snapshot', headers=h, timeout=600)
            cached.append(time.monotonic() - t0)
        res['cached_request_s'] = statistics.median(cached)
        res['encryptions_after_cached'] = metric('jwtgated_gateway_encryptions_total')
        # a second gateway of the same version: its encryption only (the JWS is made)
        cred2 = os.path.join(srv.tmp, 'edge2.json')
        subprocess.run([jgtest.config.JWTGATE_CLI, 'admin', 'gateway', 'create', 'edge2',
                        '--out', cred2], env=env, check=True, capture_output=True)
        with open(cred2) as f:
            h2 = {'Authorization': 'Bearer ' + json.load(f)['credential']}
        r = jgtest.wait_until(settled, 120, step=0.05, what='settled')  # signs the new version
        res['sign_and_encrypt_s'] = metric('jwtgated_gateway_encrypt_seconds')
        t0 = time.monotonic()
        r2 = srv.request('GET', '/gateway/v1/snapshot', headers=h2, timeout=600)
        res['second_gateway_request_s'] = time.monotonic() - t0
        assert r2.header('ETag') == r.header('ETag'), 'a change in between'
        res['encrypt_only_s'] = metric('jwtgated_gateway_encrypt_seconds')
        # DEFLATE of the JWS (the JWE plaintext): what zip would buy
        jws_len = len(r.body) * 3 // 4  # about: the JWE's ciphertext is the JWS, base64url
        with open(srv.snapshot_path, 'rb') as f:
            raw = f.read()
        import base64
        b64 = base64.urlsafe_b64encode(raw).rstrip(b'=')
        t0 = time.process_time()
        z = zlib.compress(b64, 6)
        res['deflate_s'] = time.process_time() - t0
        res['jws_mb'] = jws_len / 1e6
        res['deflated_mb'] = len(z) / 1e6
        res['deflated_body_mb'] = len(z) * 4 / 3 / 1e6
        # the agent from nothing
        out = os.path.join(srv.tmp, 'remote.jgs')
        t0 = time.monotonic()
        p = subprocess.run([jgtest.config.JWTGATE_CLI, 'gateway', 'sync', '--url', srv.issuer,
                            '--credential', cred, '--out', out, '--once'],
                           capture_output=True, text=True)
        res['agent_once_s'] = time.monotonic() - t0
        assert p.returncode == 0, p.stderr
        # long-poll wake-ups
        wakes = []
        for i in range(args.polls):
            etag = settled().header('ETag')
            got = {}

            def poll():
                got['r'] = srv.request('GET', '/gateway/v1/snapshot?wait=60',
                                       headers=dict(h, **{'If-None-Match': etag}), timeout=600)
                got['t'] = time.monotonic()
            th = threading.Thread(target=poll)
            th.start()
            jgtest.wait_until(lambda: metric('jwtgated_gateway_waiting') >= 1, 30, step=0.01,
                              what='waiting')
            srv.admin('PATCH', '/tenants/%s/apis/%s' % (t['id'], api['id']),
                      {'upstream': 'http://127.0.0.1:%d' % (2000 + i)}, expect=200)
            answered = time.monotonic()
            th.join(120)
            assert got['r'].status == 200, got['r']
            wakes.append(got['t'] - answered)
        res['wake_s'] = sorted(wakes)
    finally:
        srv.close()
    for k, v in res.items():
        print('%-26s %s' % (k, ['%.3f' % x for x in v] if isinstance(v, list) else
                            ('%.3f' % v if isinstance(v, float) else v)))


if __name__ == '__main__':
    main()
