#!/usr/bin/python3
"""Reference fit of the trial-history regression with statsmodels Logit, for the agreement tests and the benchmark.

Builds the design matrix on its own from the trial CSV of `rig fit --csv` (docs/analysis.md), independently of
the C++ code: outcome types none/controllable/distractor/both x lags 1..L, +-1 coding by past choice (right = +1),
misses removed as if they never happened, instructed trials in history but not targets, history restarting at
each session (consecutive runs of the same `session` value), all-zero columns left out. Prints one JSON object:
{"columns": [...], "params": {name: value}, "bse": {...}, "llf": x, "n": rows, "converged": bool,
 "fit_seconds": best time of the fit call alone}.

Run it with Debian's /usr/bin/python3 (python3-statsmodels, python3-pandas).
"""
import argparse
import json
import time
import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm

TYPES = ["none", "controllable", "distractor", "both"]


def design(df, lags):
    df = df.copy()
    if "session" not in df.columns:
        df["session"] = ""
    if "free" not in df.columns:
        df["free"] = 1
    df["session"] = df["session"].fillna("").astype(str)
    df["run"] = (df["session"] != df["session"].shift()).cumsum()
    choice = df["choice"].astype(str).str.lower()
    df = df[choice != "miss"].copy()
    df["sign"] = np.where(choice[df.index] == "r", 1.0, -1.0)
    df["outcome"] = df["controllable"].astype(int) + 2 * df["distractor"].astype(int)
    grouped = df.groupby("run", sort=False)
    columns = {}
    for t, name in enumerate(TYPES):
        for k in range(1, lags + 1):
            past_sign = grouped["sign"].shift(k).fillna(0.0)
            past_outcome = grouped["outcome"].shift(k).fillna(-1)
            columns[f"{name}_{k}"] = past_sign * (past_outcome == t)
    X = pd.DataFrame(columns, index=df.index)
    target = df["free"].astype(int) == 1
    X = X[target]
    y = (df.loc[target, "sign"] > 0).astype(float)
    X = X.loc[:, (X != 0).any(axis=0)]
    X.insert(0, "intercept", 1.0)
    return X, y


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("csv")
    parser.add_argument("--lags", type=int, default=5)
    parser.add_argument("--tol", type=float, default=1e-12, help="statsmodels Newton tolerance on the parameters")
    parser.add_argument("--maxiter", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=1, help="time the fit this many times, report the best")
    args = parser.parse_args()

    X, y = design(pd.read_csv(args.csv, dtype={"session": str, "choice": str}), args.lags)
    best = float("inf")
    result = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(args.repeat):
            start = time.perf_counter()
            result = sm.Logit(y.to_numpy(), X.to_numpy()).fit(method="newton", tol=args.tol, maxiter=args.maxiter,
                                                              disp=0)
            best = min(best, time.perf_counter() - start)
    names = list(X.columns)
    print(json.dumps({
        "columns": names,
        "params": dict(zip(names, map(float, result.params))),
        "bse": dict(zip(names, map(float, result.bse))),
        "llf": float(result.llf),
        "n": int(len(y)),
        "converged": bool(result.mle_retvals["converged"]),
        "fit_seconds": best,
    }))


if __name__ == "__main__":
    main()
