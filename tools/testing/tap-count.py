#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Count the test cases of TAP and KTAP streams.

Usage: tap-count.py [--quiet] FILE...

Each FILE is a TAP or KTAP stream, or a kernel log holding KTAP lines (a
"[  12.345678] " timestamp prefix is stripped). A result line ("ok N ..." or
"not ok N ...") counts as a case when it is a leaf: the result line before
it is not more deeply indented. A parent that failed with no failed leaf
counts as one failure. "# SKIP" marks a skip. A stream with no result at
all counts as one failure. A stream that announced a plan
("1..N") but reported fewer top-level results counts the missing ones as
failures (a test binary that crashed half-way).

Prints the failures, then "N passed, N failed, N skipped" as its last line;
exits 1 if anything failed.
"""
import re
import sys

TS = re.compile(r'^\[\s*\d+\.\d+\]\s?')
RESULT = re.compile(r'^(\s*)(not ok|ok)\s+(\d+)\b\s*-?\s*(.*)$')
PLAN = re.compile(r'^(\s*)1\.\.(\d+)')


def count(path):
    passed = failed = skipped = 0
    failures = []
    prev_indent = None
    # per indentation level: did a leaf fail since the parent began?
    fail_below = {}
    top_plan = None
    top_results = 0
    with open(path, errors='replace') as f:
        for raw in f:
            line = TS.sub('', raw.rstrip('\n'))
            m = PLAN.match(line)
            if m and len(m.group(1)) == 0 and top_plan is None:
                top_plan = int(m.group(2))
                continue
            m = RESULT.match(line)
            if not m:
                continue
            indent = len(m.group(1).expandtabs())
            ok = m.group(2) == 'ok'
            desc = m.group(4)
            skip = re.search(r'#\s*SKIP', desc, re.I) is not None
            if indent == 0:
                top_results += 1
            leaf = prev_indent is None or prev_indent <= indent
            if leaf:
                if skip:
                    skipped += 1
                elif ok:
                    passed += 1
                else:
                    failed += 1
                    failures.append('%s: not ok %s %s' % (path, m.group(3), desc))
                    for lvl in list(fail_below):
                        if lvl < indent:
                            fail_below[lvl] = True
                    fail_below.setdefault(indent - 1, True)
            else:
                below = any(v for lvl, v in fail_below.items() if lvl >= indent)
                if not ok and not skip and not below:
                    failed += 1
                    failures.append('%s: not ok %s %s (no failed case below it)'
                                    % (path, m.group(3), desc))
                for lvl in [l for l in fail_below if l >= indent]:
                    del fail_below[lvl]
            prev_indent = indent
    if passed + failed + skipped == 0 and not failures:
        failed += 1
        failures.append('%s: no test results' % path)
    if top_plan is not None and top_results < top_plan:
        missing = top_plan - top_results
        failed += missing
        failures.append('%s: %d of %d planned results missing'
                        % (path, missing, top_plan))
    return passed, failed, skipped, failures


def main(argv):
    quiet = False
    if argv and argv[0] == '--quiet':
        quiet = True
        argv = argv[1:]
    tp = tf = ts = 0
    allfail = []
    for path in argv:
        try:
            p, f, s, fl = count(path)
        except OSError as e:
            p, f, s, fl = 0, 1, 0, ['%s: %s' % (path, e.strerror)]
        tp, tf, ts = tp + p, tf + f, ts + s
        allfail += fl
        if not quiet:
            print('# %-60s %d passed, %d failed, %d skipped' % (path, p, f, s))
    for line in allfail:
        print('# FAIL ' + line)
    print('%d passed, %d failed, %d skipped' % (tp, tf, ts))
    return 1 if tf else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
