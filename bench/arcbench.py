"""Shared by the Python benchmarks under bench/: start a real arcd on loopback and ask it for status.

arcd runs on the shipped config (or CONFIG), a temporary database and API socket under TMP, the
DC-09 and operator listeners on port 0 (chosen at run time), log level warn, plus the benchmark's
own `--set KEY=VALUE` overrides. Everything waits with a deadline.
"""

import json
import os
import socket
import subprocess
import time


def wait_for(predicate, what, timeout=20):
    """Polls PREDICATE until it returns something true (returned) or TIMEOUT seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def status(sock_path):
    """arcd's `status` result over the API socket, or None while it does not answer."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(5)
            s.connect(sock_path)
            s.sendall(b'{"id":1,"cmd":"status"}\n')
            buf = b""
            while b"\n" not in buf:
                chunk = s.recv(65536)
                if not chunk:
                    return None
                buf += chunk
            msg = json.loads(buf.split(b"\n", 1)[0])
            return msg.get("result") if msg.get("ok") else None
    except OSError:
        return None


def start_arcd(bin_dir, source, tmp, sets=(), config=None):
    """Starts arcd and waits until it answers; returns (process, API socket path, status)."""
    sock_path = os.path.join(tmp, "arcd.sock")
    log = open(os.path.join(tmp, "arcd.log"), "wb")
    cmd = [os.path.join(bin_dir, "arcd"), "--config",
           config or os.path.join(source, "config", "arcd.toml"),
           "--set", f"storage.path={os.path.join(tmp, 'arc.db')}",
           "--set", f"listen.api={sock_path}",
           "--set", "listen.dc09_tcp=127.0.0.1:0", "--set", "listen.dc09_udp=127.0.0.1:0",
           "--set", "listen.operator=127.0.0.1:0", "--set", "log.level=warn",
           "--set", f"engine.event_codes={os.path.join(source, 'config', 'event-codes.toml')}"]
    for s in sets:
        cmd += ["--set", s]
    proc = subprocess.Popen(cmd, stdout=log, stderr=log)
    log.close()
    try:
        st = wait_for(lambda: proc.poll() is None and status(sock_path), "arcd")
    except RuntimeError:
        stop_arcd(proc)
        raise RuntimeError(f"arcd did not start; see {os.path.join(tmp, 'arcd.log')}")
    return proc, sock_path, st


def stop_arcd(proc):
    """SIGTERM, then SIGKILL after 15 s."""
    if proc is None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=15)
