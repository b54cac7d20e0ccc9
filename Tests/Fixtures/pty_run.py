#!/usr/bin/env python3
"""Runs a command on a pseudo-terminal (as a user at a terminal would), prints everything it wrote to
the terminal on our stdout, and exits with its exit code (128+N for signal N).

    pty_run.py [--sigint-after SECONDS] -- command args...

--sigint-after sends SIGINT to the command after SECONDS, like a user pressing Ctrl-C.
"""
import os, pty, select, signal, sys, time

args = sys.argv[1:]
sigint_after = None
if args and args[0] == "--sigint-after":
    sigint_after = float(args[1])
    args = args[2:]
if args and args[0] == "--":
    args = args[1:]

pid, fd = pty.fork()
if pid == 0:
    os.execvp(args[0], args)

start = time.time()
sent = False
out = bytearray()
while True:
    if sigint_after is not None and not sent and time.time() - start >= sigint_after:
        os.kill(pid, signal.SIGINT)
        sent = True
    r, _, _ = select.select([fd], [], [], 0.05)
    if r:
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b""
        if not data:
            break
        out += data
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        # drain what is left
        try:
            while True:
                r, _, _ = select.select([fd], [], [], 0.1)
                if not r:
                    break
                data = os.read(fd, 65536)
                if not data:
                    break
                out += data
        except OSError:
            pass
        break
else:
    status = os.waitpid(pid, 0)[1]
if 'status' not in dir() or not done:
    _, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode("utf-8", "replace"))
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
