#!/usr/bin/env python3
"""The tables and target verdicts of scripts/bench-gateway, from its results.txt.

    report.py HITS LOGGED ROUNDS   (in the working directory of the run)

results.txt has one line per run: NAME REQUESTS_PER_S US_PER_REQUEST (the
library timings as lib_hs256, lib_hit, lib_nested, lib_dpop_cached, lib_dpop,
lib_es256 with 0 requests/s).
Medians over the rounds; the overheads are taken round by round (a round
runs every scenario and the library timings back to back) and their median
reported.
"""
import statistics
import sys
hits, logged, nrounds = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rows = {}
for line in open('results.txt'):
    name, rps, us = line.split()
    rows.setdefault(name, []).append((float(rps), float(us)))
med = {n: (statistics.median(r for r, _ in v), statistics.median(u for _, u in v))
       for n, v in rows.items()}
best = {n: min(u for _, u in v) for n, v in rows.items()}
print()
print('| scenario | requests/s (median of %d) | x its ceiling | gateway CPU us/request '
      '(median) | (best) | x its ceiling (median) |' % nrounds)
print('| --- | ---: | ---: | ---: | ---: | ---: |')
names = {'plain': 'plain proxying, no token',
         'plain_hs': 'plain proxying, HS256 token header (ceiling for njs, HS256)',
         'plain_nested': 'plain proxying, nested token header (ceiling for warm, cold)',
         'njs': 'njs HS256 + auth_request', 'hs256': 'module, HS256 JWS',
         'warm': 'module, nested, warm cache', 'cold': 'module, nested, all new (cache misses)',
         'plain_dpop': 'plain proxying, DPoP token and proof headers (ceiling for dpop)',
         'dpop': 'module, nested DPoP-bound, warm cache, a fresh proof per request',
         'plain_es': 'plain proxying, ES256 token header (ceiling for ES256)',
         'es256': 'module, ES256 JWS, verified every time (no cache)',
         'hs256_m': 'module, HS256 JWS, jwtgate_metrics counting',
         'warm_m': 'module, nested, warm cache, jwtgate_metrics counting'}
ceiling = {'plain': 'plain', 'plain_hs': 'plain', 'plain_nested': 'plain', 'njs': 'plain_hs',
           'hs256': 'plain_hs', 'warm': 'plain_nested', 'cold': 'plain_nested',
           'plain_dpop': 'plain', 'dpop': 'plain_dpop', 'plain_es': 'plain', 'es256': 'plain_es',
           'hs256_m': 'plain_hs', 'warm_m': 'plain_nested'}
for n in ('plain', 'plain_hs', 'plain_nested', 'njs', 'hs256', 'hs256_m', 'plain_es', 'es256',
          'warm', 'warm_m', 'cold', 'plain_dpop', 'dpop'):
    if n not in med:
        continue
    rps, us = med[n]
    if ceiling[n] not in med:
        # its ceiling not run (ONLY=)
        print('| %s | %s | - | %.1f | %.1f | - |' % (
            names[n], format(round(rps), ','), us, best[n]))
        continue
    c_rps, c_us = med[ceiling[n]]
    print('| %s | %s | %.2f | %.1f | %.1f | %.2f |' % (
        names[n], format(round(rps), ','), rps / c_rps, us, best[n], c_us / us))
lib = {k: statistics.median(u for _, u in rows['lib_' + k]) for k in ('hs256', 'hit', 'nested')}
print()
print('library calls (gen_tokens --time on the gateway CPU, median of %d): HS256 open %.2f us, '
      'cache-hit claims parse %.2f us, nested open %.1f us' % (
          nrounds, lib['hs256'], lib['hit'], lib['nested']))


def per_round(scenario, plain, libkey):
    """gateway - plain - library, round by round (the rounds interleave)"""
    return [s[1] - p[1] - l[1]
            for s, p, l in zip(rows[scenario], rows[plain], rows['lib_' + libkey])]


def verdict(ok):
    return 'met' if ok else 'MISSED'


def fmt(values, f='%.1f'):
    return ' '.join(f % x for x in values)


for label, scenario, plain, key in (
        ('HS256 (gateway - plain with the HS256 header - HS256 open)', 'hs256', 'plain_hs',
         'hs256'),
        ('warm hit (gateway - plain with the nested header - claims parse)', 'warm',
         'plain_nested', 'hit')):
    if scenario not in rows or plain not in rows:
        continue  # not run (ONLY=)
    over = per_round(scenario, plain, key)
    m = statistics.median(over)
    print('module overhead, %s: median %.2f us (rounds: %s); target <= 1 us: %s' % (
        label, m, fmt(over), verdict(m <= 1.0)))
for off, on in (('hs256', 'hs256_m'), ('warm', 'warm_m')):
    if off not in rows or on not in rows:
        continue
    # round by round: the two ran back to back on the same CPU
    ratio = [m[1] / o[1] for o, m in zip(rows[off], rows[on])]
    diff = [m[1] - o[1] for o, m in zip(rows[off], rows[on])]
    rps = [m[0] / o[0] for o, m in zip(rows[off], rows[on])]
    print('metrics on / off, %s: gateway CPU per request %.3fx (rounds: %s), %+.2f us '
          '(rounds: %s); requests/s %.3fx (rounds: %s)' % (
              off, statistics.median(ratio), fmt(ratio, '%.3f'), statistics.median(diff),
              fmt(diff, '%+.2f'), statistics.median(rps), fmt(rps, '%.3f')))
if 'cold' not in rows:
    pass  # not run (ONLY=)
elif logged == 0 or hits > logged // 100:
    print('cold scenario INVALID: %d cache hits in %d requests (COLD_TOKENS must exceed what '
          'the 1 MB cache holds, a few thousand)' % (hits, logged))
else:
    trio = list(zip(rows['cold'], rows['plain_nested'], rows['lib_nested']))
    ratios = [c[1] / (p[1] + l[1]) for c, p, l in trio]
    over = [c[1] - p[1] - l[1] for c, p, l in trio]
    r = statistics.median(ratios)
    print('cold: gateway / (plain with the nested header + nested open): median %.2fx '
          '(rounds: %s), %.1f us above their sum (rounds: %s); target <= 1.1x: %s' % (
              r, fmt(ratios, '%.2f'), statistics.median(over), fmt(over), verdict(r <= 1.1)))
if 'cold' in rows:
    print('cold scenario cache hits: %d of %d requests' % (hits, logged))
if 'dpop' in rows:
    lib_d = {k: statistics.median(u for _, u in rows['lib_' + k])
             for k in ('dpop_cached', 'dpop', 'es256')}
    print('library, DPoP (gen_proofs --time on the gateway CPU, median of %d): '
          'jg_dpop_verify_cached %.1f us, jg_dpop_verify %.1f us, bare ES256 jg_jws_verify '
          '%.1f us: cached proof / bare verify %.2fx; target <= 1.1x: %s' % (
              nrounds, lib_d['dpop_cached'], lib_d['dpop'], lib_d['es256'],
              lib_d['dpop_cached'] / lib_d['es256'],
              verdict(lib_d['dpop_cached'] <= 1.1 * lib_d['es256'])))
    # the proof's share at the gateway: (dpop - its ceiling) - (warm - its ceiling),
    # round by round, against that round's bare ES256 verify
    share = [(d[1] - pd[1]) - (w[1] - pn[1]) for d, pd, w, pn in zip(
        rows['dpop'], rows['plain_dpop'], rows['warm'], rows['plain_nested'])]
    ratio = [x / e[1] for x, e in zip(share, rows['lib_es256'])]
    print('dpop at the gateway: %.1f us of CPU per request more than warm (median), %.2fx '
          'warm\'s requests/s; the proof check (dpop - plain_dpop) - (warm - plain_nested): '
          'median %.1f us (rounds: %s) = %.2fx the bare ES256 verify (rounds: %s); '
          'target <= 1.1x: %s' % (
              med['dpop'][1] - med['warm'][1], med['dpop'][0] / med['warm'][0],
              statistics.median(share), fmt(share), statistics.median(ratio),
              fmt(ratio, '%.2f'), verdict(statistics.median(ratio) <= 1.1)))
    # the same share against an ES256 verify in the same worker: the module opening a
    # signed ES256 token without its cache, less its ceiling (es256 - plain_es), round by
    # round: the verify as the gateway pays it, next to the proof's
    if 'es256' in rows:
        in_worker = [e[1] - p[1] for e, p in zip(rows['es256'], rows['plain_es'])]
        ratio_w = [x / e for x, e in zip(share, in_worker)]
        print('ES256 verify in the worker (es256 - plain_es): median %.1f us (rounds: %s); '
              'the proof check / that verify: %.2fx (rounds: %s); target <= 1.1x: %s' % (
                  statistics.median(in_worker), fmt(in_worker), statistics.median(ratio_w),
                  fmt(ratio_w, '%.2f'), verdict(statistics.median(ratio_w) <= 1.1)))
