#!/usr/bin/python3
"""Lab push throughput (issue 18, docs/performance.md "Lab database"): many simulated rigs, each with a year of
sessions made by `rig simulate`, pushed by `rig sync` into one PostgreSQL server on this machine; prints one JSON
object.

  lab_push.py [--rigs 50] [--sessions 250] [--trials 500] [--parallel 2] [--build build/release]
  lab_push.py --quick      2 rigs of 4 sessions of 100 trials (a smoke check)
  lab_push.py --roles      each rig pushes as its own PostgreSQL role (`rig lab add-rig`: row-level security, as
                           docs/lab.md sets a lab up) rather than as the tables' owner

The server is Debian's PostgreSQL 15 (initdb into a temporary directory, as the `postgres` user when run as root;
fsync on, shared_buffers 2 GB and max_wal_size 4 GB as docs/lab.md advises for a lab server, the rest default). Each rig's database is made by `rig simulate --sessions S --trials T --days-apart 1 --seed R` (a session a day, the last today) with
its own rig config (rig.id rig-R); the push is `rig sync --db ... --lab URL --config ... --quiet`, `--parallel` of
them at a time. Throughput = trials pushed / wall time of all pushes (the generation is not timed). Afterwards
the lab's row counts are checked against the rigs' databases.
"""
import argparse
import concurrent.futures
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def pg_bindir():
    return subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip()


class Server:
    """A private PostgreSQL server on a Unix socket in `workdir`: a new one, or (existing=True) the one a kept
    work directory holds. `options`: more `-c name=value` settings."""

    def __init__(self, workdir, port=55432, existing=False, options=""):
        self.dir, self.port, self.bin = workdir, port, pg_bindir()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(workdir, "postgres")
        if not existing:
            subprocess.run(self.as_user + [f"{self.bin}/initdb", "-D", f"{workdir}/data", "-U", "postgres", "-A", "trust",
                                           "-E", "UTF8", "--locale=C"], check=True, capture_output=True)
        subprocess.run(self.as_user + [f"{self.bin}/pg_ctl", "start", "-w", "-D", f"{workdir}/data", "-l",
                                       f"{workdir}/server.log", "-o",
                                       f"-k {workdir} -p {port} -c listen_addresses= -c max_wal_size=4GB -c shared_buffers=2GB "
                                       + options],
                       check=True, capture_output=True)

    def url(self, db="postgres"):
        return f"postgresql:///{db}?host={self.dir}&port={self.port}&user=postgres"

    def psql(self, sql, db="postgres"):
        return subprocess.run(["psql", "-X", "-q", "-A", "-t", "-d", self.url(db), "-c", sql], check=True,
                              capture_output=True, text=True).stdout.strip()

    def stop(self):
        subprocess.run(self.as_user + [f"{self.bin}/pg_ctl", "stop", "-w", "-D", f"{self.dir}/data", "-m", "fast"],
                       capture_output=True)


def finish(server, workdir, keep, out):
    """Stops the server, removes the work directory (or names it in `out`), prints `out`; returns the exit code."""
    server.stop()
    if keep:
        out["workdir"] = workdir
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(out, indent=2))
    return 0 if out.get("ok") else 1


def rig_config(workdir, r):
    with open(os.path.join(ROOT, "config", "rig.sim.yaml")) as f:
        text = f.read().replace("id: sim-1", f"id: rig-{r}")
    path = os.path.join(workdir, f"rig-{r}.yaml")
    with open(path, "w") as f:
        f.write(text)
    return path


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rigs", type=int, default=50)
    p.add_argument("--sessions", type=int, default=250, help="sessions per rig (a year of weekdays)")
    p.add_argument("--trials", type=int, default=500, help="trials per session")
    p.add_argument("--parallel", type=int, default=2, help="rigs pushing at once")
    p.add_argument("--build", default=os.path.join(ROOT, "build", "release"))
    p.add_argument("--quick", action="store_true")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    p.add_argument("--roles", action="store_true", help="push as each rig's own role (row-level security)")
    args = p.parse_args()
    if args.quick:
        args.rigs, args.sessions, args.trials = 2, 4, 100
    rig = os.path.join(args.build, "host", "rig")
    workdir = tempfile.mkdtemp(prefix="rig-bench-lab-")
    os.chmod(workdir, 0o755)
    server = Server(workdir)
    out = {"rigs": args.rigs, "sessions_per_rig": args.sessions, "trials_per_session": args.trials,
           "parallel": args.parallel, "pushed_as": "each rig's role" if args.roles else "the tables' owner",
           "date": time.strftime("%Y-%m-%d")}
    try:
        server.psql("CREATE DATABASE lab")
        subprocess.run([rig, "lab", "init", "--url", server.url("lab")], check=True, capture_output=True)

        def make(r):
            db = os.path.join(workdir, f"rig-{r}.sqlite")
            config = rig_config(workdir, r)
            subprocess.run([rig, "simulate", "--protocol", os.path.join(ROOT, "protocols", "distractor.yaml"),
                            "--config", config, "--subject", f"M{r:03d}", "--sessions", str(args.sessions),
                            "--trials", str(args.trials), "--days-apart", "1", "--seed", str(r), "--db", db],
                           check=True, capture_output=True)
            if args.roles:
                subprocess.run([rig, "lab", "add-rig", f"rig-{r}", "--url", server.url("lab")], check=True,
                               capture_output=True)
            return db, config, server.url("lab").replace("user=postgres", f"user=rig-{r}") if args.roles else server.url("lab")

        t = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            rigs = list(pool.map(make, range(1, args.rigs + 1)))
        out["generate_s"] = round(time.monotonic() - t, 1)
        trials = sum(sqlite3.connect(db).execute("SELECT COUNT(*) FROM trials").fetchone()[0] for db, _, _ in rigs)
        out["trials"] = trials
        out["rig_db_mb"] = round(sum(os.path.getsize(db) for db, _, _ in rigs) / 1e6, 1)

        def push(rig_files):
            db, config, url = rig_files
            start = time.monotonic()
            res = subprocess.run([rig, "sync", "--db", db, "--lab", url, "--config", config, "--quiet"],
                                 capture_output=True, text=True)
            if res.returncode != 0:
                raise RuntimeError(res.stdout + res.stderr)
            return time.monotonic() - start

        t = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(args.parallel) as pool:
            per_rig = list(pool.map(push, rigs))
        wall = time.monotonic() - t
        out["push_wall_s"] = round(wall, 1)
        out["trials_per_s"] = round(trials / wall)
        out["per_rig_push_s"] = {"min": round(min(per_rig), 2), "max": round(max(per_rig), 2)}
        lab_trials = int(server.psql("SELECT COUNT(*) FROM trials", "lab"))
        out["lab_trials"] = lab_trials
        out["lab_db_mb"] = round(int(server.psql("SELECT pg_database_size('lab')", "lab")) / 1e6, 1)
        out["ok"] = lab_trials == trials
    finally:
        code = finish(server, workdir, args.keep, out)
    return code


if __name__ == "__main__":
    sys.exit(main())
