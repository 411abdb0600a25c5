#!/usr/bin/env python3
"""Holds apt's and dpkg's locks as apt-get itself does, for a while: fcntl write locks on
/var/lib/dpkg/lock-frontend, /var/lib/dpkg/lock and /var/lib/apt/lists/lock (apt-pkg's GetLock).
Prints "held" once it has them all, then sleeps and lets go.

    python3 scripts/ci/hold-apt-locks.py SECONDS
"""
import fcntl
import os
import sys
import time

LOCKS = ["/var/lib/dpkg/lock-frontend", "/var/lib/dpkg/lock", "/var/lib/apt/lists/lock"]

seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 20
held = []
deadline = time.monotonic() + 600
for path in LOCKS:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o640)
    while True:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except OSError:
            # Someone else (a real apt-get) has it: wait our turn rather than fail.
            if time.monotonic() > deadline:
                sys.exit(f"could not get {path} within 600 s")
            time.sleep(0.5)
    held.append(fd)
print("held", flush=True)
time.sleep(seconds)
print("released", flush=True)
