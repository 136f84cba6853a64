#!/usr/bin/env python3
"""Keeps the product's source readable: no file over 600 lines, no Rust function over 80.

Product source is crates/*/src (Rust) and crates/callpark-http/ui (the page), without vendored
or generated files (diesel's schema.rs); tests, benches and tools/ are not product. Functions
inside a `#[cfg(test)]` module are tests. Exits 1 and names every offender.
"""

import pathlib
import re
import sys

MAX_FILE_LINES = 600
MAX_FN_LINES = 80
ROOT = pathlib.Path(__file__).resolve().parent.parent
GENERATED = {"schema.rs"}
FN = re.compile(r'^\s*(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?fn\s+(\w+)')
TEST_MODULE = re.compile(r'^\s*#\[cfg\(test\)\]')


def code_of(line):
    """The line without string literals and comments, for counting braces."""
    line = re.sub(r'"([^"\\]|\\.)*"', '""', line)
    line = re.sub(r"'([^'\\]|\\.)'", "''", line)
    return re.sub(r'//.*', '', line)


def block_end(lines, start):
    """The index of the line closing the block that opens at or after `start`, or None."""
    depth, opened = 0, False
    for i in range(start, len(lines)):
        code = code_of(lines[i])
        if not opened and ';' in code and '{' not in code:
            return None  # a declaration without a body (a trait method)
        for ch in code:
            if ch == '{':
                depth, opened = depth + 1, True
            elif ch == '}':
                depth -= 1
        if opened and depth <= 0:
            return i
    return None


def long_functions(path):
    lines = path.read_text().split('\n')
    i = 0
    while i < len(lines):
        if TEST_MODULE.match(lines[i]):
            end = block_end(lines, i + 1)
            i = (end if end is not None else i) + 1
            continue
        match = FN.match(lines[i])
        if match:
            end = block_end(lines, i)
            if end is not None and end - i + 1 > MAX_FN_LINES:
                yield f"{path.relative_to(ROOT)}:{i + 1}: fn {match.group(6)} has {end - i + 1} lines"
        i += 1


def product_files():
    for src in sorted(ROOT.glob("crates/*/src")):
        yield from (p for p in sorted(src.rglob("*.rs")) if p.name not in GENERATED)
    ui = ROOT / "crates" / "callpark-http" / "ui"
    yield from (p for p in sorted(ui.rglob("*.js")) if "vendor" not in p.parts)


def main():
    problems = []
    for path in product_files():
        count = len(path.read_text().splitlines())
        if count > MAX_FILE_LINES:
            problems.append(f"{path.relative_to(ROOT)}: {count} lines (at most {MAX_FILE_LINES})")
        if path.suffix == ".rs":
            problems.extend(long_functions(path))
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} size problems: split by concern (files) or by step (functions)")
        return 1
    print("sizes: every product file and function within its limit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
