#!/usr/bin/env python3
"""hosts_bench — tool calls per second with 1, 2 and 4 executor hosts.

Each host is a network namespace running `mcpbox executor`, joined to the
broker's namespace over TCP + CURVE (integration/netns_cluster.py, the same
cluster integration/test_cluster.py builds). Two tools:

  io   waits on a slow HTTP server in the broker's namespace (--wait-ms per
       call): the executor parent does the fetch, the child waits. Ideal
       scaling is linear in hosts; the goal is >= 0.8x linear up to 4 hosts.
  cpu  a pure-Python loop (--cpu-loop iterations), one call at a time per
       host: the hosts share this machine's cores, so at most min(hosts,
       cores) loops run at once. The CPU seconds a call costs are read from
       the executors' process trees (/proc: their own time, their reaped
       sandbox children's, their live descendants'), so the ceiling is
       min(hosts, cores) / (CPU s per call), and the report says how close
       each run comes to it. Other load on the machine lowers it.

The load is closed-loop from this process: hosts x slots calls in flight, a
new one sent as soon as one is answered. Needs root (ip netns) and a build
(MCPBOX_BUILD_DIR, default ./build-bench): `sudo bench/run.sh hosts`.
Prints a table, or one JSON object with --json.
"""
import argparse
import json
import os
import sys
import tempfile
import shutil
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("MCPBOX_BUILD_DIR", os.path.join(ROOT, "build-bench"))
sys.path.insert(0, os.path.join(ROOT, "integration"))

from netns_cluster import TOOL as IO_TOOL, Cluster, root_ok  # noqa: E402

CPU_TOOL = '''
async def main(url: str):
    n = 0
    for i in range(%d):
        n += i * i
    return 200
'''


TICK = os.sysconf("SC_CLK_TCK")


def _tree_cpu(pid):
    """CPU seconds of a process, the children it reaped and its live
    descendants (an executor: its sandbox children are its own, the zygote
    clones them with CLONE_PARENT)."""
    total = 0.0
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += sum(int(v) for v in fields[11:15]) / TICK   # utime stime cutime cstime
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                for child in f.read().split():
                    total += _tree_cpu(int(child))
    except (FileNotFoundError, ProcessLookupError):
        pass
    return total


def _hosts_cpu(cluster):
    return sum(_tree_cpu(proc.pid) for proc in cluster.executors.values())


def _measure(cluster, count, in_flight, wait_ms):
    """calls/s, and CPU seconds the hosts spent per call."""
    cluster.calls(min(count, in_flight), in_flight, wait_ms)        # warm the children
    cpu = _hosts_cpu(cluster)
    started = time.monotonic()
    replies = cluster.calls(count, in_flight, wait_ms)
    elapsed = time.monotonic() - started
    cpu = _hosts_cpu(cluster) - cpu
    failed = [r for r in replies if not (r.get("ok") and r.get("success"))]
    if failed:
        raise SystemExit(f"calls failed: {failed[:2]}")
    return count / elapsed, cpu / count


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hosts", default="1,2,4")
    parser.add_argument("--slots", type=int, default=4, help="io: calls per host at once")
    parser.add_argument("--wait-ms", type=int, default=500, help="io: the server's wait")
    parser.add_argument("--rounds", type=int, default=6, help="calls per slot measured")
    parser.add_argument("--cpu-loop", type=int, default=1500000, help="cpu: loop iterations")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not root_ok():
        raise SystemExit("hosts_bench needs root, ip netns and tc")
    cores = os.cpu_count() or 1
    load_before = os.getloadavg()[0]
    results = {"cores": cores, "io": {}, "cpu": {}, "cpu_s": {}}
    for n in [int(h) for h in args.hosts.split(",")]:
        root = tempfile.mkdtemp(prefix="mbb", dir="/tmp")
        cluster = Cluster(root, hosts=range(1, n + 1), slots=args.slots, heartbeat_ms=1000)
        try:
            cluster.joined(n)
            cluster.code = IO_TOOL
            in_flight = n * args.slots
            results["io"][n], _ = _measure(cluster, in_flight * args.rounds, in_flight,
                                           args.wait_ms)
            cluster.code = CPU_TOOL % args.cpu_loop
            # one call at a time per host: the cores, not the slots, bound it
            results["cpu"][n], results["cpu_s"][n] = _measure(cluster, n * args.rounds, n, 0)
        finally:
            cluster.close()
            shutil.rmtree(root, ignore_errors=True)
    one_io = results["io"].get(1)
    rows = []
    for n in sorted(results["io"]):
        io_ratio = results["io"][n] / (n * one_io) if one_io else None
        # the ceiling: n hosts run n loops at once, but only `cores` of them
        # run at a time; each costs the CPU seconds measured at that size
        cap = min(n, cores) / results["cpu_s"][n]
        rows.append({"hosts": n, "io_calls_s": round(results["io"][n], 2),
                     "io_ratio_linear": io_ratio and round(io_ratio, 3),
                     "cpu_calls_s": round(results["cpu"][n], 2),
                     "cpu_ms_per_call": round(results["cpu_s"][n] * 1000, 1),
                     "cpu_ceiling_calls_s": cap and round(cap, 2),
                     "cpu_of_ceiling": cap and round(results["cpu"][n] / cap, 3)})
    report = {"cores": cores, "slots": args.slots, "wait_ms": args.wait_ms,
              "load_before": load_before, "load_after": os.getloadavg()[0], "rows": rows}
    if args.json:
        print(json.dumps(report))
        return
    print(f"{cores} cores, {args.slots} slots per host, io wait {args.wait_ms} ms, "
          f"load {load_before:.1f} -> {report['load_after']:.1f}")
    print(f"{'hosts':>5} {'io calls/s':>11} {'x linear':>9} {'cpu calls/s':>12} "
          f"{'cpu ms/call':>12} {'cpu ceiling':>12} {'of ceiling':>11}")
    for r in rows:
        print(f"{r['hosts']:>5} {r['io_calls_s']:>11} {r['io_ratio_linear']:>9} "
              f"{r['cpu_calls_s']:>12} {r['cpu_ms_per_call']:>12} "
              f"{r['cpu_ceiling_calls_s']:>12} {r['cpu_of_ceiling']:>11}")


if __name__ == "__main__":
    main()
