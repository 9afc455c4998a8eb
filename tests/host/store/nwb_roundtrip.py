#!/usr/bin/python3
"""Reads an NWB file `rig export --format nwb` wrote back with h5py and checks it against the CSV exports of the
same session (rig export --format csv: trials, wheel, licks, sync, frames):

  every trial column equals the CSV's (NULL: NaN for numbers and flags, empty text), the trial ids are the trial
  numbers, the wheel's data equals the CSV's position_ticks and data * conversion its radians, every series'
  timestamps are non-decreasing and their differences equal the device's (to the microsecond on the rig's clock;
  within 100 ppm on an ephys clock), start_time <=
  stop_time <= the next start_time, the root's attributes and times are NWB's.

usage: nwb_roundtrip.py FILE.nwb CSV_DIR   (CSV_DIR holds trials.csv, wheel.csv, licks.csv, sync.csv, frames.csv)
Prints a JSON summary; exit 0 when everything agrees, 1 listing each disagreement, 2 on bad usage.
Needs Debian's python3-h5py and numpy (scripts/setup)."""
import csv
import json
import math
import os
import re
import sys

import h5py
import numpy as np

problems = []


def problem(text):
    problems.append(text)


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def same(nwb_value, csv_value, column):
    """One cell: the NWB value read by h5py against the CSV's text."""
    if isinstance(nwb_value, (bytes, str)):
        return text(nwb_value) == csv_value
    if isinstance(nwb_value, (bool, np.bool_)):
        return csv_value == ("1" if nwb_value else "0")
    if isinstance(nwb_value, (float, np.floating)):
        if math.isnan(nwb_value):
            return csv_value == ""
        return csv_value != "" and float(csv_value) == float(nwb_value)
    return csv_value != "" and int(csv_value) == int(nwb_value)


def check_monotone(name, timestamps):
    if len(timestamps) and np.any(np.diff(timestamps) < 0):
        at = int(np.argmax(np.diff(timestamps) < 0))
        problem(f"{name}: timestamps go back at index {at + 1} ({timestamps[at]} then {timestamps[at + 1]})")


def check_device_spacing(name, timestamps, device_us):
    """Within one clock segment, timestamps differ as the device times do."""
    if len(timestamps) < 2:
        return
    dt_s = np.diff(np.asarray(timestamps, dtype=np.float64))
    dd_s = np.diff(np.asarray(device_us, dtype=np.int64)) / 1e6
    same_segment = dd_s >= 0
    # A microsecond of rounding, and on an ephys clock up to 100 ppm of drift between the two clocks.
    excess = np.abs(dt_s - dd_s) - (1.5e-6 + 1e-4 * np.abs(dd_s))
    worst = np.max(excess[same_segment]) if np.any(same_segment) else 0.0
    if worst > 0:
        problem(f"{name}: an interval differs from the device's by {worst * 1e6:.3f} us more than allowed")


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    path, csv_dir = sys.argv[1], sys.argv[2]
    summary = {}
    with h5py.File(path, "r") as f:
        if text(f.attrs.get("nwb_version", "")) != "2.6.0":
            problem(f"nwb_version is {f.attrs.get('nwb_version')!r}, not 2.6.0")
        for key in ("session_start_time", "timestamps_reference_time"):
            value = text(f[key][()])
            if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d", value):
                problem(f"{key} {value!r} is not ISO 8601 with a time zone")
        identifier = text(f["identifier"][()])
        if not re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", identifier):
            problem(f"identifier {identifier!r} is not a uuid")
        summary["identifier"] = identifier

        # Trials: every CSV column, in order, then the file's times.
        trials_csv = read_csv(os.path.join(csv_dir, "trials.csv"))
        table = f["intervals/trials"]
        colnames = [text(c) for c in table.attrs["colnames"]]
        csv_columns = list(trials_csv[0].keys()) if trials_csv else []
        for column in csv_columns:
            if column not in colnames:
                problem(f"trials: the CSV's column {column} is not in the NWB table")
                continue
            values = table[column][:]
            if len(values) != len(trials_csv):
                problem(f"trials/{column}: {len(values)} rows, the CSV has {len(trials_csv)}")
                continue
            for i, row in enumerate(trials_csv):
                if not same(values[i], row[column], column):
                    problem(f"trials/{column} row {i}: NWB {values[i]!r}, CSV {row[column]!r}")
                    break
        ids = table["id"][:]
        if [int(x) for x in ids] != [int(r["trial_number"]) for r in trials_csv]:
            problem("trials/id is not the trial numbers")
        start, stop = table["start_time"][:], table["stop_time"][:]
        check_monotone("trials/start_time", start)
        if np.any(stop < start):
            problem("trials: a stop_time before its start_time")
        if len(start) > 1 and np.any(stop[:-1] > start[1:] + 1e-9):
            problem("trials: a stop_time after the next trial's start_time")
        armed = [int(r["armed_device_us"]) if r["armed_device_us"] else None for r in trials_csv]
        both = [i for i, a in enumerate(armed) if a is not None]
        check_device_spacing("trials/start_time", start[both], [armed[i] for i in both])
        summary["trials"] = len(trials_csv)
        summary["trial_columns"] = len(colnames)

        behavior = f["processing/behavior"]
        # The wheel: ticks, radians, times.
        wheel_csv = read_csv(os.path.join(csv_dir, "wheel.csv"))
        if wheel_csv:
            wheel = behavior["wheel_position"]
            data = wheel["data"][:]
            ticks = np.array([int(r["position_ticks"]) for r in wheel_csv], dtype=np.int64)
            t_us = np.array([int(r["t_us"]) for r in wheel_csv], dtype=np.int64)
            conversion = float(wheel["data"].attrs["conversion"])
            if text(wheel["data"].attrs["unit"]) != "radians":
                problem("wheel_position: data's unit is not radians")
            if len(data) != len(ticks) or np.any(data != ticks):
                problem(f"wheel_position: data differs from the CSV's position_ticks ({len(data)} vs {len(ticks)} samples)")
            else:
                ticks_per_rev = round(2 * math.pi / conversion)
                radians = data * conversion
                if np.max(np.abs(radians - ticks * 2 * math.pi / ticks_per_rev)) > 1e-9:
                    problem("wheel_position: data * conversion is not ticks * 2 pi / ticks_per_rev")
            timestamps = wheel["timestamps"][:]
            check_monotone("wheel_position", timestamps)
            check_device_spacing("wheel_position", timestamps, t_us)
            if wheel["timestamps"].compression != "gzip" or wheel["data"].compression != "gzip":
                problem("wheel_position: not gzip-compressed")
        elif "wheel_position" in behavior:
            problem("wheel_position exists without wheel samples")
        summary["wheel_samples"] = len(wheel_csv)

        # Licks per spout (+1 onset, -1 offset), sync edges, camera frames.
        licks_csv = read_csv(os.path.join(csv_dir, "licks.csv"))
        for spout in ("cherry", "grape"):
            rows = [r for r in licks_csv if r["spout"] == spout]
            name = f"licks_{spout}"
            if not rows:
                if name in behavior:
                    problem(f"{name} exists without licks")
                continue
            series = behavior[name]
            expected = [1 if r["onset"] == "1" else -1 for r in rows]
            if [int(x) for x in series["data"][:]] != expected:
                problem(f"{name}: data differs from the CSV's onsets")
            check_monotone(name, series["timestamps"][:])
            check_device_spacing(name, series["timestamps"][:], [int(r["device_us"]) for r in rows])
        summary["lick_edges"] = len(licks_csv)
        sync_csv = read_csv(os.path.join(csv_dir, "sync.csv"))
        if sync_csv:
            series = behavior["sync_pulses"]
            if [int(x) for x in series["data"][:]] != [int(r["edge_index"]) for r in sync_csv]:
                problem("sync_pulses: data differs from the CSV's edge_index")
            check_monotone("sync_pulses", series["timestamps"][:])
            check_device_spacing("sync_pulses", series["timestamps"][:], [int(r["device_us"]) for r in sync_csv])
        summary["sync_edges"] = len(sync_csv)
        frames_csv = read_csv(os.path.join(csv_dir, "frames.csv"))
        if frames_csv:
            series = behavior["camera_frames"]
            if len(series["data"]) != len(frames_csv):
                problem(f"camera_frames: {len(series['data'])} frames, the CSV has {len(frames_csv)}")
            check_device_spacing("camera_frames", series["timestamps"][:], [int(r["device_us"]) for r in frames_csv])
        summary["camera_frames"] = len(frames_csv)
        for name in ("go_cues", "valve_cherry", "valve_grape"):
            if name in behavior:
                check_monotone(name, behavior[name]["timestamps"][:])
        summary["analysis"] = sorted(f["analysis"].keys())

    summary["problems"] = problems
    print(json.dumps(summary, indent=1))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
