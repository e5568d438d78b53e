#!/usr/bin/env python3
"""The cost of onboard's guarantees at scale: `python3 bench/safety.py [--skip-build]`.

  journal  a generated journal of 1,000,000 lines (a year of runs: one run of 100,000 rows and
           2,000 small ones, some undone): `onboard journal` (list) and `onboard journal RUN`
           (show), cold (no index yet: the whole file is read once and indexed), warm, and after
           a new run was appended; against the floor of reading the file at all (`wc -l`).
           Target: warm list and show each well under a second.
  undo     `onboard undo --dry-run` of a run of N rows (3 accounts each) against `onboard sim`:
           every account looked up, in parallel; against the same lookups made by onboard's
           own run of the script (`ensure_user`, which looks each one up) at the same parallelism.
  limits   scripts that grow or nest a value without end, and how long each takes to stop,
           against a loop that only counts to the same operation limit (the time the operation
           limit itself allows). Target: under a second of extra time each.

Prints every figure and the targets. Exits 1 if a target is missed.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ONBOARD = os.path.join(ROOT, "target", "release", "onboard")
TIME = "2026-11-01T09:00:00Z"


def timed(cmd, **kw):
    started = time.monotonic()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    return time.monotonic() - started, proc


def best(cmd, rounds=3, **kw):
    return min(timed(cmd, **kw)[0] for _ in range(rounds))


def write_run(out, run, rows, vendors, first_id, deleted_by=None):
    """One run's records: an intent and an outcome per account, as onboard writes them."""
    out.write(json.dumps({"type": "run", "run": run, "time": TIME, "command": "run",
                          "script": "scripts/new_hires.rhai", "profile": "prod", "pid": 1},
                         separators=(",", ":")) + "\n")
    seq, ident = 0, first_id
    for row in range(1, rows + 1):
        for vendor in vendors:
            seq += 1
            name = f"user{row}"
            out.write('{"type":"intent","run":"%s","seq":%d,"time":"%s","row":%d,"vendor":"%s",'
                      '"operation":"create_user","username":"%s","sent":{"email":"%s@example.com"}}\n'
                      % (run, seq, TIME, row, vendor, name, name))
            out.write('{"type":"outcome","run":"%s","seq":%d,"time":"%s","row":%d,"vendor":"%s",'
                      '"operation":"create_user","username":"%s","id":%d,"outcome":"created",'
                      '"proof":"answer","status":201,"duration_ms":3}\n'
                      % (run, seq, TIME, row, vendor, name, ident))
            ident += 1
    out.write('{"type":"end","run":"%s","time":"%s","exit_code":0}\n' % (run, TIME))
    return ident


def journal_bench(dirname):
    path = os.path.join(dirname, "journal.jsonl")
    print("generating a 1,000,000-line journal…", flush=True)
    ident = 1000
    with open(path, "w") as out:
        big = "20261101-090000-b16b"
        ident = write_run(out, big, 100_000, ["cyberark", "pam360", "appmanager"], ident)
        small = []
        for n in range(2000):
            run = f"2026{1101 + n // 100:04d}-{n % 100:02d}0000-{n:04x}"
            small.append(run)
            ident = write_run(out, run, 50, ["cyberark", "appmanager"], ident)
            if n % 10 == 0:  # every tenth run undone
                out.write('{"type":"run","run":"undo-%04x","time":"%s","command":"undo",'
                          '"undo_of":"%s","pid":1}\n' % (n, TIME, run))
                for row in range(1, 51):
                    out.write('{"type":"outcome","run":"undo-%04x","seq":%d,"time":"%s",'
                              '"vendor":"cyberark","operation":"undo","username":"user%d",'
                              '"outcome":"deleted","duration_ms":2}\n' % (n, row, TIME, row))
    lines = sum(1 for _ in open(path))
    size = os.path.getsize(path)
    print(f"  {lines:,} lines, {size / 1e6:.0f} MB")
    base = [ONBOARD, "--journal", path, "journal"]
    floor = best(["wc", "-l", path])
    cold, proc = timed(base)
    assert proc.returncode == 0, proc.stderr
    warm_list = best(base)
    warm_big = best(base + [big])
    warm_small = best(base + [small[1234]])
    # A new run arrives: the index covers all but it.
    with open(path, "a") as out:
        write_run(out, "20261201-120000-0001", 50, ["cyberark"], ident)
    catch_up, proc = timed(base)
    assert "20261201-120000-0001" in proc.stdout, proc.stdout
    after = best(base)
    # An undo of an older run arrives: it changes that run's accounts, so the index is read
    # whole and rewritten once.
    with open(path, "a") as out:
        out.write('{"type":"run","run":"20261201-130000-0002","time":"%s","command":"undo",'
                  '"undo_of":"%s","pid":1}\n' % (TIME, small[500]))
        out.write('{"type":"outcome","run":"20261201-130000-0002","seq":1,"time":"%s",'
                  '"vendor":"appmanager","operation":"undo","username":"user7","outcome":"deleted",'
                  '"duration_ms":2}\n' % TIME)
    undone, proc = timed(base + [small[500]])
    assert "removed by undo" in proc.stdout, proc.stdout[-800:]
    after_undo = best(base)
    rows = [
        ("read the file once (wc -l: the floor of any full read)", floor),
        ("onboard journal, cold (reads and indexes the whole file)", cold),
        ("onboard journal, warm (the index)", warm_list),
        ("onboard journal RUN, the 100,000-row run (300,000 accounts)", warm_big),
        ("onboard journal RUN, a 50-row run", warm_small),
        ("onboard journal after a new run was appended", catch_up),
        ("onboard journal, warm again", after),
        ("onboard journal RUN after an undo of it was appended (index read whole, rewritten)", undone),
        ("onboard journal, warm after that", after_undo),
    ]
    for what, secs in rows:
        print(f"  {secs:7.3f} s  {what}")
    ok = max(warm_list, warm_small, after, after_undo) < 0.5 and warm_big < 1.0
    print(f"  target: warm list and show well under a second: {'ok' if ok else 'MISSED'}")
    return ok


class Sim:
    def __init__(self):
        self.proc = subprocess.Popen([ONBOARD, "sim", "--port", "0"], stdout=subprocess.PIPE, text=True)
        lines = []
        for line in self.proc.stdout:
            lines.append(line)
            if line.startswith("# Ctrl-C"):
                break
        self.profile = "".join(l for l in lines[1:] if not l.startswith("#"))

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def undo_bench(dirname, rows):
    sim = Sim()
    try:
        config = os.path.join(dirname, "onboard.toml")
        with open(config, "w") as f:
            f.write('default_profile = "sim"\n\n' + sim.profile)
        people = os.path.join(dirname, "people.csv")
        with open(people, "w") as f:
            f.write("username,email\n")
            # Names of one width: PVWA's lookup is a substring search, and `u1` would find
            # `u10` to `u1999` too.
            for i in range(rows):
                f.write(f"user{i:06d},user{i:06d}@example.com\n")
        script = os.path.join(dirname, "create.rhai")
        with open(script, "w") as f:
            f.write('cyberark::create_user(#{ username: row.username, initial_password: random_password(20), email: row.email });\n'
                    'pam360::create_user(#{ username: row.username, first_name: "U", last_name: "N", email: row.email });\n'
                    'appmanager::create_user(#{ username: row.username, role: "USER", password: random_password(16), email: row.email });\n')
        lookups = os.path.join(dirname, "lookups.rhai")
        with open(lookups, "w") as f:
            f.write('cyberark::get_user(row.username); pam360::get_user(row.username); appmanager::get_user(row.username);\n')
        journal = os.path.join(dirname, "undo-journal.jsonl")
        env = dict(os.environ, ONBOARD_JOURNAL=journal)
        common = ["--config", config, "run"]
        print(f"creating {rows} rows x 3 accounts on onboard sim…", flush=True)
        made, proc = timed([ONBOARD, *common, script, "--each", people, "--jobs", "8", "--quiet"], env=env)
        assert proc.returncode == 0, proc.stderr[-2000:]
        run = re.search(r'"run":"([^"]+)"', open(journal).readline()).group(1)
        dry, proc = timed([ONBOARD, "--config", config, "--journal", journal, "undo", run, "--dry-run"])
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert f"{rows * 3} would be deleted" in proc.stdout, proc.stdout[-500:]
        looked, proc = timed([ONBOARD, *common, lookups, "--each", people, "--jobs", "8", "--quiet"], env=env)
        assert proc.returncode == 0, proc.stderr[-2000:]
        real, proc = timed([ONBOARD, "--config", config, "--journal", journal, "undo", run])
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert f"{rows * 3} deleted" in proc.stdout, proc.stdout[-500:]
        print(f"  {made:7.2f} s  onboard run --each: {rows} rows, {rows * 3} creates (8 at a time)")
        print(f"  {looked:7.2f} s  the same {rows * 3} lookups made by onboard run --each (8 at a time): the reference")
        print(f"  {dry:7.2f} s  onboard undo --dry-run: {rows * 3} accounts looked up (8 at a time)")
        print(f"  {real:7.2f} s  onboard undo: looked up in parallel, then deleted newest first, one by one")
        ok = dry < looked * 1.5 + 1
        print(f"  target: undo --dry-run within 1.5x of the same lookups: {'ok' if ok else 'MISSED'}")
        return ok
    finally:
        sim.stop()


LIMITS = [
    ("a growing array (push)", "let a = []; loop { a.push(1); }"),
    ("a doubling string", 'let s = "x"; loop { s += s; }'),
    ("a doubling array", "let a = [1]; loop { a += a; }"),
    ("a map given a key a pass", "let m = #{}; let i = 0; loop { m[`k${i}`] = i; i += 1; }"),
    ("a map nested one deeper a pass (copied)", "let m = #{}; loop { m = #{ inner: m }; }"),
]
BASELINE = "let i = 0; loop { i += 1; }"


def limits_bench(dirname):
    def stop_time(text):
        path = os.path.join(dirname, "limit.rhai")
        with open(path, "w") as f:
            f.write(text)
        secs, proc = timed([ONBOARD, "run", path], cwd=dirname)
        assert proc.returncode == 1, proc.stderr
        message = next(l for l in proc.stderr.splitlines() if l.startswith("error:"))
        return secs, message

    base, _ = min(stop_time(BASELINE) for _ in range(3))
    print(f"  {base:6.2f} s  counting to the operation limit (the time that limit allows)")
    ok = True
    for what, text in LIMITS:
        secs, message = min(stop_time(text) for _ in range(2))
        extra = secs - base
        ok &= extra < 1.0
        print(f"  {secs:6.2f} s  {what} ({extra:+.2f} s): {message[7:90]}…")
    print(f"  target: each stops within a second of that: {'ok' if ok else 'MISSED'}")
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--undo-rows", type=int, default=10_000)
    parser.add_argument("--only", choices=["journal", "undo", "limits"])
    args = parser.parse_args()
    if not args.skip_build:
        print("building (release)…", flush=True)
        subprocess.run(["cargo", "build", "--release", "--bin", "onboard"], cwd=ROOT, check=True)
    results = []
    with tempfile.TemporaryDirectory() as dirname:
        if args.only in (None, "limits"):
            print("limits:")
            results.append(limits_bench(dirname))
        if args.only in (None, "journal"):
            print("journal:")
            results.append(journal_bench(dirname))
        if args.only in (None, "undo"):
            print("undo:")
            results.append(undo_bench(dirname, args.undo_rows))
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
