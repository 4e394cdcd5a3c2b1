#!/usr/bin/env python3
"""Times commands interleaved: every round runs each command once, in turn.

    interleaved.py RUNS LABEL=VAULT_DIR ... -- BINARY[=LABEL,LABEL]... -- list|rotate

hyperfine runs all of one command's runs, then all of the next's; on a VM whose speed drifts
over seconds (this 2-core Firecracker VM does, by 30% and more), that drift lands between
the commands being compared. Here it lands on all of them alike. For each binary and each
vault (a directory holding vault.age, state/ and id.txt, as fill_vault makes them) this
prints the median and mean wall time (and the median CPU time, user and system), and for each binary the ratio of the last vault's
median to the first's.

`rotate` feeds each run a new key made from the nanosecond clock, as benches/run.sh does.
"""

import os
import statistics
import sys
import time


def main() -> None:
    args = sys.argv[1:]
    runs = int(args.pop(0))
    sep = args.index("--")
    vaults = [a.split("=", 1) for a in args[:sep]]
    rest = args[sep + 1 :]
    sep = rest.index("--")
    # BINARY or BINARY=LABEL,LABEL: the second form runs that binary on those vaults only
    # (each build on vaults its own writer made, say).
    only = {}
    binaries = []
    for spec in rest[:sep]:
        b, _, labels = spec.partition("=")
        binaries.append(b)
        only[b] = labels.split(",") if labels else [label for label, _ in vaults]
    command = rest[sep + 1]
    argv = {"list": ["list", "--json"], "rotate": ["rotate", "bot-00000", "--from-stdin"]}[command]
    devnull = os.open(os.devnull, os.O_RDWR)
    times = {(b, v): [] for b in binaries for v in only[b]}
    # CPU time (user + system, all threads) beside the wall time: less moved by a vCPU the
    # host takes away for a moment, it shows work saved even when the wall time is noisy.
    cpu = {(b, v): [] for b in binaries for v in only[b]}
    for round_ in range(runs + 3):
        for b in binaries:
            for label, d in vaults:
                if label not in only[b]:
                    continue
                env = dict(os.environ)
                env.update(
                    VAULT_PATH=f"{d}/vault.age",
                    XDG_STATE_HOME=f"{d}/state",
                    VAULT_IDENTITY_FILE=f"{d}/id.txt",
                )
                n = time.time_ns()
                data = f"ROT{n}\nSEC{n}000000000000\n".encode() if command == "rotate" else b""
                r, w = os.pipe()
                os.write(w, data)
                os.close(w)
                start = time.perf_counter()
                pid = os.posix_spawn(
                    b,
                    [b, *argv],
                    env,
                    file_actions=[
                        (os.POSIX_SPAWN_DUP2, r, 0),
                        (os.POSIX_SPAWN_DUP2, devnull, 1),
                        (os.POSIX_SPAWN_DUP2, devnull, 2),
                    ],
                )
                _, status, usage = os.wait4(pid, 0)
                took = (time.perf_counter() - start) * 1e3
                os.close(r)
                if status != 0:
                    sys.exit(f"{b} {command} on {label} failed ({status})")
                if round_ >= 3:  # three warm-up rounds
                    times[(b, label)].append(took)
                    cpu[(b, label)].append((usage.ru_utime + usage.ru_stime) * 1e3)
    for b in binaries:
        medians = []
        for label in only[b]:
            t = times[(b, label)]
            medians.append(statistics.median(t))
            print(
                f"{b} {command} {label}: median {medians[-1]:.2f} ms, "
                f"mean {statistics.mean(t):.2f} ms, min {min(t):.2f} ms ({len(t)} runs); "
                f"CPU time median {statistics.median(cpu[(b, label)]):.2f} ms"
            )
        print(f"{b} {command}: ratio of medians {medians[-1] / medians[0]:.2f}")
    # Round by round, each binary against the first on the same vault: the runs of one round
    # are milliseconds apart, so the VM's drift between rounds cancels out of the difference.
    first = binaries[0]
    for b in binaries[1:]:
        for label in only[b]:
            if label in only[first]:
                d = [x - y for x, y in zip(times[(b, label)], times[(first, label)])]
                print(
                    f"{b} - {first} on {label}: median difference {statistics.median(d):+.2f} ms "
                    f"(same round)"
                )


if __name__ == "__main__":
    main()
