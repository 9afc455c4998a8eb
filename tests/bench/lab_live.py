#!/usr/bin/python3
"""The lab while rigs run (issue 18, docs/performance.md "Lab database"): rigd pushing a running session to the lab
in the background. Prints one JSON object with

  lab_delay    a trial's delay from its commit on the rig to its row in the lab database (p50, p99, max);
  commit       the rig's trial commit latency (the link delivered the result -> its SQLite transaction returned),
               the same session run with the lab push off and on, side by side.

  lab_live.py [--trials 600] [--speed 10] [--push-interval 1] [--build build/release]
               (--trials is the session's limit; the simulated mouse's session may end before it, e.g. disengaged:
               the JSON says how many trials each session had and why it ended)
  lab_live.py --quick      100 trials at speed 20 (a smoke check)

Each run is rigd (`--device sim --speed S --seed 9 --crt 0 --latency-log FILE`, a fresh database) with the
benchmark subject of tests/bench/host_path/ (no daily water cap), started by `rig start --max-trials N`: first
with a rig config without a `lab:` section, then with one pointing to a private PostgreSQL 15 server
(tests/bench/lab_push.py's, owner role). While the second runs, psql polls the lab every 20 ms (`\\watch`) for the
highest trial number there, stamped with the server's clock; a trial's delay is the first poll that saw it minus
its `committed_at_unix_us` (the rig's clock: the same machine), so it is measured to within the 20 ms of the poll.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from host_path import percentile, read_latency_log, stats_ms  # noqa: E402
from lab_push import Server, finish  # noqa: E402


def rig_config(workdir, name, lab_url, push_interval):
    with open(os.path.join(ROOT, "config", "rig.sim.yaml")) as f:
        text = f.read()
    if lab_url:
        text += f'\nlab:\n  url: "{lab_url}"\n  push_interval_s: {push_interval}\n'
    path = os.path.join(workdir, name)
    with open(path, "w") as f:
        f.write(text)
    return path


class Rigd:
    def __init__(self, args, workdir, name, config):
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir)
        self.rig = os.path.join(args.build, "host", "rig")
        self.token = os.path.join(self.dir, "token")
        with open(self.token, "w") as f:
            f.write("bench-token\n")
        url_file = os.path.join(self.dir, "url")
        self.latency_log = os.path.join(self.dir, "latency.log")
        self.log = open(os.path.join(self.dir, "rigd.log"), "w")
        self.proc = subprocess.Popen(
            [os.path.join(args.build, "host", "rigd"), "--config", config, "--subjects",
             os.path.join(HERE, "host_path", "subjects.yaml"), "--listen", "127.0.0.1:0", "--url-file", url_file,
             "--token-file", self.token, "--db", os.path.join(self.dir, "rig.sqlite"), "--device", "sim", "--speed",
             str(args.speed), "--crt", "0", "--seed", "9", "--latency-log", self.latency_log],
            stderr=self.log, stdout=self.log)
        deadline = time.monotonic() + 30
        while not os.path.exists(url_file):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("rigd did not start; see " + self.log.name)
            time.sleep(0.05)
        with open(url_file) as f:
            self.url = f.read().strip().rstrip("/")

    def status(self):
        with urllib.request.urlopen(self.url + "/api/status", timeout=10) as r:
            return json.load(r)

    def run_session(self, trials):
        start = subprocess.run([self.rig, "start", "--subject", "BENCH001", "--max-trials", str(trials), "--weight",
                                "25", "--url", self.url, "--token-file", self.token], capture_output=True, text=True)
        if start.returncode != 0:
            raise RuntimeError("rig start: " + start.stdout + start.stderr)
        while True:
            s = self.status()
            if s.get("state") == "idle" and isinstance(s.get("last_report"), dict):
                return s
            time.sleep(0.2)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(60)
        self.log.close()


def commit_stats(rigd):
    rows = read_latency_log(rigd.latency_log)
    return stats_ms([t1 - t0 for _, t0, t1, _ in rows if t0 and t1])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--trials", type=int, default=600)
    p.add_argument("--speed", type=float, default=10.0, help="device time per wall time")
    p.add_argument("--push-interval", type=float, default=1.0, help="lab.push_interval_s, seconds")
    p.add_argument("--build", default=os.path.join(ROOT, "build", "release"))
    p.add_argument("--quick", action="store_true")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    args = p.parse_args()
    if args.quick:
        args.trials, args.speed = 100, 20.0
    workdir = tempfile.mkdtemp(prefix="rig-bench-lab-live-")
    os.chmod(workdir, 0o755)
    server = Server(workdir, port=55433)
    out = {"trials": args.trials, "speed": args.speed, "push_interval_s": args.push_interval,
           "date": time.strftime("%Y-%m-%d")}
    poller = None
    try:
        server.psql("CREATE DATABASE lab")
        rig = os.path.join(args.build, "host", "rig")
        subprocess.run([rig, "lab", "init", "--url", server.url("lab")], check=True, capture_output=True)

        off = Rigd(args, workdir, "push-off", rig_config(workdir, "off.yaml", None, args.push_interval))
        try:
            report = off.run_session(args.trials)["last_report"]
            out["session_push_off"] = {"trials": report["trials"], "end_reason": report["end_reason"]}
        finally:
            off.stop()

        polls_path = os.path.join(workdir, "polls.txt")
        polls = open(polls_path, "w")
        poller = subprocess.Popen(["psql", "-X", "-q", "-A", "-t", "-d", server.url("lab")], stdin=subprocess.PIPE,
                                  stdout=polls, stderr=subprocess.DEVNULL, text=True)
        poller.stdin.write("SELECT (extract(epoch FROM clock_timestamp()) * 1e6)::bigint, "
                           "COALESCE(max(trial_number), 0) FROM trials \\watch 0.02\n")
        poller.stdin.flush()
        on = Rigd(args, workdir, "push-on", rig_config(workdir, "on.yaml", server.url("lab"), args.push_interval))
        try:
            report = on.run_session(args.trials)["last_report"]
            session_trials = report["trials"]
            out["session_push_on"] = {"trials": session_trials, "end_reason": report["end_reason"]}
            deadline = time.monotonic() + 60
            while int(server.psql("SELECT COUNT(*) FROM trials", "lab")) < session_trials and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(0.2)
        finally:
            on.stop()
            poller.send_signal(signal.SIGINT)
            poller.kill()
            poller.wait()
            polls.close()

        seen = []  # (poll time us, highest trial number in the lab)
        with open(polls_path) as f:
            for line in f:
                parts = line.strip().split("|")
                if len(parts) == 2 and parts[0].isdigit():
                    seen.append((int(parts[0]), int(parts[1])))
        committed = {}
        for line in server.psql("SELECT trial_number, committed_at_unix_us FROM trials", "lab").splitlines():
            n, at = line.split("|")
            committed[int(n)] = int(at)
        delays_us = []
        i = 0
        for n in sorted(committed):
            while i < len(seen) and seen[i][1] < n:
                i += 1
            if i == len(seen):
                break
            delays_us.append(seen[i][0] - committed[n])
        delays_us.sort()
        out["lab_delay"] = {"n": len(delays_us), "polls": len(seen),
                            "p50_ms": round(percentile(delays_us, 50) / 1e3, 1),
                            "p99_ms": round(percentile(delays_us, 99) / 1e3, 1),
                            "max_ms": round(delays_us[-1] / 1e3, 1)}
        out["commit_push_off"] = commit_stats(off)
        out["commit_push_on"] = commit_stats(on)
        p99_off, p99_on = out["commit_push_off"]["p99_ms"], out["commit_push_on"]["p99_ms"]
        out["commit_p99_on_over_off"] = round(p99_on / p99_off, 3) if p99_off else None
        out["ok"] = len(delays_us) == session_trials and len(committed) == session_trials
    finally:
        if poller and poller.poll() is None:
            poller.kill()
        code = finish(server, workdir, args.keep, out)
    return code


if __name__ == "__main__":
    sys.exit(main())
