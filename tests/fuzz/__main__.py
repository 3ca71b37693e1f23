"""The long mode: `python -m tests.fuzz --cases 100000 --jobs 2 --out fuzz-failures`.

Runs the properties of tests/fuzz/properties.py on mutated repository specs (four cases in
five) and on generated valid specs (one in five; every hundredth generated app also goes
through ruff), in `--jobs` processes with distinct seeds. Failures do not stop the run: each
distinct one (exception type and message, location) is counted and its smallest input saved
under `--out`. Prints a summary; exit code 1 when anything failed.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import traceback
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import hypothesis
from hypothesis import given, settings

from tests.fuzz.mutations import mutate
from tests.fuzz.properties import check_text, check_valid, ruff_problems
from tests.fuzz.settings import fuzz, repository_specs
from tests.fuzz.strategies import valid_specs

Failures = dict[str, tuple[int, str]]  # signature -> (count, smallest input)


def _signature(error: BaseException) -> str:
    frame = traceback.extract_tb(error.__traceback__)[-1]
    return f"{type(error).__name__}: {str(error)[:160]} @ {Path(frame.filename).name}:" \
           f"{frame.lineno}"


def _record(failures: Failures, error: BaseException, text: str) -> None:
    key = _signature(error)
    count, smallest = failures.get(key, (0, text))
    failures[key] = (count + 1, text if len(text) < len(smallest) else smallest)


def _progress(seed: int, kind: str, done: int, cases: int, failures: Failures) -> None:
    """A line on stderr at every tenth of a phase: the long mode runs for hours."""
    if cases >= 10 and done % (cases // 10) == 0:
        found = sum(count for count, _ in failures.values())
        print(f"fuzz (seed {seed}): {done:,}/{cases:,} {kind}, {found} failure(s), "
              f"{time.strftime('%H:%M:%S')}", file=sys.stderr, flush=True)


def _mutations(cases: int, seed: int, failures: Failures) -> None:
    specs = repository_specs()
    names = sorted(specs)
    rng = random.Random(seed)
    for done in range(1, cases + 1):
        text, _ = mutate(specs[rng.choice(names)], rng, rng.randint(1, 5))
        try:
            check_text(text)
        except Exception as error:
            _record(failures, error, text)
        _progress(seed, "mutated specs", done, cases, failures)


def _valid(cases: int, seed: int, failures: Failures) -> Counter[str]:
    """Run `cases` generated valid specs (hypothesis may run a few more); what ran, by kind."""
    seen: Counter[str] = Counter()

    # each process its own stream of specs: with the CI settings' derandomize, every process
    # drew the same ones (the first 100,000-case run had 10,000 distinct valid specs, not 20,000)
    @settings(fuzz(cases, shrink=False), derandomize=False)
    @hypothesis.seed(seed)
    @given(valid_specs())
    def run(text: str) -> None:
        seen["valid"] += 1
        try:
            output = check_valid(text)
            if seen["valid"] % 100 == 1:
                seen["ruff"] += 1
                with tempfile.TemporaryDirectory(prefix="cspec-ruff-") as folder:
                    problems = ruff_problems(output, Path(folder))
                assert not problems, problems
        except Exception as error:
            _record(failures, error, text)
        _progress(seed, "generated valid specs", seen["valid"], cases, failures)

    run()
    return seen


def worker(cases: int, seed: int) -> tuple[Counter[str], Failures]:
    """One process's share: four mutated specs in five, then generated valid specs."""
    failures: Failures = {}
    valid = cases // 5
    _mutations(cases - valid, seed, failures)
    ran = _valid(valid, seed, failures)
    ran["mutated"] = cases - valid
    return ran, failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000, help="cases in all")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    parser.add_argument("--seed", type=int, default=int(time.time()), help="first seed")
    parser.add_argument("--out", type=Path, default=Path("fuzz-failures"),
                        help="folder for the smallest input of each failure")
    args = parser.parse_args(argv)
    started = time.monotonic()
    share = [args.cases // args.jobs + (k < args.cases % args.jobs) for k in range(args.jobs)]
    total: Counter[str] = Counter()
    examples: dict[str, str] = {}
    ran: Counter[str] = Counter()
    with ProcessPoolExecutor(args.jobs) as pool:
        for cases, failures in pool.map(worker, share, range(args.seed, args.seed + args.jobs)):
            ran.update(cases)
            for key, (count, text) in failures.items():
                total[key] += count
                if key not in examples or len(text) < len(examples[key]):
                    examples[key] = text
    if examples:
        args.out.mkdir(parents=True, exist_ok=True)
        for k, (key, text) in enumerate(sorted(examples.items())):
            (args.out / f"failure-{k}.cspec").write_text(text, encoding="utf-8",
                                                         errors="surrogatepass")
            (args.out / f"failure-{k}.txt").write_text(key + "\n", encoding="utf-8")
    summary = {"cases": ran["mutated"] + ran["valid"], "mutated specs": ran["mutated"],
               "generated valid specs": ran["valid"], "apps through ruff": ran["ruff"],
               "jobs": args.jobs, "seed": args.seed, "seconds": round(time.monotonic() - started),
               "failures": dict(total.most_common())}
    print(json.dumps(summary, indent=2))
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
