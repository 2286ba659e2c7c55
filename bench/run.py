#!/usr/bin/python3
"""Run every benchmark program and print the comparison tables (Markdown).

Usage: bench/run.py BUILD_BENCH_DIR [--quick] [--no-hostile] [--no-speed]

BUILD_BENCH_DIR holds bench_jwtgate, bench_openssl and the peer programs
(bench_libjwt, bench_cjose, bench_jose; a missing one is reported as
absent). Each program runs in its own process and prints one line per cell
(see bench/bench.h); this script only collects, compares and prints.
"""
import os
import platform
import re
import subprocess
import sys
import tempfile

# (op, label) in table order.
OPS = [
    ("hs256_sign", "HS256 sign"),
    ("hs256_verify", "HS256 verify + claims"),
    ("rs256_sign", "RS256 sign"),
    ("rs256_verify", "RS256 verify + claims"),
    ("ps256_sign", "PS256 sign"),
    ("ps256_verify", "PS256 verify + claims"),
    ("es256_sign", "ES256 sign"),
    ("es256_verify", "ES256 verify + claims"),
    ("eddsa_sign", "EdDSA sign"),
    ("eddsa_verify", "EdDSA verify + claims"),
    ("dir_a256gcm_encrypt", "dir+A256GCM encrypt"),
    ("dir_a256gcm_decrypt", "dir+A256GCM decrypt"),
    ("a256kw_encrypt", "A256KW+A256GCM encrypt"),
    ("a256kw_decrypt", "A256KW+A256GCM decrypt"),
    ("ecdh_p256_encrypt", "ECDH-ES+A256KW P-256 encrypt"),
    ("ecdh_p256_decrypt", "ECDH-ES+A256KW P-256 decrypt"),
    ("ecdh_x25519_encrypt", "ECDH-ES+A256KW X25519 encrypt"),
    ("ecdh_x25519_decrypt", "ECDH-ES+A256KW X25519 decrypt"),
    ("rsa_oaep_encrypt", "RSA-OAEP-256+A256GCM encrypt"),
    ("rsa_oaep_decrypt", "RSA-OAEP-256+A256GCM decrypt"),
    ("nested_seal", "nested seal (ES256 in ECDH-ES+A256KW)"),
    ("nested_open", "nested open + claims"),
    ("jwk_parse_ec", "JWK parse, EC P-256 public"),
    ("jwk_parse_rsa", "JWK parse, RSA 2048 public"),
    ("nested_open_1t", "nested open, 1 thread (throughput)"),
    ("nested_open_2t", "nested open, 2 threads (throughput)"),
]
PEERS = [("libjwt", "libjwt 1.10"), ("cjose", "cjose 0.6"), ("jose", "jose 11")]
# Cells of a peer that do not do the same work, shown but never "fastest".
NOT_EQUIVALENT = {
    ("jose", "jwk_parse_ec"): "no key object: the JWK stays JSON",
    ("jose", "jwk_parse_rsa"): "no key object: the JWK stays JSON",
}
ASYMMETRIC = {"rs256", "ps256", "es256", "eddsa", "ecdh", "rsa", "nested"}


def run_program(path, args, env):
    """Cells of one program: {op: ("OK", ns, note) | ("NA"|"FAIL", None, why)}."""
    cells = {}
    if not os.path.exists(path):
        return None
    proc = subprocess.run([path] + args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          env=env, text=True, check=False)
    for line in proc.stdout.splitlines():
        parts = line.split(" ", 3)
        if len(parts) < 3:
            continue
        if parts[0] == "OK":
            cells[parts[1]] = ("OK", float(parts[2]), parts[3] if len(parts) > 3 else "")
        elif parts[0] in ("NA", "FAIL"):
            cells[parts[1]] = (parts[0], None, " ".join(parts[2:]))
    if proc.returncode != 0:
        cells["_exit"] = ("FAIL", None, "exited with status %d" % proc.returncode)
    return cells


def combine(runs, stat):
    """One program's rounds as one set of cells: the lowest (stat "min") or
    the median of the rounds' figures; a FAIL in any round is a FAIL."""
    if any(r is None for r in runs):
        return None
    cells = {}
    for op in runs[0]:
        seen = [r.get(op) for r in runs]
        fails = [c for c in seen if c is None or c[0] == "FAIL"]
        if fails:
            cells[op] = fails[0] if fails[0] else ("FAIL", None, "missing in a round")
        elif all(c[0] == "OK" for c in seen):
            vals = sorted(c[1] for c in seen)
            cells[op] = ("OK", vals[0] if stat == "min" else vals[len(vals) // 2], seen[0][2])
        else:
            cells[op] = seen[0]
    return cells


def openssl_speed():
    """`openssl speed` (CPU time, like our cells): {name: microseconds}."""
    out = subprocess.run(["openssl", "speed", "-seconds", "1", "rsa2048", "ecdsap256",
                          "ecdhp256", "ecdhx25519", "ed25519"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True, check=False).stdout
    res = {}
    m = re.search(r"^rsa 2048 bits\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)", out, re.M)
    if m:
        res["rsa_sign"], res["rsa_verify"] = 1e6 / float(m[1]), 1e6 / float(m[2])
    m = re.search(r"ecdsa \(nistp256\)\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)", out)
    if m:
        res["ecdsa_sign"], res["ecdsa_verify"] = 1e6 / float(m[1]), 1e6 / float(m[2])
    m = re.search(r"ecdh \(nistp256\)\s+\S+\s+([\d.]+)", out)
    if m:
        res["ecdh_p256"] = 1e6 / float(m[1])
    m = re.search(r"ecdh \(X25519\)\s+\S+\s+([\d.]+)", out)
    if m:
        res["ecdh_x25519"] = 1e6 / float(m[1])
    m = re.search(r"EdDSA \(Ed25519\)\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)", out)
    if m:
        res["ed25519_sign"], res["ed25519_verify"] = 1e6 / float(m[1]), 1e6 / float(m[2])
    return res


def floor_of(op, speed):
    """The `openssl speed` figure(s) that bound an operation from below (µs)."""
    parts = {
        "rs256_sign": ["rsa_sign"], "rs256_verify": ["rsa_verify"],
        "ps256_sign": ["rsa_sign"], "ps256_verify": ["rsa_verify"],
        "es256_sign": ["ecdsa_sign"], "es256_verify": ["ecdsa_verify"],
        "eddsa_sign": ["ed25519_sign"], "eddsa_verify": ["ed25519_verify"],
        "ecdh_p256_encrypt": ["ecdh_p256"], "ecdh_p256_decrypt": ["ecdh_p256"],
        "ecdh_x25519_encrypt": ["ecdh_x25519"], "ecdh_x25519_decrypt": ["ecdh_x25519"],
        "rsa_oaep_encrypt": ["rsa_verify"], "rsa_oaep_decrypt": ["rsa_sign"],
        "nested_seal": ["ecdsa_sign", "ecdh_p256"],
        "nested_open": ["ecdh_p256", "ecdsa_verify"],
    }.get(op)
    if not parts or any(p not in speed for p in parts):
        return None
    return sum(speed[p] for p in parts), " + ".join(parts)


def us(cell):
    return cell[1] / 1000.0 if cell and cell[0] == "OK" else None


def fmt_us(v):
    if v is None:
        return "n/a"
    return "%.2f" % v if v < 10 else "%.1f" % v if v < 1000 else "%.0f" % v


def fmt_ops(v):
    return "n/a" if v is None else "{:,.0f}".format(1e6 / v)


def cell_text(cell, fn):
    if cell is None:
        return "absent"
    if cell[0] == "OK":
        return fn(us(cell))
    return "n/a" if cell[0] == "NA" else "**FAIL**"


def machine():
    cpu, cores = "?", os.cpu_count()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    ossl = subprocess.run(["openssl", "version"], stdout=subprocess.PIPE, text=True,
                          check=False).stdout.strip()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return cpu, cores, ossl, load


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    flags = {a for a in sys.argv[1:] if a.startswith("--")}
    if len(args) != 1:
        sys.exit(__doc__)
    bdir = args[0]
    env = dict(os.environ)
    if "--quick" in flags:
        env.setdefault("BENCH_TIME", "0.04")
        env.setdefault("BENCH_RUNS", "3")

    cpu, cores, ossl, load_before = machine()
    keydir = tempfile.mkdtemp(prefix="jwtgate-bench-")
    if subprocess.run([os.path.join(bdir, "bench_jwtgate"), "--keys", keydir]).returncode:
        sys.exit("run.py: could not write the keys")

    # Rounds: every program runs once per round, in a rotating order, and a
    # cell's figure is the median over the rounds. On a shared machine the
    # load drifts over minutes; interleaving gives every library the same
    # share of good and bad moments.
    rounds = int(env.get("BENCH_ROUNDS", "1" if "--quick" in flags else "3"))
    names = ["openssl", "jwtgate"] + [p for p, _ in PEERS]
    per_round = {n: [] for n in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            print("round %d/%d: bench_%s ..." % (r + 1, rounds, name), file=sys.stderr,
                  flush=True)
            per_round[name].append(run_program(os.path.join(bdir, "bench_" + name), [keydir],
                                               env))
    # Each round's figure is already a median of BENCH_RUNS runs. Across
    # rounds the lowest is kept by default: other processes on a shared
    # machine can only slow a cell down, never speed it up, so the best
    # round is the one closest to the library's own cost. Every library is
    # treated alike. BENCH_ROUND_STAT=median keeps the median instead.
    stat = env.get("BENCH_ROUND_STAT", "min")
    results = {n: combine(per_round[n], stat) for n in names}
    speed = {} if "--no-speed" in flags else openssl_speed()
    hostile = None
    if "--no-hostile" not in flags:
        print("running bench_jwtgate --hostile ...", file=sys.stderr, flush=True)
        hostile = run_program(os.path.join(bdir, "bench_jwtgate"), ["--hostile"], env)
    for f in os.listdir(keydir):
        os.unlink(os.path.join(keydir, f))
    os.rmdir(keydir)

    jg, bare = results["jwtgate"], results["openssl"]
    failures = []
    for name, cells in results.items():
        if cells is None:
            continue
        for op, c in cells.items():
            if c[0] == "FAIL":
                failures.append("%s %s: %s" % (name, op, c[2]))

    print("Machine: %s, %s cores; %s; load average %.2f at start." % (cpu, cores, ossl,
                                                                      load_before))
    print("Times are CPU time of the calling thread (threads rows: wall clock): per cell the "
          "median of BENCH_RUNS=%s runs of BENCH_TIME=%s s in each of %d interleaved rounds, "
          "then the %s over the rounds.\n" % (env.get("BENCH_RUNS", "5"),
                                              env.get("BENCH_TIME", "0.12"), rounds,
                                              "lowest" if stat == "min" else "median"))
    head = "| operation | jwtgate | " + " | ".join(l for _, l in PEERS) + \
           " | bare OpenSSL | jwtgate / fastest peer | jwtgate / bare OpenSSL |"
    print("Microseconds per operation (lower is better):\n")
    print(head)
    print("|" + "---|" * (6 + len(PEERS) - 1))
    ratios = {}
    for op, label in OPS:
        row = [label, cell_text(jg.get(op) if jg else None, fmt_us)]
        best = None
        for p, _ in PEERS:
            cells = results[p]
            c = cells.get(op) if cells is not None else None
            text = cell_text(c, fmt_us)
            if (p, op) in NOT_EQUIVALENT and c and c[0] == "OK":
                text = "(%s)" % text
            elif us(c) is not None and (best is None or us(c) < best[0]):
                best = (us(c), p)
            row.append(text)
        row.append(cell_text(bare.get(op) if bare else None, fmt_us))
        j = us(jg.get(op)) if jg else None
        b = us(bare.get(op)) if bare else None
        r_peer = j / best[0] if j and best else None
        r_bare = j / b if j and b else None
        ratios[op] = (j, best, b, r_peer, r_bare)
        row.append("%.2f (%s)" % (r_peer, best[1]) if r_peer else "n/a")
        row.append("%.2f" % r_bare if r_bare else "n/a")
        print("| " + " | ".join(row) + " |")

    print("\nOperations per second (higher is better):\n")
    print("| operation | jwtgate | " + " | ".join(l for _, l in PEERS) + " | bare OpenSSL |")
    print("|" + "---|" * (3 + len(PEERS)))
    for op, label in OPS:
        row = [label, cell_text(jg.get(op) if jg else None, fmt_ops)]
        for p, _ in PEERS:
            cells = results[p]
            row.append(cell_text(cells.get(op) if cells is not None else None, fmt_ops))
        row.append(cell_text(bare.get(op) if bare else None, fmt_ops))
        print("| " + " | ".join(row) + " |")

    if speed:
        print("\nThe physical floor: `openssl speed` (same run, same key types):\n")
        print("| operation | floor (µs) | from | jwtgate (µs) | jwtgate / floor |")
        print("|---|---|---|---|---|")
        for op, label in OPS:
            f = floor_of(op, speed)
            if f is None:
                continue
            j = ratios[op][0]
            print("| %s | %s | %s | %s | %s |" % (label, fmt_us(f[0]), f[1], fmt_us(j),
                                                 "%.2f" % (j / f[0]) if j else "n/a"))

    print("\nWhy a cell is n/a, and what each library does per call:\n")
    for name, cells in [("jwtgate", jg), ("bare OpenSSL", bare)] + \
            [(l, results[p]) for p, l in PEERS]:
        if cells is None:
            print("- %s: not built (its development package is missing)" % name)
            continue
        notes = {}
        for op, c in cells.items():
            if c[2] and op != "_exit":
                key = ("n/a: " if c[0] == "NA" else "") + c[2]
                notes.setdefault(key, []).append(op)
        for text, ops in notes.items():
            print("- %s: %s (%s)" % (name, text, ", ".join(ops)))
    for (p, op), why in NOT_EQUIVALENT.items():
        print("- %s %s in parentheses: %s; not counted as fastest peer" % (p, op, why))

    print("\nTargets (this run):\n")
    verdicts = []

    def verdict(ok, text):
        verdicts.append(ok)
        print("- [%s] %s" % ("x" if ok else " ", text))

    for op, label in OPS:
        j, best, b, r_peer, _ = ratios[op]
        if op.endswith("_1t") or op.endswith("_2t") or best is None or j is None:
            continue
        need = 1 / 1.5 if op in ("hs256_verify", "dir_a256gcm_decrypt") else 1.0
        verdict(r_peer <= need, "%s: jwtgate %s µs vs %s %s µs (ratio %.2f, target <= %.2f)"
                % (label, fmt_us(j), best[1], fmt_us(best[0]), r_peer, need))
    for op, label in OPS:
        j, _, b, _, r_bare = ratios[op]
        if op.split("_")[0] in ASYMMETRIC and op != "nested_open" and r_bare and \
                not op.endswith(("_1t", "_2t")):
            verdict(r_bare <= 1.10, "%s within 10%% of bare OpenSSL: %.2f" % (label, r_bare))
    if bare and jg and us(jg.get("nested_open")):
        parts = [us(bare.get("ecdh_p256_decrypt")), us(bare.get("es256_verify"))]
        if all(parts):
            r = us(jg["nested_open"]) / sum(parts)
            verdict(r <= 1.2, "nested open within 1.2x of bare ECDH-ES decrypt + ES256 verify: "
                    "%.2f" % r)
    for name, cells in (("jwtgate", jg), ("bare OpenSSL", bare)):
        if cells and us(cells.get("nested_open_1t")) and us(cells.get("nested_open_2t")):
            s = us(cells["nested_open_1t"]) / us(cells["nested_open_2t"])
            cpu = [re.search(r"cpu/op ([\d.]+)", cells[op][2]) for op in
                   ("nested_open_1t", "nested_open_2t")]
            extra = ""
            if all(cpu):
                extra = "; CPU per operation %s µs with 1 thread, %s µs with 2" % (
                    cpu[0][1], cpu[1][1])
            if name == "jwtgate":
                verdict(s >= 1.8, "2 threads give %.2fx the throughput of 1 (target 1.8)%s"
                        % (s, extra))
            else:
                print("- (reference) bare OpenSSL, same machine and moment: 2 threads give "
                      "%.2fx%s" % (s, extra))

    if hostile:
        print("\nRejecting hostile input under default limits (jwtgate):\n")
        print("| input | µs to refuse | refused with |")
        print("|---|---|---|")
        for op, c in hostile.items():
            if op == "_exit":
                continue
            why = c[2].split("-> ", 1)[-1] if c[0] == "OK" else c[2]
            print("| %s | %s | %s |" % (op.replace("hostile_", ""),
                                        fmt_us(us(c)) if c[0] == "OK" else "**" + c[0] + "**",
                                        why))
            if c[0] != "OK":
                failures.append("hostile %s: %s" % (op, c[2]))

    if failures:
        print("\nFAILURES (a failed operation is never reported as speed):")
        for f in failures:
            print("- " + f)
        sys.exit(1)


if __name__ == "__main__":
    main()
