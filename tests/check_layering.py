#!/usr/bin/python3
"""Rooms include only rooms below them (docs/design.md "Layers").

Usage: check_layering.py LIB_SYNACK_DIR
Reads every source under lib/synack/<room>/ and fails on an #include of
<synack/<other>/...> where <other> is not below <room>. Prints each violation.
"""
import pathlib
import re
import sys

# Lowest first; a room may include itself and anything to its left.
ORDER = ["base", "time", "wire", "net", "tcp", "engine", "runtime", "api"]
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]synack/([a-z_]+)/')


def main() -> int:
    root = pathlib.Path(sys.argv[1])
    bad = 0
    checked = 0
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".hpp", ".cpp", ".h"):
            continue
        rel = path.relative_to(root)
        if len(rel.parts) < 2:
            continue  # the umbrella header synack.hpp sits above every room
        room = rel.parts[0]
        if room not in ORDER:
            print(f"{rel}: room '{room}' is not in the layer order; add it to {__file__}")
            bad += 1
            continue
        checked += 1
        for n, line in enumerate(path.read_text().splitlines(), 1):
            m = INCLUDE.match(line)
            if m and m.group(1) in ORDER and ORDER.index(m.group(1)) > ORDER.index(room):
                print(f"{rel}:{n}: '{room}' includes the higher room '{m.group(1)}'")
                bad += 1
    print(f"layering: {checked} files checked, {bad} violations")
    return 1 if bad or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
