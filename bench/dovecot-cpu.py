#!/usr/bin/env python3
"""Prints the CPU time, in milliseconds, that the Dovecot whose master has
process id PID (also its process group) has used so far: user + system of
every live process of the group, plus the children the master has reaped.
Sampled before and after a command, the difference is the server's share
of that command.

  dovecot-cpu.py PID
"""
import os
import sys


def main(argv):
    group = int(argv[1])
    ticks = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue  # gone meanwhile
        # "pid (comm) state ppid pgrp ... utime stime cutime cstime ...";
        # comm may hold spaces, so split after its closing parenthesis.
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[2]) != group:
            continue
        utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
        ticks += utime + stime
        if int(entry) == group:
            ticks += cutime + cstime
    print(round(ticks * 1000 / os.sysconf("SC_CLK_TCK")))


if __name__ == "__main__":
    main(sys.argv)
