#!/usr/bin/python3
"""Host-path benchmarks of issue 9 (docs/performance.md, "Host path (issue 9)"); prints one JSON object.

  host_path.py latency  [--speed 50] [--trials 10000]   device event -> committed -> published, time-compressed
  host_path.py realtime [--minutes 15]                 the same at speed 1, device in its own rig-vmcu process,
                                                       plus the rig process's CPU (% of one core) and RSS
  host_path.py soak     [--speed 200] [--hours 8]      RSS and CPU time per trial over a long simulated session
  host_path.py soak --build build/<asan> --hours 1     the same under AddressSanitizer/LeakSanitizer
  host_path.py status-load [--minutes 3]               issue 20: a real-time session alone, then with 100 clients
                                                       polling /api/status and 200 WebSocket clients: trial
                                                       timing (go cue -> valve, ITI), faults, link, side by side
  host_path.py alerts-hang [--minutes 3]               issue 17: a real-time session with a mouse that misses,
                                                       without alerts, then raising an alert every second miss
                                                       to a webhook that accepts and never answers: trial
                                                       timing side by side
  add --quick to any mode for a run of a few seconds (the smoke check)

Every run uses `rig run ... --serve --port 0 --latency-log FILE` with the benchmark subject and protocol copies
in tests/bench/host_path/ (no daily water cap, no session volume cap, 600-minute limit; the real-time copy has a
200 ms ITI), a fresh database in a temporary directory, and one WebSocket client connected to the dashboard so
every trial's event is really sent. The latency log has one line per trial: trial number and steady-clock
nanoseconds when the link delivered the result (t0), when its store transaction returned (t1) and when its
dashboard event was handed to publish (t2); see TrialTiming in host/session/session_runner.hpp.
"""
import argparse
import base64
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def proc_sample(pid):
    """(monotonic ns, CPU seconds user+system, RSS MB) of a process, from /proc."""
    now = time.monotonic_ns()
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14, 15)
    with open(f"/proc/{pid}/status") as f:
        rss_kb = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
    return now, cpu, rss_kb / 1024.0


def percentile(sorted_values, q):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, int(-(-q * len(sorted_values) // 100)) - 1))
    return sorted_values[k]


def stats_ms(values_ns):
    v = sorted(values_ns)
    ms = lambda x: None if x is None else round(x / 1e6, 3)
    return {"n": len(v), "p50_ms": ms(percentile(v, 50)), "p99_ms": ms(percentile(v, 99)),
            "max_ms": ms(v[-1] if v else None)}


def read_latency_log(path):
    rows = []
    with open(path) as f:
        for line in f:
            trial, t0, t1, t2 = (int(x) for x in line.split())
            rows.append((trial, t0, t1, t2))
    return rows


def latency_summary(rows):
    commit = [t1 - t0 for _, t0, t1, _ in rows if t0 and t1]
    publish = [t2 - t0 for _, t0, _, t2 in rows if t0 and t2]
    return {"commit_t1_minus_t0": stats_ms(commit), "publish_t2_minus_t0": stats_ms(publish)}


def ws_handshake(port):
    """A socket on /ws, the upgrade request sent (the answer is read with the frames)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    return s



def watch_dashboard(port, stop):
    """A WebSocket client on /ws that reads and discards every frame (so publish really sends)."""
    try:
        s = ws_handshake(port)
        s.settimeout(0.5)
        received = 0
        while not stop.is_set():
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                break
            received += len(chunk)
        stop.bytes = received
        s.close()
    except OSError as e:
        stop.error = str(e)


def db_health(db_path):
    """Trial outcomes and event kinds of the (only) session in the database."""
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    outcomes = dict(con.execute("SELECT outcome, count(*) FROM trials GROUP BY outcome").fetchall())
    events = dict(con.execute("SELECT kind, count(*) FROM events GROUP BY kind").fetchall())
    faults = [row[0] for row in con.execute("SELECT detail_json FROM events WHERE kind = 'fault' LIMIT 10")]
    con.close()
    return {"outcomes": outcomes, "events": events, "faults": faults}


class RigRun:
    """`rig run` in the background with the benchmark inputs, sampled from /proc."""

    def __init__(self, args, workdir, device, speed, protocol, max_trials=1000000, config=None):
        self.log = os.path.join(workdir, "latency.log")
        self.db = os.path.join(workdir, "bench.sqlite")
        self.stderr_path = os.path.join(workdir, "rig.stderr")
        cmd = [os.path.join(args.build, "host", "rig"), "run", "--subject", "BENCH001",
               "--subjects", os.path.join(HERE, "host_path", "subjects.yaml"),
               "--protocol", os.path.join(HERE, "host_path", protocol), "--device", device,
               "--speed", str(speed), "--max-trials", str(max_trials), "--db", self.db, "--seed", "9",
               "--crt", "0", "--serve", "--port", "0", "--quiet", "--json-summary", "--latency-log", self.log,
               # today's weight (issue 17): the benchmark subject has no simulated body on a device over a pty
               "--weight", "25"]
        if config:
            cmd += ["--config", config]
        self.command = " ".join(cmd)
        self.stderr = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        self.samples = []
        self.watch_stop = threading.Event()
        self.watcher = None
        self.port = self._dashboard_port()
        if self.port:
            self.watcher = threading.Thread(target=watch_dashboard, args=(self.port, self.watch_stop), daemon=True)
            self.watcher.start()

    def _dashboard_port(self):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.proc.poll() is None:
            with open(self.stderr_path) as f:
                m = re.search(r"dashboard at http://[^:]+:(\d+)", f.read())
            if m:
                return int(m.group(1))
            time.sleep(0.05)
        return None

    def sample(self):
        try:
            self.samples.append(proc_sample(self.proc.pid))
        except (OSError, AttributeError):
            pass

    def run_for(self, wall_seconds, sample_every, until_exit=False):
        """Samples every `sample_every` s; after `wall_seconds` stops the session with SIGINT (unless it ended)."""
        start = time.monotonic()
        while self.proc.poll() is None:
            self.sample()
            if not until_exit and time.monotonic() - start >= wall_seconds:
                self.proc.send_signal(signal.SIGINT)
                break
            time.sleep(sample_every if until_exit else
                       max(0.0, min(sample_every, wall_seconds - (time.monotonic() - start))))
        return self.finish()

    def finish(self):
        out, _ = self.proc.communicate(timeout=600)
        self.watch_stop.set()
        if self.watcher:
            self.watcher.join(5)
        self.stderr.close()
        try:
            summary = json.loads(out)
        except ValueError:
            summary = {"unparsed_stdout": out[-2000:]}
        with open(self.stderr_path) as f:
            err = f.read()
        rows = read_latency_log(self.log) if os.path.exists(self.log) else []
        return {"exit_code": self.proc.returncode, "summary": summary, "stderr_tail": err[-3000:], "rows": rows,
                "dashboard_bytes": getattr(self.watch_stop, "bytes", None),
                "dashboard_error": getattr(self.watch_stop, "error", None)}


def session_facts(result, db):
    s = result["summary"]
    facts = {"exit_code": result["exit_code"], "end_reason": s.get("end_reason"), "trials": s.get("trials"),
             "misses": s.get("misses"), "link": s.get("link"), "dashboard_bytes_received": result["dashboard_bytes"]}
    if result["dashboard_error"]:
        facts["dashboard_error"] = result["dashboard_error"]
    if os.path.exists(db):
        facts.update(db_health(db))
    return facts


def cpu_rss_window(samples, rows, skip_s=0.0):
    """CPU % of one core and RSS over the samples taken while trials ran (after `skip_s` of warm-up)."""
    if not rows:
        return {}
    first_trial = rows[0][1] + int(skip_s * 1e9)
    window = [s for s in samples if first_trial <= s[0] <= rows[-1][1]]
    if len(window) < 2:
        return {}
    (ta, ca, _), (tb, cb, _) = window[0], window[-1]
    rss = [s[2] for s in window]
    trials = sum(1 for r in rows if ta <= r[1] <= tb)
    return {"wall_s": round((tb - ta) / 1e9, 1), "cpu_s": round(cb - ca, 2),
            "cpu_percent_of_one_core": round(100.0 * (cb - ca) / ((tb - ta) / 1e9), 2),
            "trials": trials, "cpu_ms_per_trial": round(1000.0 * (cb - ca) / trials, 3) if trials else None,
            "rss_mb_max": round(max(rss), 1), "rss_mb_last": round(rss[-1], 1)}


def mode_latency(args, workdir):
    trials = 100 if args.quick else args.trials
    run = RigRun(args, workdir, "sim", args.speed, "protocol.yaml", max_trials=trials)
    result = run.run_for(0, 0.5, until_exit=True)
    out = {"mode": "latency", "command": run.command, "speed": args.speed, "device": "sim (in-process virtual MCU)"}
    out["latency"] = latency_summary(result["rows"])
    out["process"] = cpu_rss_window(run.samples, result["rows"])
    out["session"] = session_facts(result, run.db)
    return out, result


def start_vmcu(args, workdir, p_miss=0.0):
    """`rig-vmcu` at speed 1 in its own process (the seeded random mouse, missing a trial with probability
    `p_miss`); returns the process, its command line and once it has published it, its pty."""
    pty_file = os.path.join(workdir, "vmcu.pty")
    cmd = [os.path.join(args.build, "host", "rig-vmcu"), "--speed", "1", "--pty-file", pty_file,
           "--mouse", "random", "--p-miss", str(p_miss), "--seed", "9"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 10
    while not os.path.exists(pty_file) and time.monotonic() < deadline:
        time.sleep(0.05)
    with open(pty_file) as f:
        return proc, cmd, f.read().strip()


def mode_realtime(args, workdir):
    vmcu, vmcu_cmd, pty = start_vmcu(args, workdir)
    try:
        minutes = 0.25 if args.quick else args.minutes
        run = RigRun(args, workdir, "serial:" + pty, 1, "protocol-realtime.yaml")
        result = run.run_for(minutes * 60, 1.0)
    finally:
        vmcu.send_signal(signal.SIGINT)
        _, vmcu_err = vmcu.communicate(timeout=30)
    out = {"mode": "realtime", "command": run.command, "vmcu_command": " ".join(vmcu_cmd), "minutes": minutes}
    out["latency"] = latency_summary(result["rows"])
    # CPU and RSS of the rig process alone, from its first trial on (the connection and set-up excluded).
    out["process"] = cpu_rss_window(run.samples, result["rows"])
    out["session"] = session_facts(result, run.db)
    out["vmcu_stderr_tail"] = vmcu_err[-500:]
    return out, result


def mode_soak(args, workdir):
    hours = 0.05 if args.quick else args.hours
    wall = hours * 3600.0 / args.speed
    sample_every = 600.0 / args.speed  # every 10 simulated minutes
    run = RigRun(args, workdir, "sim", args.speed, "protocol.yaml")
    start_ns = time.monotonic_ns()
    result = run.run_for(wall, sample_every)
    rows = result["rows"]
    # Each sample with its simulated time and the trials completed by then (from the latency log's t0).
    series = []
    t0s = [r[1] for r in rows]
    j = 0
    for t, cpu, rss in run.samples:
        while j < len(t0s) and t0s[j] <= t:
            j += 1
        series.append({"sim_min": round((t - start_ns) / 1e9 * args.speed / 60.0, 1), "cpu_s": round(cpu, 2),
                       "rss_mb": round(rss, 1), "trials": j})

    def at_sim_hour(h):
        candidates = [s for s in series if s["sim_min"] >= h * 60.0]
        return candidates[0] if candidates else series[-1]

    out = {"mode": "soak", "command": run.command, "speed": args.speed, "simulated_hours": hours,
           "wall_s": round(wall, 1), "sample_every_simulated_min": 10}
    running = [s for s in series if s["trials"] > 0]  # from the first trial on: start-up is not a trial's cost
    if running:
        first, last = running[0], running[-1]
        span_min = 60.0 if hours >= 2 else hours * 60.0 / 4  # an hour (shorter runs: a quarter of the run)

        def at(sim_min):
            return next((s for s in running if s["sim_min"] >= sim_min), last)

        def cpu_per_trial(a, b):
            trials = b["trials"] - a["trials"]
            return round(1000.0 * (b["cpu_s"] - a["cpu_s"]) / trials, 3) if trials else None

        hour1 = at(span_min)
        last_start = at(last["sim_min"] - span_min)
        out["rss_mb_after_hour_1"] = hour1["rss_mb"]
        out["rss_mb_end"] = last["rss_mb"]
        out["rss_growth_mb_after_hour_1"] = round(last["rss_mb"] - hour1["rss_mb"], 1)
        out["cpu_ms_per_trial_first_hour"] = cpu_per_trial(first, hour1)
        out["cpu_ms_per_trial_last_hour"] = cpu_per_trial(last_start, last)
        out["trials_first_hour"] = hour1["trials"] - first["trials"]
        out["trials_last_hour"] = last["trials"] - last_start["trials"]
        out["window_minutes"] = span_min
    out["latency"] = latency_summary(rows)
    out["session"] = session_facts(result, run.db)
    err = result["stderr_tail"]
    out["leak_sanitizer"] = ("leaks reported" if "LeakSanitizer" in err else
                             "clean" if "AddressSanitizer" not in err else "asan error")
    out["series"] = series
    return out, result


class DashboardLoad:
    """`pollers` threads each GET /api/status on one keep-alive connection as fast as answers come, and
    `websockets` WebSocket clients (one thread, a selector) that read and discard everything."""

    def __init__(self, port, pollers, websockets):
        import http.client
        import selectors
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.codes, self.latencies_ns, self.errors, self.bytes = {}, [], 0, 0
        self.sockets = []
        for _ in range(websockets):
            try:
                self.sockets.append(ws_handshake(port))
            except OSError:
                self.errors += 1
        self.selector = selectors.DefaultSelector()
        for sock in self.sockets:
            sock.setblocking(False)
            self.selector.register(sock, selectors.EVENT_READ)

        def poll():
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            while not self.stop.is_set():
                t = time.monotonic_ns()
                try:
                    conn.request("GET", "/api/status")
                    res = conn.getresponse()
                    body = res.read()
                    code = res.status
                    if code == 429:  # as a polite client would: wait what it says
                        self.stop.wait(float(res.getheader("Retry-After", "1")))
                except (OSError, http.client.HTTPException):
                    code, body = "error", b""
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                    self.stop.wait(0.1)
                with self.lock:
                    self.codes[code] = self.codes.get(code, 0) + 1
                    if code == 200:
                        self.latencies_ns.append(time.monotonic_ns() - t)
                        self.bytes += len(body)
            conn.close()

        def drain():
            while not self.stop.is_set():
                for key, _ in self.selector.select(timeout=0.2):
                    try:
                        if not key.fileobj.recv(1 << 16):
                            self.selector.unregister(key.fileobj)
                    except OSError:
                        self.selector.unregister(key.fileobj)

        self.threads = [threading.Thread(target=poll, daemon=True) for _ in range(pollers)]
        self.threads.append(threading.Thread(target=drain, daemon=True))
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(15)
        for sock in self.sockets:
            sock.close()
        lat = sorted(self.latencies_ns)
        return {"answers_by_status": {str(k): v for k, v in sorted(self.codes.items(), key=str)},
                "status_200_latency": stats_ms(lat), "status_mean_bytes": round(self.bytes / max(1, len(lat))),
                "websocket_clients": len(self.sockets), "connect_errors": self.errors}


def trial_timing(db_path):
    """Go cue -> valve and the inter-trial gap (one trial's choice -> the next trial armed), device time."""
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    rows = con.execute("SELECT trial_number, armed_device_us, go_cue_device_us, choice_device_us, "
                       "valve_open_device_us FROM trials ORDER BY trial_number").fetchall()
    con.close()
    cue_to_valve = [(v - g) * 1000 for _, _, g, _, v in rows if g is not None and v is not None]
    gaps = [(rows[i + 1][1] - rows[i][3]) * 1000 for i in range(len(rows) - 1)
            if rows[i][3] is not None and rows[i + 1][1] is not None]
    return {"trials": len(rows), "go_cue_to_valve": stats_ms(cue_to_valve), "choice_to_next_armed": stats_ms(gaps)}


def realtime_phase(args, phase_dir, minutes, p_miss=0.0, config=None, load=None):
    """One real-time session in `phase_dir` (rig-vmcu at speed 1, the real-time protocol): `load(port)` (optional)
    starts what runs beside it and returns an object whose finish() gives its figures. Returns the phase's figures
    and the run's result."""
    os.makedirs(phase_dir)
    vmcu, _, pty = start_vmcu(args, phase_dir, p_miss)
    beside = None
    try:
        run = RigRun(args, phase_dir, "serial:" + pty, 1, "protocol-realtime.yaml", config=config)
        if load and run.port:
            beside = load(run.port)
        result = run.run_for(minutes * 60, 1.0)
    finally:
        beside_result = beside.finish() if beside else None
        vmcu.send_signal(signal.SIGINT)
        vmcu.communicate(timeout=30)
    facts = session_facts(result, run.db)
    phase = {"command": run.command, "timing": trial_timing(run.db), "latency": latency_summary(result["rows"]),
             "faults": facts.get("faults", []), "events": facts.get("events", {}), "link": facts.get("link"),
             "outcomes": facts.get("outcomes", {}), "exit_code": result["exit_code"],
             "process": cpu_rss_window(run.samples, result["rows"])}
    if beside_result:
        phase["beside"] = beside_result
    if result["exit_code"] != 0:
        phase["stderr_tail"] = result["stderr_tail"]
    return phase, result


def mode_status_load(args, workdir):
    minutes = 0.25 if args.quick else args.minutes
    out = {"mode": "status-load", "minutes_each": minutes, "pollers": 100, "websockets": 200}
    for phase, loaded in (("alone", False), ("loaded", True)):
        out[phase], result = realtime_phase(args, os.path.join(workdir, phase), minutes,
                                            load=(lambda port: DashboardLoad(port, 100, 200)) if loaded else None)
        if "beside" in out[phase]:
            out[phase]["dashboard_load"] = out[phase].pop("beside")
    return out, result


class HangingReceiver:
    """A webhook receiver on 127.0.0.1 that accepts every connection, reads what comes and never answers."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.connections, self.bytes = [], 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                pass
            else:
                conn.setblocking(False)
                self.connections.append(conn)
            for conn in self.connections:
                try:
                    self.bytes += len(conn.recv(1 << 16))
                except (BlockingIOError, OSError):
                    pass

    def finish(self):
        self.stop.set()
        self.thread.join(5)
        for conn in self.connections:
            conn.close()
        self.listener.close()
        return {"connections_accepted": len(self.connections), "bytes_received": self.bytes}


def mode_alerts_hang(args, workdir):
    minutes = 0.25 if args.quick else args.minutes
    p_miss = 0.3
    out = {"mode": "alerts-hang", "minutes_each": minutes, "p_miss": p_miss}
    with open(os.path.join(ROOT, "config", "rig.sim.yaml")) as f:
        rig_yaml = f.read()
    for phase, hanging in (("no_alerts", False), ("hanging_webhook", True)):
        receiver = HangingReceiver() if hanging else None
        config = os.path.join(workdir, phase + ".yaml")
        with open(config, "w") as f:
            f.write(rig_yaml)
            if receiver:
                # Two misses in a row are an alert: about one alert in ten trials at p_miss 0.3.
                f.write(f"\nalerts:\n  webhook_url: http://127.0.0.1:{receiver.port}/hook\n"
                        "  disengaged_trials: 2\n")
        try:
            out[phase], result = realtime_phase(args, os.path.join(workdir, phase), minutes, p_miss, config)
        finally:
            if receiver:
                out.setdefault(phase, {})["receiver"] = receiver.finish()
    return out, result


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["latency", "realtime", "soak", "status-load", "alerts-hang"])
    p.add_argument("--build", default=os.path.join(ROOT, "build", "release"), help="build directory (Release)")
    p.add_argument("--speed", type=float, default=None)
    p.add_argument("--trials", type=int, default=10000, help="latency: trials")
    p.add_argument("--minutes", type=float, default=None, help="realtime (15), status-load and alerts-hang (3 each): wall minutes")
    p.add_argument("--hours", type=float, default=8, help="soak: simulated hours")
    p.add_argument("--quick", action="store_true", help="a few seconds (smoke check)")
    p.add_argument("--keep", action="store_true", help="keep the work directory (database, logs)")
    p.add_argument("--series", action="store_true", help="soak: include every sample in the output")
    args = p.parse_args()
    if args.speed is None:
        args.speed = {"latency": 50.0, "soak": 200.0, "realtime": 1.0, "status-load": 1.0, "alerts-hang": 1.0}[args.mode]
    if args.minutes is None:
        args.minutes = 3.0 if args.mode in ("status-load", "alerts-hang") else 15.0
    workdir = tempfile.mkdtemp(prefix="rig-bench-host-")
    out, result = {"latency": mode_latency, "realtime": mode_realtime, "soak": mode_soak,
                   "status-load": mode_status_load, "alerts-hang": mode_alerts_hang}[args.mode](args, workdir)
    out["date"] = time.strftime("%Y-%m-%d")
    if args.mode == "soak" and not args.series:
        out["series"] = out["series"][:: max(1, len(out["series"]) // 12)]
    if args.keep:
        out["workdir"] = workdir
    else:
        subprocess.run(["rm", "-rf", workdir])
    latency = {"status-load": lambda: out["loaded"]["latency"], "alerts-hang": lambda: out["hanging_webhook"]["latency"]}.get(
        args.mode, lambda: out["latency"])()
    ok = result["exit_code"] == 0 and latency["commit_t1_minus_t0"]["n"] > 0
    if args.mode == "soak":
        ok = ok and out["leak_sanitizer"] == "clean"
    if not ok:
        out["stderr_tail"] = result["stderr_tail"]
    out["ok"] = ok
    print(json.dumps(out, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
