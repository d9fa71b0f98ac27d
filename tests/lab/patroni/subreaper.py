"""subreaper.py PIDFILE CMD...: run CMD as a child subreaper's child and reap its orphans at once.

Patroni starts PostgreSQL detached (the postmaster's parent exits), so a stopped postmaster is collected by
whichever process reaps orphans. Where that is a slow process 1, psutil still sees the exited postmaster
as running for a second or two and every Patroni stop/restart waits for it. Under this process
(prctl PR_SET_CHILD_SUBREAPER) such orphans are reparented here and collected as soon as they exit.

Writes CMD's pid to PIDFILE (so it names CMD itself, e.g. Patroni, for signals such as SIGSTOP), forwards
TERM/INT/HUP/QUIT/USR1/USR2 to CMD, and exits with CMD's status once CMD and every orphan are gone.
A TERM that arrives after CMD is gone is forwarded to the orphans left (a postmaster whose Patroni was killed).
"""

import ctypes
import os
import signal
import sys

PR_SET_CHILD_SUBREAPER = 36
FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)


def main():
    pidfile, cmd = sys.argv[1], sys.argv[2:]
    if not cmd:
        sys.exit("usage: subreaper.py PIDFILE CMD...")
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit("subreaper: prctl(PR_SET_CHILD_SUBREAPER): %s" % os.strerror(ctypes.get_errno()))
    # Block the forwarded signals until the handlers know the child's pid.
    signal.pthread_sigmask(signal.SIG_BLOCK, FORWARDED)
    child = os.fork()
    if child == 0:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, FORWARDED)
        try:
            os.execvp(cmd[0], cmd)  # noqa: S606 - runs the command line it was given, by design
        except OSError as exc:
            print("subreaper: cannot run %s: %s" % (cmd[0], exc), file=sys.stderr)
            os._exit(127)
    tmp = pidfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % child)
    os.rename(tmp, pidfile)

    state = {"status": None}

    def forward(signum, _frame):
        if state["status"] is None:
            targets = [child]
        else:  # CMD is gone: pass the signal on to whatever it left behind
            targets = [int(p) for p in os.listdir("/proc") if p.isdigit() and _parent(int(p)) == os.getpid()]
        for pid in targets:
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

    for sig in FORWARDED:
        signal.signal(sig, forward)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, FORWARDED)
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        if pid == child:
            state["status"] = os.waitstatus_to_exitcode(status)
    code = state["status"] or 0
    sys.exit(128 - code if code < 0 else code)


def _parent(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


if __name__ == "__main__":
    main()
