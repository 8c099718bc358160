"""CPU seconds (user + system) of a process per thread name: python3 thread-cpu.py PID -> JSON."""
import json
import os
import sys

pid = sys.argv[1]
tick = os.sysconf('SC_CLK_TCK')
by_name = {}
for tid in os.listdir(f'/proc/{pid}/task'):
    try:
        with open(f'/proc/{pid}/task/{tid}/comm') as f:
            name = f.read().strip()
        with open(f'/proc/{pid}/task/{tid}/stat') as f:
            fields = f.read().rsplit(')', 1)[1].split()
    except OSError:
        continue  # the thread exited
    by_name[name] = by_name.get(name, 0) + (int(fields[11]) + int(fields[12])) / tick
print(json.dumps(by_name))
