#!/usr/bin/python3
"""Benchmark of `rig export --format nwb` (issue 19): a synthetic session of about an hour (rig-bench-store
--recordings: trials, a 1 kHz wheel trace, licks after each reward, sync edges every 50-150 ms) exported as NWB,
timed with its peak RSS, beside the CSV exports of the same session's trials and wheel in the same run (the rig's
own other export: ratios, since these machines are noisy). Reports the NWB file's size against the SQLite
database's.

usage: tests/bench/nwb_export.py [--build build/release] [--trials 1420] [--runs 5] [--dir DIR]
Targets: < 1 s and < 64 MB RSS for the 1-hour session; file within 2x the SQLite size."""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def timed(command, stdout=subprocess.DEVNULL):
    """Runs a command; returns (seconds, peak RSS in MB from its own rusage, its standard error)."""
    begin = time.perf_counter()
    process = subprocess.Popen(command, stdout=stdout, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - begin
    errors = process.stderr.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(command)} failed: {errors}")
    return seconds, usage.ru_maxrss / 1024.0, errors


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build/release")
    parser.add_argument("--trials", type=int, default=1420, help="trials of the synthetic session (1420: about 1 h)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--dir", default=None)
    args = parser.parse_args()
    rig = os.path.join(args.build, "host", "rig")
    bench_store = os.path.join(args.build, "tests", "bench", "rig-bench-store")
    work = args.dir or tempfile.mkdtemp(prefix="rig-bench-nwb-")
    made = subprocess.run([bench_store, "--trials", str(args.trials), "--dir", work, "--keep", "--recordings"],
                          check=True, capture_output=True, text=True).stdout
    hours = float(re.search(r"\(1 kHz, ([0-9.]+) simulated hours\)", made).group(1))
    samples = int(re.search(r"wheel samples\s+(\d+)", made).group(1))
    db = os.path.join(work, "bench.sqlite")
    db_bytes = os.path.getsize(db)
    nwb = os.path.join(work, "session.nwb")

    nwb_runs, csv_runs = [], []
    for _ in range(args.runs):
        nwb_runs.append(timed([rig, "export", "--db", db, "--session", "1", "--format", "nwb", "--out", nwb, "--force"]))
        with open(os.path.join(work, "wheel.csv"), "wb") as wheel, open(os.path.join(work, "trials.csv"), "wb") as trials:
            wheel_run = timed([rig, "export", "--db", db, "--session", "1", "--wheel"], stdout=wheel)
            trials_run = timed([rig, "export", "--db", db, "--session", "1"], stdout=trials)
        csv_runs.append((wheel_run[0] + trials_run[0], max(wheel_run[1], trials_run[1]), ""))
    nwb_bytes = os.path.getsize(nwb)
    nwb_s = statistics.median(r[0] for r in nwb_runs)
    csv_s = statistics.median(r[0] for r in csv_runs)
    rss = max(r[1] for r in nwb_runs)
    print(f"session: {args.trials} trials, {samples} wheel samples, {hours:.2f} simulated hours")
    print("exported:", nwb_runs[-1][2].strip())
    print(f"sqlite database:      {db_bytes / 1e6:.2f} MB")
    print(f"nwb file:             {nwb_bytes / 1e6:.2f} MB ({nwb_bytes / db_bytes:.2f}x the database)")
    print(f"nwb export:           median {nwb_s:.3f} s of {args.runs} (min {min(r[0] for r in nwb_runs):.3f}), "
          f"peak RSS {rss:.1f} MB")
    print(f"csv trials + wheel:   median {csv_s:.3f} s (nwb / csv {nwb_s / csv_s:.2f})")
    print(f"per simulated hour:   nwb export {nwb_s / hours:.3f} s, file {nwb_bytes / 1e6 / hours:.2f} MB")
    if not args.dir:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
