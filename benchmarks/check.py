"""Benchmark `cspec check` on the synthetic workspaces of `benchmarks/synth.py`.

For each size N it reports, as a Markdown table: the whole-process wall time of checking
`benchmarks/out/<N>` (median and best of K runs, interpreter start-up included), its CPU
time (user + system; steadier than wall time on a shared machine), the peak RSS of that
process, the time per phase (from `Analysis.stats.seconds`, median over the
runs), and the lines per second of the parser alone (`parse_source` over every file, in
this process, after the parser is built).

Each run is a fresh child process: `cspec check PATH` when the CLI is installed (else an
equivalent `python -c` driver around `analyze_workspace`), plus a driver run per repetition
that reports the phase times as JSON. One unmeasured run first writes the bytecode and
Lark's grammar cache, as any earlier use of an installed cspec would have.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.synth import OUT, generate

TARGETS = {1000: (1.5, 250), 5000: (6.0, 800)}  # N -> (seconds, MB), from issue 2
PHASES = ("read", "parse", "lower", "modules", "check")
DRIVER = """\
import json, sys
from pathlib import Path
from contractspec.analysis import analyze_workspace
a = analyze_workspace([Path(sys.argv[1])])
print(json.dumps({"seconds": a.stats.seconds, "files": a.stats.files, "lines": a.stats.lines,
                  "diagnostics": len(a.diagnostics)}))
"""


@dataclass
class Run:
    seconds: float
    cpu: float
    rss_mb: float
    stdout: str
    code: int


@dataclass
class Result:
    n: int
    files: int = 0
    lines: int = 0
    diagnostics: int = 0
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)
    phases: dict[str, list[float]] = field(default_factory=dict)
    parser_lines_per_second: float = 0.0


def run_child(command: list[str]) -> Run:
    """Run a command; its wall time, CPU time and peak RSS (from wait4, this child only).

    Bytecode may be written (as an installed package has it), whatever the environment says.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               env=env)
    assert process.stdout is not None
    stdout = process.stdout.read().decode("utf-8", errors="replace")
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    process.stdout.close()
    return Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, stdout,
               process.returncode)


def check_command(workspace: Path, runner: str) -> list[str]:
    if runner == "cli":
        cspec = shutil.which("cspec")
        return [cspec or "cspec", "check", str(workspace)]
    return [sys.executable, "-c", DRIVER, str(workspace)]


def parser_speed(workspace: Path) -> float:
    """Lines per second of `parse_source` alone over every spec file of a workspace."""
    from contractspec.grammar.parser import get_parser, parse_source
    from contractspec.source import SourceFile

    get_parser()
    sources = [SourceFile(str(p), p.read_text(encoding="utf-8"))
               for p in sorted(workspace.rglob("*.cspec"))]
    lines = sum(s.line_count for s in sources)
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for source in sources:
            parse_source(source)
        best = min(best, time.perf_counter() - started)
    return lines / best


def measure(n: int, runs: int, runner: str, out: Path) -> Result:
    workspace = out / str(n)
    if not (workspace / "cspec.toml").is_file():
        generate(n, workspace)
    result = Result(n)
    run_child(check_command(workspace, runner))  # warm-up: bytecode, Lark's grammar cache
    for _ in range(runs):
        timed = run_child(check_command(workspace, runner))
        if timed.code not in (0, 1):
            raise SystemExit(f"check of {workspace} failed with exit code {timed.code}")
        result.walls.append(timed.seconds)
        result.cpus.append(timed.cpu)
        result.rss.append(timed.rss_mb)
        driven = timed if runner == "driver" else run_child(check_command(workspace, "driver"))
        stats = json.loads(driven.stdout)
        result.files, result.lines = stats["files"], stats["lines"]
        result.diagnostics = stats["diagnostics"]
        for phase in PHASES:
            result.phases.setdefault(phase, []).append(stats["seconds"].get(phase, 0.0))
    result.parser_lines_per_second = parser_speed(workspace)
    return result


def calibration() -> float:
    """Seconds of a fixed pure-Python loop: how fast this machine is right now."""
    started = time.process_time()
    total = 0
    for i in range(3_000_000):
        total += i
    return time.process_time() - started


def table(results: list[Result], runner: str, conditions: str) -> str:
    head = ["N", "files", "lines", "wall median (s)", "wall best (s)", "CPU median (s)",
            "peak RSS (MB)",
            *(f"{p} (s)" for p in PHASES), "parser lines/s", "diagnostics", "target"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
    for r in results:
        target = TARGETS.get(r.n)
        wall, rss = statistics.median(r.walls), max(r.rss)
        verdict = "-"
        if target is not None:
            ok = wall <= target[0] and rss <= target[1]
            verdict = f"{'met' if ok else 'MISSED'} (≤ {target[0]} s, ≤ {target[1]} MB)"
        cells = [str(r.n), str(r.files), f"{r.lines:,}", f"{wall:.2f}", f"{min(r.walls):.2f}",
                 f"{statistics.median(r.cpus):.2f}", f"{rss:.0f}",
                 *(f"{statistics.median(r.phases[p]):.2f}" for p in PHASES),
                 f"{r.parser_lines_per_second:,.0f}", str(r.diagnostics), verdict]
        rows.append("| " + " | ".join(cells) + " |")
    what = "`cspec check`" if runner == "cli" else "`python -c` driver around `analyze_workspace`"
    return "\n".join([f"Whole process: {what}; median of {len(results[0].walls)} runs. "
                      f"{conditions}", "", *rows])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("sizes", nargs="*", type=int, default=[100, 1000, 5000])
    parser.add_argument("-k", "--runs", type=int, default=5, help="runs per size (default 5)")
    parser.add_argument("--runner", choices=("auto", "cli", "driver"), default="auto",
                        help="what to time: `cspec check` (cli), or analyze_workspace (driver)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    runner = args.runner
    if runner == "auto":
        runner = "cli" if shutil.which("cspec") and _cli_importable() else "driver"
    load, speed = os.getloadavg()[0], calibration()
    results = [measure(n, args.runs, runner, args.out) for n in args.sizes]
    conditions = (f"Load average {load:.1f} before, {os.getloadavg()[0]:.1f} after; "
                  f"calibration loop {speed:.2f} s before, {calibration():.2f} s after.")
    print(table(results, runner, conditions))


def _cli_importable() -> bool:
    try:
        import contractspec.cli.main  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()
