#!/usr/bin/python3
"""Per-class summary of a Tempest run.

Reads a subunit v2 stream (`tempest run --subunit`, or `stestr last
--subunit` in the workspace) on stdin and prints, per test class, how many
tests passed, were skipped and failed; then each failed test with the
exception it ended with, and the skip reasons with how many
tests each skipped. A class whose setUpClass failed shows as one failure of
that class. Exits 1 when a test failed.

usage: summary.py < last.subunit   (Debian's python3: python3-subunit)
"""
import collections
import re
import sys

import subunit
import testtools

PASSED = {"success", "xfail"}
SKIPPED = {"skip"}
FAILED = {"fail", "uxsuccess"}

# "setUpClass (tempest.api.compute.x.Cls)" or "tearDownClass (...)"
FIXTURE = re.compile(r"^\w+Class \(([\w.]+)\)$")


def class_of(test_id):
    """The test's class: its id without attributes ("[id-...,smoke]") and method."""
    m = FIXTURE.match(test_id)
    if m:
        return m.group(1)
    return test_id.split("[", 1)[0].rsplit(".", 1)[0]


def detail(test, name):
    """The text of one of the test's attachments ("" when absent)."""
    content = test["details"].get(name)
    if content is None:
        return ""
    return b"".join(content.iter_bytes()).decode("utf-8", "replace")


def last_line(text):
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


# The line a traceback names its exception on: "tempest.lib.exceptions.
# NotFound: ..." or "AssertionError: ..." at the start of a line (Tempest's
# exceptions go on with "Details: ..." and the like on the lines after).
EXCEPTION = re.compile(r"^([A-Za-z_][\w]*\.[\w.]+|\w*(Error|Exception|Failure|Fault|Timeout|Mismatch))(: |$)")


def exception(traceback):
    """The exception a traceback ends with, and the line after it (its details)."""
    lines = traceback.splitlines()
    for i in range(len(lines) - 1, -1, -1):
        if EXCEPTION.match(lines[i]):
            return " | ".join(line.strip() for line in lines[i:i + 2] if line.strip())
    return last_line(traceback)


def main():
    tests = []
    stream = subunit.ByteStreamToStreamResult(sys.stdin.buffer, non_subunit_name="stdout")
    result = testtools.StreamToDict(tests.append)
    result.startTestRun()
    try:
        stream.run(result)
    finally:
        result.stopTestRun()

    counts = collections.defaultdict(lambda: [0, 0, 0])
    failed, skips = [], collections.Counter()
    for t in tests:
        status = t["status"]
        if status in PASSED:
            col = 0
        elif status in SKIPPED:
            col = 1
            skips[last_line(detail(t, "reason")) or "(no reason)"] += 1
        elif status in FAILED:
            col = 2
            failed.append((t["id"], exception(detail(t, "traceback"))))
        else:
            continue
        counts[class_of(t["id"])][col] += 1
    if not counts:
        print("no test ran (see the workspace's logs/tempest.log)")
        return 1

    width = max(len(c) for c in counts)
    print(f"{'class':<{width}}  passed  skipped  failed")
    total = [0, 0, 0]
    for cls in sorted(counts):
        row = counts[cls]
        total = [a + b for a, b in zip(total, row)]
        print(f"{cls:<{width}}  {row[0]:>6}  {row[1]:>7}  {row[2]:>6}")
    print(f"{'total':<{width}}  {total[0]:>6}  {total[1]:>7}  {total[2]:>6}")
    if failed:
        print("\nfailed (the exception of each):")
        for test_id, why in sorted(failed):
            print(f"  {test_id}\n      {why[:300]}")
    if skips:
        print("\nskipped, by reason:")
        for why, n in skips.most_common():
            print(f"  {n:>4}  {why[:200]}")
    return 1 if total[2] else 0


if __name__ == "__main__":
    if len(sys.argv) != 1:
        sys.exit(__doc__)
    sys.exit(main())
