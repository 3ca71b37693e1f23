#!/bin/sh
# The long fuzzing mode (docs/reliability.md). Run from the repository root:
#   benchmarks/fuzz_long.sh                 # 100,000 cases on 2 processes, then the properties
#   CASES=20000 JOBS=1 benchmarks/fuzz_long.sh
# 1. `python -m tests.fuzz`: CASES cases (4 in 5 mutated repository specs, 1 in 5 generated
#    valid specs, every hundredth generated app through ruff); the smallest input of each
#    distinct failure goes to $OUT; a JSON summary is printed.
# 2. The hypothesis properties (tests/fuzz, tests/test_format_properties.py) with EXAMPLES
#    random examples each instead of CI's fixed 40.
set -eu
CASES=${CASES:-100000}
JOBS=${JOBS:-2}
EXAMPLES=${EXAMPLES:-2000}
OUT=${OUT:-fuzz-failures}
export PYTHONPATH="${PYTHONPATH:-$PWD}"
status=0
python -m tests.fuzz --cases "$CASES" --jobs "$JOBS" --out "$OUT" || status=1
CSPEC_FUZZ_EXAMPLES=$EXAMPLES python -m pytest -q -p no:cacheprovider \
    --hypothesis-show-statistics tests/fuzz tests/test_format_properties.py || status=1
exit $status
