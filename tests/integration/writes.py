#!/usr/bin/env python3
"""Precise writes for the bad-input tests, which shell redirections cannot
make: a given byte string at a given offset, or several write() calls on
one open file.  Usage: writes.py FILE OFFSET CHUNK [CHUNK...] where each
CHUNK is a Python bytes literal body (e.g. 'rax 1\\n' or '\\x00\\xff'), or
@PATH for the bytes of a file.
Prints "ok" or the errno name of the first write that failed, and exits
0 or 1 accordingly."""
import ast
import errno
import os
import sys


def main():
    path, offset = sys.argv[1], int(sys.argv[2], 0)
    chunks = []
    for c in sys.argv[3:]:
        if c.startswith("@"):
            with open(c[1:], "rb") as f:
                chunks.append(f.read())
        else:
            chunks.append(ast.literal_eval("b'''" + c + "'''"))
    fd = os.open(path, os.O_WRONLY)
    try:
        for chunk in chunks:
            try:
                n = os.pwrite(fd, chunk, offset)
            except OSError as e:
                print(errno.errorcode.get(e.errno, str(e.errno)))
                return 1
            offset += n
    finally:
        os.close(fd)
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
