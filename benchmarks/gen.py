"""Benchmark `cspec gen` on the synthetic workspaces of `benchmarks/synth.py`.

For each size N it reports, as a Markdown table: the whole-process wall time of `cspec gen
benchmarks/out/<N> --out <empty folder>` (every target, every file written; median and best
of K runs, interpreter start-up included), its CPU time, its peak RSS, the same for a
regeneration with nothing changed (the plan finds every file unchanged and writes nothing),
the time per step from an in-process driver (analysis, the generators, plan and write), and
the files and bytes generated. Each run is a fresh child process.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.check import calibration, run_child
from benchmarks.synth import OUT, generate

TARGETS = {1000: (5.0, 400), 5000: (25.0, None)}  # N -> (seconds, MB), from issue 3
STEPS = ("analysis", "generate", "write")
DRIVER = """\
import gc, json, sys, time
from pathlib import Path
from contractspec.cli.main import BATCH_GC_THRESHOLD
gc.set_threshold(*BATCH_GC_THRESHOLD)  # as `cspec gen` runs
from contractspec.analysis import analyze_workspace
from contractspec.generators.pipeline import generate
from contractspec.generators.writer import apply, plan
t0 = time.perf_counter()
analysis = analyze_workspace([Path(sys.argv[1])])
t1 = time.perf_counter()
output = generate(analysis)
t2 = time.perf_counter()
apply(plan(Path(sys.argv[2]), output))
t3 = time.perf_counter()
print(json.dumps({"analysis": t1 - t0, "generate": t2 - t1, "write": t3 - t2,
                  "files": len(output.files),
                  "bytes": sum(len(c) for c in output.files.values())}))
"""


@dataclass
class Result:
    n: int
    files: int = 0
    megabytes: float = 0.0
    cold: list[float] = field(default_factory=list)
    cold_cpu: list[float] = field(default_factory=list)
    cold_rss: list[float] = field(default_factory=list)
    warm: list[float] = field(default_factory=list)
    warm_rss: list[float] = field(default_factory=list)
    steps: dict[str, list[float]] = field(default_factory=dict)


def gen_command(workspace: Path, out: Path) -> list[str]:
    cspec = shutil.which("cspec")
    if cspec:
        return [cspec, "gen", str(workspace), "--out", str(out)]
    return [sys.executable, "-m", "contractspec.cli.main", "gen", str(workspace), "--out",
            str(out)]


def measure(n: int, runs: int, out: Path) -> Result:
    workspace = out / str(n)
    if not (workspace / "cspec.toml").is_file():
        generate(n, workspace)
    result = Result(n)
    with tempfile.TemporaryDirectory(prefix="cspec-gen-bench-") as tmp:
        run_child(gen_command(workspace, Path(tmp) / "warmup"))  # bytecode, grammar cache
        for i in range(runs):
            target = Path(tmp) / f"run{i}"
            cold = run_child(gen_command(workspace, target))
            if cold.code != 0:
                raise SystemExit(f"cspec gen of {workspace} failed with exit code {cold.code}")
            warm = run_child(gen_command(workspace, target))
            result.cold.append(cold.seconds)
            result.cold_cpu.append(cold.cpu)
            result.cold_rss.append(cold.rss_mb)
            result.warm.append(warm.seconds)
            result.warm_rss.append(warm.rss_mb)
            driven = run_child([sys.executable, "-c", DRIVER, str(workspace),
                                str(Path(tmp) / f"driver{i}")])
            stats = json.loads(driven.stdout)
            result.files, result.megabytes = stats["files"], stats["bytes"] / 1e6
            for step in STEPS:
                result.steps.setdefault(step, []).append(stats[step])
            shutil.rmtree(target)
            shutil.rmtree(Path(tmp) / f"driver{i}")
    return result


def table(results: list[Result], conditions: str) -> str:
    head = ["N", "files", "MB written", "gen wall median (s)", "best (s)", "CPU (s)",
            "peak RSS (MB)", "regen, no change (s)", "regen RSS (MB)",
            *(f"{s} (s)" for s in STEPS), "target"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
    for r in results:
        wall, rss = statistics.median(r.cold), max(r.cold_rss)
        verdict = "-"
        if r.n in TARGETS:
            seconds, megabytes = TARGETS[r.n]
            ok = wall <= seconds and (megabytes is None or rss <= megabytes)
            limit = f"≤ {seconds} s" + (f", ≤ {megabytes} MB" if megabytes else "")
            verdict = f"{'met' if ok else 'MISSED'} ({limit})"
        cells = [str(r.n), f"{r.files:,}", f"{r.megabytes:.1f}", f"{wall:.2f}",
                 f"{min(r.cold):.2f}", f"{statistics.median(r.cold_cpu):.2f}", f"{rss:.0f}",
                 f"{statistics.median(r.warm):.2f}", f"{max(r.warm_rss):.0f}",
                 *(f"{statistics.median(r.steps[s]):.2f}" for s in STEPS), verdict]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join([f"Whole process: `cspec gen PATH --out EMPTY` (every target); median of "
                      f"{len(results[0].cold)} runs. {conditions}", "", *rows])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("sizes", nargs="*", type=int, default=[100, 1000, 5000])
    parser.add_argument("-k", "--runs", type=int, default=3, help="runs per size (default 3)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    load, speed = os.getloadavg()[0], calibration()
    results = [measure(n, args.runs, args.out) for n in args.sizes]
    conditions = (f"Load average {load:.1f} before, {os.getloadavg()[0]:.1f} after; "
                  f"calibration loop {speed:.2f} s before, {calibration():.2f} s after.")
    print(table(results, conditions))


if __name__ == "__main__":
    main()
