#!/usr/bin/env python3
"""Where the gateway worker's time goes, from `perf script` output.

    perf script -F period,ip,sym,dso --no-inline -i perf.data | profile.py US [TOP [TARGET]]

Each sample's call chain is read from the outermost frame in: a sample is
"library" when it lies in one of the library calls the module makes for a
token (jg_access_token_open, jg_claims_parse, jg_claims_free: the cost the
issue's targets subtract), "module" when it lies in the module's own code
(an ngx_http_jwtgate_* frame, and everything it calls other than those:
libcrypto for the cache key, the pool, libc, the claim accessors), and
"rest" otherwise (nginx, the kernel, what plain proxying costs as well).
US is the gateway CPU per request of the scenario, measured without perf:
the shares are turned into microseconds per request with it. Prints one
line per class (the rest also by the object its samples fell in: the
kernel, nginx, libc), then the module's own time by its innermost function
of the module and what that function was doing (its callee, or "self"); with
TARGET (us), whether the module's own time is within it.
"""
import collections
import sys

LIBRARY_CALLS = ('jg_access_token_open', 'jg_claims_parse', 'jg_claims_free')


def samples(stream):
    period, frames = None, []
    for line in stream:
        line = line.rstrip('\n')
        if not line.strip():
            if period is not None:
                yield period, frames
            period, frames = None, []
        elif not line.startswith(('\t', ' ' * 8)) or period is None:
            try:
                period = int(line.split()[0])
            except (ValueError, IndexError):
                period = 1
            frames = []
        else:
            parts = line.split(None, 1)
            rest = parts[1] if len(parts) > 1 else ''
            sym, _, dso = rest.rpartition(' (')
            frames.append((sym.split('+')[0], dso.rstrip(')')))
    if period is not None:
        yield period, frames


def classify(frames):
    """(class, innermost module function, what it was doing)"""
    outer = list(reversed(frames))          # outermost first
    module_fn = None
    for i, (sym, dso) in enumerate(outer):
        if sym.startswith('ngx_http_jwtgate_'):
            module_fn = sym
            continue
        if module_fn is None:
            continue
        if sym in LIBRARY_CALLS:
            return 'library', sym, ''
        # the first frame below the module's own: what it calls
        return 'module', module_fn, sym or dso.rsplit('/', 1)[-1]
    if module_fn is not None:
        return 'module', module_fn, 'self'
    return 'rest', None, None


def main():
    us = float(sys.argv[1])
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 12
    target = float(sys.argv[3]) if len(sys.argv) > 3 else None
    total = 0
    by_class = collections.Counter()
    by_fn = collections.Counter()
    rest_by_dso = collections.Counter()
    for period, frames in samples(sys.stdin):
        total += period
        cls, fn, what = classify(frames)
        by_class[cls] += period
        if cls == 'module':
            by_fn[(fn, what)] += period
        elif cls == 'rest':
            dso = frames[0][1].rsplit('/', 1)[-1] if frames else '?'
            rest_by_dso[dso] += period
    if total == 0:
        print('   (no samples)')
        return
    for cls in ('module', 'library', 'rest'):
        share = by_class[cls] / total
        print('   %-8s %5.1f %%  %6.2f us/request' % (cls, 100 * share, share * us))
    parts = ['%s %.2f us' % (d, n / total * us) for d, n in rest_by_dso.most_common(4)]
    print('   (the rest: %s)' % ', '.join(parts))
    for (fn, what), n in by_fn.most_common(top):
        share = n / total
        print('     %6.3f us  %-40s %s' % (share * us, fn, what))
    if target is not None:
        own = by_class['module'] / total * us
        print('   the module\'s own time, measured in the worker: %.2f us; target <= %g us: %s' % (
            own, target, 'met' if own <= target else 'MISSED'))


if __name__ == '__main__':
    main()
