#!/usr/bin/env python3
"""Sums `cargo test` output across test binaries: passed, failed and ignored
(skipped) tests, each skipped one named with its reason. With
`--allow-ignored NAME...` (matched as cargo test filters are: a part of the
test path) it exits 1 when any other test was skipped, so a
skip can never pass for a pass in CI."""
import re
import sys


def main() -> int:
    args = sys.argv[1:]
    if not args:
        print("usage: test_summary.py CARGO_TEST_LOG [--allow-ignored NAME...]")
        return 2
    log = args[0]
    allowed = args[args.index("--allow-ignored") + 1:] if "--allow-ignored" in args else None
    totals = {"passed": 0, "failed": 0, "ignored": 0}
    skipped = []
    with open(log, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = re.match(r"^test (\S+) \.\.\. ignored(?:, (.*))?$", line.rstrip())
            if m:
                skipped.append((m.group(1), m.group(2) or "no reason given"))
            m = re.match(r"^test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored", line)
            if m:
                for k, v in zip(("passed", "failed", "ignored"), m.groups()):
                    totals[k] += int(v)
    for name, why in skipped:
        print(f"skipped: {name} ({why})")
    print(f"tests: {totals['passed']} passed, {totals['failed']} failed, "
          f"{totals['ignored']} skipped (ignored)")
    if totals["passed"] == 0:
        print("no test ran")
        return 1
    if allowed is not None:
        unexpected = [n for n, _ in skipped if not any(a in n for a in allowed)]
        if unexpected:
            print(f"{len(unexpected)} test(s) skipped that must run here: {', '.join(unexpected)}")
            return 1
    return 1 if totals["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
