#!/usr/bin/python3
"""jwtgate against itself: the library as of several commits, each built with
today's bench_jwtgate.c, timed in interleaved rounds. For measuring an
optimisation before and after (docs/BENCHMARKS.md keeps the figures).

Usage: bench/compare.py [--ops op1,op2,...] [--rounds N] COMMIT [COMMIT...]

Builds go to a temporary directory (git archive of each commit, -O2); the
working tree is not touched. Prints a Markdown table of microseconds per
operation (per commit: the lowest over the rounds of the median of each cell,
as bench/run.py), and the last column relative to the first.
"""
import os
import shutil
import subprocess
import sys
import tempfile

DEFAULT_OPS = ["hs256_sign", "hs256_verify", "dir_a256gcm_decrypt", "rs256_verify",
               "es256_sign", "es256_verify", "ecdh_p256_encrypt", "nested_open",
               "jwk_parse_ec", "jwk_parse_rsa"]


def build(repo, commit, root):
    """bench_jwtgate for `commit`, built under root; returns its path."""
    src = os.path.join(root, commit)
    os.makedirs(src)
    archive = subprocess.run(["git", "-C", repo, "archive", commit], stdout=subprocess.PIPE,
                             check=True).stdout
    subprocess.run(["tar", "-x", "-C", src], input=archive, check=True)
    shutil.rmtree(os.path.join(src, "bench"), ignore_errors=True)
    shutil.copytree(os.path.join(repo, "bench"), os.path.join(src, "bench"))
    out = os.path.join(src, "build")
    subprocess.run(["cmake", "-S", src, "-B", out, "-DJG_BUILD_BENCH=ON", "-DJG_BUILD_TESTS=OFF",
                    "-DCMAKE_BUILD_TYPE=Release", "-DCMAKE_C_FLAGS_RELEASE=-O2 -DNDEBUG"],
                   stdout=subprocess.DEVNULL, check=True)
    subprocess.run(["cmake", "--build", out, "-j", str(os.cpu_count() or 2), "--target",
                    "bench_jwtgate"], stdout=subprocess.DEVNULL, check=True)
    return os.path.join(out, "bench", "bench_jwtgate")


def run(binary, keydir, op):
    env = dict(os.environ, BENCH_ONLY=op)
    out = subprocess.run([binary, keydir], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         env=env, text=True, check=False).stdout
    for line in out.splitlines():
        parts = line.split(" ")
        if len(parts) >= 3 and parts[1] == op:
            return float(parts[2]) / 1000.0 if parts[0] == "OK" else None
    return None


def main():
    args = sys.argv[1:]
    ops, rounds = DEFAULT_OPS, 3
    while args and args[0].startswith("--"):
        flag = args.pop(0)
        if flag == "--ops":
            ops = args.pop(0).split(",")
        elif flag == "--rounds":
            rounds = int(args.pop(0))
        else:
            sys.exit(__doc__)
    if not args:
        sys.exit(__doc__)
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    root = tempfile.mkdtemp(prefix="jwtgate-compare-")
    try:
        binaries = []
        for c in args:
            print("building %s ..." % c, file=sys.stderr, flush=True)
            binaries.append(build(repo, c, root))
        keydir = os.path.join(root, "keys")
        os.makedirs(keydir)
        subprocess.run([binaries[-1], "--keys", keydir], check=True)
        results = {op: [[] for _ in args] for op in ops}
        for r in range(rounds):
            print("round %d/%d ..." % (r + 1, rounds), file=sys.stderr, flush=True)
            for op in ops:
                # Rotate the order so that no commit always runs first.
                order = list(range(len(args)))
                order = order[r % len(order):] + order[:r % len(order)]
                for i in order:
                    results[op][i].append(run(binaries[i], keydir, op))
        print("| operation | " + " | ".join(args) + " | last / first |")
        print("|---" * (len(args) + 2) + "|")
        for op in ops:
            cells = []
            for vals in results[op]:
                ok = sorted(v for v in vals if v is not None)
                cells.append(ok[0] if len(ok) == len(vals) and ok else None)
            text = ["%.2f" % v if v is not None and v < 10 else "%.1f" % v if v is not None
                    else "FAIL" for v in cells]
            ratio = "%.2f" % (cells[-1] / cells[0]) if cells[0] and cells[-1] else "n/a"
            print("| %s | %s | %s |" % (op, " | ".join(text), ratio))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
