"""A child for tests/test_pipechild.py: ``python -m tests.pipe_echo <read fd> <write fd> <args...>`` reads its
pipe to the end and writes back what it read in capitals, then its arguments."""

from __future__ import annotations

import os
import sys


def main() -> None:
    read_fd, write_fd = int(sys.argv[1]), int(sys.argv[2])
    data = b""
    while chunk := os.read(read_fd, 65536):
        data += chunk
    os.write(write_fd, b" ".join([data.upper(), *(a.encode() for a in sys.argv[3:])]))


if __name__ == "__main__":
    main()
