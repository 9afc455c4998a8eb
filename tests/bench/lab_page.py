#!/usr/bin/python3
"""Lab page latency (issue 18, docs/performance.md "Lab database"): the JSON API of `rig lab serve` over the lab
database lab_push.py builds (50 rigs x 250 sessions x 500 trials), served as the read-only role the page uses;
prints one JSON object and writes the query plans PostgreSQL used (auto_explain) to a file.

  lab_page.py [--from WORKDIR] [--requests 200] [--build build/release] [--plans FILE] [--keep]
  lab_page.py --quick      lab_push.py --quick's database, 20 requests (a smoke check)

Without --from it first runs `lab_push.py --keep` (with --rigs/--sessions/--trials) and uses the work directory
that keeps; --from takes such a directory (its server is started again on the same data). Measured against a
page started fresh:
- cold: the first overview (every session row, and the trials of each subject's last sessions) and then the
  first page of one subject (its every session), and how long the page then takes to read ahead the rest;
- warm, once read ahead: --requests overviews, then --requests subject pages (subjects in a seeded random
  order), one at a time, each timed from sending the request to the last byte of the answer: p50, p95, max.
Then the server is restarted with auto_explain logging every statement's plan (ANALYZE, BUFFERS), the page
started again, and one cold overview, one cold subject page, one warm overview and one warm subject page are
requested, and the plan of the first read of trials; the plans go to --plans (default ./lab-page-plans.txt). A work directory this script made is
removed at the end unless --keep.
"""
import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import lab_push  # noqa: E402  (the same server and work directory as the push benchmark)

kExplain = ("-c shared_preload_libraries=auto_explain -c auto_explain.log_min_duration=0 "
            "-c auto_explain.log_analyze=on -c auto_explain.log_buffers=on")


class Page:
    """`rig lab serve` as the reader role, on a free port; its log in WORKDIR/serve-N.log."""

    def __init__(self, rig, url, workdir, n):
        url_file = os.path.join(workdir, f"page-{n}.url")
        if os.path.exists(url_file):
            os.remove(url_file)
        self.log = open(os.path.join(workdir, f"serve-{n}.log"), "w")
        self.proc = subprocess.Popen([rig, "lab", "serve", "--url", url, "--port", "0", "--url-file", url_file],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while not (os.path.exists(url_file) and open(url_file).read().strip()):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"rig lab serve did not start; see {self.log.name}")
            time.sleep(0.05)
        self.base = open(url_file).read().strip().rstrip("/")

    def get(self, path):
        """(seconds from the request to the answer's last byte, the answer as JSON)."""
        start = time.perf_counter()
        with urllib.request.urlopen(self.base + path, timeout=600) as answer:
            body = answer.read()
        return time.perf_counter() - start, json.loads(body)

    def wait_read_ahead(self):
        """Seconds until every session is read and fitted (the overview's `cache`)."""
        start = time.monotonic()
        while True:
            _, overview = self.get("/api/lab/overview")
            cache = overview["cache"]
            if cache["final"] >= cache["sessions"]:
                return time.monotonic() - start
            time.sleep(1)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=60)
        self.log.close()


def summary_ms(seconds):
    ms = sorted(s * 1000 for s in seconds)
    return {"n": len(ms), "p50": round(statistics.median(ms), 1),
            "p95": round(ms[min(len(ms) - 1, int(round(0.95 * len(ms))) - 1)], 1), "max": round(ms[-1], 1)}


def build_lab(args):
    """Runs lab_push.py --keep and returns its work directory."""
    command = [sys.executable, os.path.join(HERE, "lab_push.py"), "--keep", "--build", args.build]
    command += ["--quick"] if args.quick else ["--rigs", str(args.rigs), "--sessions", str(args.sessions),
                                               "--trials", str(args.trials)]
    res = subprocess.run(command, capture_output=True, text=True)
    out = json.loads(res.stdout)
    if res.returncode != 0 or not out.get("ok"):
        raise RuntimeError("lab_push.py failed: " + res.stdout + res.stderr)
    return out["workdir"]


def log_offset(server):
    return os.path.getsize(os.path.join(server.dir, "server.log"))


def plans_since(server, offset):
    """The auto_explain entries written to the server's log since `offset`, as text."""
    with open(os.path.join(server.dir, "server.log"), errors="replace") as f:
        f.seek(offset)
        text = f.read()
    entries, current = [], None
    for line in text.splitlines():
        if "LOG:  duration:" in line and "plan:" in line:
            current = [line[line.index("duration:"):]]
            entries.append(current)
        elif current is not None and line.startswith("\t"):
            current.append(line[1:])
        else:
            current = None
    return "\n\n".join("\n".join(e) for e in entries)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--from", dest="workdir", help="a work directory lab_push.py --keep left")
    p.add_argument("--rigs", type=int, default=50)
    p.add_argument("--sessions", type=int, default=250)
    p.add_argument("--trials", type=int, default=500)
    p.add_argument("--requests", type=int, default=200, help="warm requests of each kind")
    p.add_argument("--build", default=os.path.join(lab_push.ROOT, "build", "release"))
    p.add_argument("--plans", default="lab-page-plans.txt", help="where the query plans go")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    args = p.parse_args()
    if args.quick:
        args.requests = 20
    rig = os.path.join(args.build, "host", "rig")
    workdir = args.workdir or build_lab(args)
    plans_file = os.path.abspath(args.plans)
    out = {"date": time.strftime("%Y-%m-%d"), "workdir": workdir, "requests": args.requests}
    server = lab_push.Server(workdir, existing=True)
    page = None
    try:
        owner = server.url("lab")
        out["trials"] = int(server.psql("SELECT COUNT(*) FROM trials", "lab"))
        out["sessions"] = int(server.psql("SELECT COUNT(*) FROM sessions", "lab"))
        subjects = server.psql("SELECT DISTINCT subject_id FROM sessions ORDER BY 1", "lab").split()
        if server.psql("SELECT COUNT(*) FROM pg_roles WHERE rolname = 'page'") == "0":
            subprocess.run([rig, "lab", "add-reader", "page", "--url", owner], check=True, capture_output=True)
        reader = owner.replace("user=postgres", "user=page")

        page = Page(rig, reader, workdir, 1)
        cold_overview_s, _ = page.get("/api/lab/overview")
        cold_subject_s, _ = page.get(f"/api/lab/subjects/{subjects[0]}")
        out["cold_ms"] = {"overview": round(cold_overview_s * 1000, 1), "subject": round(cold_subject_s * 1000, 1)}
        out["read_ahead_s"] = round(page.wait_read_ahead(), 1)
        overview = [page.get("/api/lab/overview")[0] for _ in range(args.requests)]
        order = random.Random(18)
        subject = [page.get(f"/api/lab/subjects/{order.choice(subjects)}")[0] for _ in range(args.requests)]
        out["warm_ms"] = {"overview": summary_ms(overview), "subject": summary_ms(subject)}
        page.stop()
        page = None

        server.stop()
        server = lab_push.Server(workdir, existing=True, options=kExplain)
        started = log_offset(server)
        page = Page(rig, reader, workdir, 2)
        sections = []
        for title, path in [("cold overview", "/api/lab/overview"), (f"cold subject page ({subjects[0]})",
                                                                        f"/api/lab/subjects/{subjects[0]}")]:
            offset = log_offset(server)
            page.get(path)
            sections.append((title, plans_since(server, offset)))
        page.wait_read_ahead()
        time.sleep(2)  # the read-ahead's last statements are logged
        trial_reads = [e for e in plans_since(server, started).split("\n\n") if "unnest(" in e]
        sections.append((f"read-ahead: a read of trials ({len(trial_reads)} such reads in all; the first)",
                         trial_reads[0] if trial_reads else "(none)"))
        for title, path in [("warm overview", "/api/lab/overview"), (f"warm subject page ({subjects[-1]})",
                                                                        f"/api/lab/subjects/{subjects[-1]}")]:
            offset = log_offset(server)
            page.get(path)
            time.sleep(0.5)
            sections.append((title, plans_since(server, offset)))
        with open(plans_file, "w") as f:
            for title, text in sections:
                f.write(f"==== {title} ====\n{text}\n\n")
        out["plans"] = plans_file
        out["ok"] = (out["warm_ms"]["overview"]["p95"] < 200 and out["warm_ms"]["subject"]["p95"] < 200)
    finally:
        if page:
            page.stop()
        server.stop()
    if not args.keep and not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
        del out["workdir"]
    print(json.dumps(out, indent=2))
    return 0 if out.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
