#!/usr/bin/env python3
"""Helper for benches/foundation.sh (standard library only).

Subcommands:
  freeport                      print a free TCP port on 127.0.0.1
  wait PORT [TIMEOUT_S]         poll GET /readyz every 2 ms until 200; print elapsed ms
  status URL                    print the HTTP status of one GET
  startup ...                   spawn `rathaus demo` N times and time spawn -> /readyz 200

Polling uses http.client in-process, so the 2 ms poll interval is not inflated by
forking curl. Every server this script spawns is registered as a file in --pid-dir
(removed again when it has been stopped) so the shell's trap can kill leftovers.
"""

import argparse
import http.client
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

POLL_INTERVAL_S = 0.002


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_status(host: str, port: int, path: str, timeout: float = 2.0) -> int:
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def poll_ready(port: int, t0: float, timeout_s: float, proc=None) -> float:
    """Polls /readyz until 200. Returns seconds since t0 (a perf_counter value)."""
    deadline = t0 + timeout_s
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} before it was ready")
        try:
            if get_status("127.0.0.1", port, "/readyz") == 200:
                return time.perf_counter() - t0
        except OSError:
            pass  # not listening yet (connection refused) or reset
        if time.perf_counter() > deadline:
            raise RuntimeError(f"/readyz on port {port} not 200 after {timeout_s:.0f} s")
        time.sleep(POLL_INTERVAL_S)


def stop(proc: subprocess.Popen, grace_s: float = 30.0) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def tail(path: str, n: int = 20) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


def run_once(args, data_dir: str, log_path: str) -> float:
    port = free_port()
    env = dict(os.environ)
    env.pop("RATHAUS_DATABASE_URL", None)
    if args.database_url:
        env["RATHAUS_DATABASE_URL"] = args.database_url
    cmd = [args.bin, "demo", "--listen", f"127.0.0.1:{port}", "--data-dir", data_dir]
    with open(log_path, "ab") as log:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            cmd, cwd=args.cwd, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=log,
        )
        pid_file = os.path.join(args.pid_dir, str(proc.pid))
        open(pid_file, "w").close()
        try:
            elapsed = poll_ready(port, t0, args.timeout, proc)
        except RuntimeError as e:
            stop(proc)
            raise RuntimeError(f"{e}\n--- server log ({log_path}) ---\n{tail(log_path)}") from None
        finally:
            stop(proc)
            os.unlink(pid_file)
    return elapsed * 1000.0


def reset_db(cmd: str) -> None:
    subprocess.run(cmd, shell=True, check=True, stdout=subprocess.DEVNULL)


def cmd_startup(args) -> None:
    """Prints: median_ms max_ms and then every run's ms, space separated."""
    base = os.path.join(args.work, f"startup-{args.label}")
    os.makedirs(base, exist_ok=True)
    log_path = os.path.join(args.work, f"startup-{args.label}.log")
    times = []
    if args.mode == "restart":
        data_dir = os.path.join(base, "data")
        if args.reset_db:
            reset_db(args.reset_db)
        run_once(args, data_dir, log_path)  # first start (not measured): migrate + seed
        for _ in range(args.runs):
            times.append(run_once(args, data_dir, log_path))
    else:
        for i in range(args.runs):
            data_dir = os.path.join(base, f"data-{i}")
            if args.reset_db:
                reset_db(args.reset_db)
            times.append(run_once(args, data_dir, log_path))
            shutil.rmtree(data_dir, ignore_errors=True)
    print(
        f"{statistics.median(times):.1f} {max(times):.1f} "
        + " ".join(f"{t:.1f}" for t in times)
    )


def main() -> None:
    # Let the shell's trap (SIGTERM) run our finally blocks, which stop the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("freeport")
    w = sub.add_parser("wait")
    w.add_argument("port", type=int)
    w.add_argument("timeout", type=float, nargs="?", default=60.0)
    s = sub.add_parser("status")
    s.add_argument("url")
    st = sub.add_parser("startup")
    st.add_argument("--bin", required=True)
    st.add_argument("--mode", choices=["fresh", "restart"], required=True)
    st.add_argument("--label", required=True)
    st.add_argument("--runs", type=int, default=10)
    st.add_argument("--work", required=True, help="scratch directory")
    st.add_argument("--cwd", required=True, help="working directory of the server")
    st.add_argument("--pid-dir", required=True)
    st.add_argument("--database-url", default="")
    st.add_argument("--reset-db", default="", help="shell command run before each first start")
    st.add_argument("--timeout", type=float, default=60.0)
    args = p.parse_args()

    if args.cmd == "freeport":
        print(free_port())
    elif args.cmd == "wait":
        print(f"{poll_ready(args.port, time.perf_counter(), args.timeout) * 1000:.1f}")
    elif args.cmd == "status":
        from urllib.parse import urlsplit
        u = urlsplit(args.url)
        print(get_status(u.hostname, u.port or 80, u.path or "/"))
    elif args.cmd == "startup":
        try:
            cmd_startup(args)
        except RuntimeError as e:
            print(f"startup measurement failed: {e}", file=sys.stderr)
            sys.exit(1)


if __name__ == "__main__":
    main()
