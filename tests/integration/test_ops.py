#!/usr/bin/env python3
"""Integration tests of arcd under systemd (Type=notify) without systemd: the real arcd with
NOTIFY_SOCKET pointing at a datagram socket bound here, as the service manager would set it.

Usage: test_ops.py --arcd PATH --arcctl PATH --arc-sim PATH --source DIR [unittest args]
"""

import os
import re
import signal
import socket
import subprocess
import time
import unittest

import test_arc
from test_arc import DaemonCase, sia_frame

JOURNAL_SOCKET = "/run/systemd/journal/socket"


class Notify(DaemonCase):
    """READY=1 only when frames are ACKed, WATCHDOG=1 pings, STOPPING=1 and exit 0 on SIGTERM."""

    def setUp(self):
        super().setUp()
        r = self.daemon.arcctl("device", "add", "--account", test_arc.PLAIN, "--protocol", "dc09")
        self.assertEqual(r["device"]["account"], test_arc.PLAIN)
        self.daemon.stop()  # the notified arcd below reuses the database
        self.notify_path = os.path.join(self.tmp, "notify.sock")
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(self.notify_path)
        self.addCleanup(self.notify.close)
        self.messages = []  # every datagram received, in order

    def start_notified(self, **env_extra):
        env = dict(os.environ)
        env.pop("WATCHDOG_PID", None)
        env.update({"NOTIFY_SOCKET": self.notify_path, "WATCHDOG_USEC": "400000"}, **env_extra)
        d = self.daemon
        args = [test_arc.BIN["arcd"], "--config", os.path.join(test_arc.SOURCE, "config", "arcd.toml"),
                "--set", f"storage.path={d.db}", "--set", f"listen.api={d.sock}",
                "--set", "listen.dc09_tcp=127.0.0.1:0", "--set", "listen.dc09_udp=127.0.0.1:0",
                "--set", "listen.operator=127.0.0.1:0",
                "--set", "engine.event_codes=" + os.path.join(test_arc.SOURCE, "config",
                                                             "event-codes.toml")]
        log = open(d.log_path, "ab")
        d.proc = subprocess.Popen(args, cwd=d.workdir, stdout=log, stderr=log, env=env)
        log.close()

    def wait_for(self, predicate, what, seconds=30):
        """Reads datagrams until predicate(message) holds; returns that message."""
        deadline = time.monotonic() + seconds
        self.notify.settimeout(0.2)
        while time.monotonic() < deadline:
            try:
                msg = self.notify.recv(4096).decode()
            except socket.timeout:
                if self.daemon.proc.poll() is not None:
                    self.fail(f"arcd exited ({self.daemon.proc.returncode}) before {what}:\n"
                              f"{self.daemon.log()}")
                continue
            self.messages.append(msg)
            if predicate(msg):
                return msg
        self.fail(f"no {what} within {seconds} s; got {self.messages!r}\n{self.daemon.log()}")

    def test_ready_watchdog_stopping(self):
        self.start_notified()
        ready = self.wait_for(lambda m: "READY=1" in m.split("\n"), "READY=1")
        status = re.search(r"STATUS=listening on DC-09 TCP 127\.0\.0\.1:(\d+)", ready)
        self.assertIsNotNone(status, ready)
        tcp_port = int(status.group(1))
        self.assertIn("admin API", ready)
        # At the moment READY arrives the DC-09 listener accepts and a frame is ACKed.
        with socket.create_connection(("127.0.0.1", tcp_port), timeout=10) as s:
            s.sendall(sia_frame(test_arc.PLAIN, 1, "BA"))
            reply = b""
            while not reply.endswith(b"\r"):
                chunk = s.recv(4096)
                if not chunk:
                    break
                reply += chunk
        self.assertIn(b'"ACK"', reply, f"first frame after READY: {reply!r}")
        r = test_arc.run([test_arc.BIN["arc-sim"], "--host", "127.0.0.1", "--port", str(tcp_port),
                          "--account", test_arc.PLAIN, "--json"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('"acked":1', r.stdout.decode().replace(" ", ""))

        pings = [0]

        def count_ping(m):
            pings[0] += m.split("\n").count("WATCHDOG=1")
            return pings[0] >= 3

        self.wait_for(count_ping, "three WATCHDOG=1 pings (WATCHDOG_USEC=400000)")

        self.daemon.proc.send_signal(signal.SIGTERM)
        stopping = self.wait_for(lambda m: "STOPPING=1" in m.split("\n"), "STOPPING=1")
        self.assertIn("STATUS=stopping", stopping)
        rc = self.daemon.proc.wait(timeout=30)
        self.daemon.proc = None
        self.assertEqual(rc, 0, self.daemon.log())
        # Nothing pings once the shutdown began (the timer is cancelled with STOPPING=1).
        self.notify.settimeout(0)
        try:
            while True:
                self.messages.append(self.notify.recv(4096).decode())
        except BlockingIOError:
            pass
        after = self.messages[self.messages.index(stopping) + 1:]
        self.assertFalse([m for m in after if "WATCHDOG=1" in m], self.messages)

    def test_watchdog_for_another_pid(self):
        # WATCHDOG_PID names another process: READY still, and no pings (sd_watchdog_enabled).
        self.start_notified(WATCHDOG_PID=str(os.getpid()))
        self.wait_for(lambda m: "READY=1" in m.split("\n"), "READY=1")
        self.daemon.proc.send_signal(signal.SIGTERM)
        self.wait_for(lambda m: "STOPPING=1" in m.split("\n"), "STOPPING=1")
        self.assertEqual(self.daemon.proc.wait(timeout=30), 0)
        self.daemon.proc = None
        self.assertFalse([m for m in self.messages if "WATCHDOG=1" in m], self.messages)
        self.assertNotIn("systemd watchdog", self.daemon.log())


class Logging(DaemonCase):
    """--log journald and auto: without a journal arcd logs to stderr and says why."""

    def setUp(self):
        # Each test starts its own arcd with its --log choice.
        self.tmp = test_arc.tempfile.mkdtemp(prefix="arc-it-")
        self.daemon = test_arc.Daemon(self.tmp)
        self.addCleanup(self.kill_leftover)

    def start_and_ack(self, extra, env_extra=None):
        saved = dict(os.environ)
        try:
            os.environ.pop("JOURNAL_STREAM", None)
            os.environ.update(env_extra or {})
            self.daemon.start(extra=extra)
        finally:
            os.environ.clear()
            os.environ.update(saved)
        self.daemon.arcctl("device", "add", "--account", test_arc.PLAIN, "--protocol", "dc09")
        rc, rep, err = self.daemon.sim("--account", test_arc.PLAIN)
        self.assertEqual((rc, rep.get("acked")), (0, 1), err)
        self.assertEqual(self.daemon.stop(), 0, self.daemon.log())

    def test_journald_without_journal(self):
        self.start_and_ack(["--log", "journald"])
        if os.path.exists(JOURNAL_SOCKET):
            self.skipTest(f"{JOURNAL_SOCKET} exists: arcd logged to the journal (ACK checked)")
        log = self.daemon.log()
        self.assertIn("the journal is not reachable", log)
        self.assertIn("arcd stopped", log)

    def test_auto_follows_journal_stream(self):
        # JOURNAL_STREAM naming arcd's stderr (the log file) is how systemd says "journal".
        with open(self.daemon.log_path, "ab") as f:
            st = os.fstat(f.fileno())
        self.start_and_ack(["--log", "auto"], {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"})
        if os.path.exists(JOURNAL_SOCKET):
            self.skipTest(f"{JOURNAL_SOCKET} exists: arcd logged to the journal (ACK checked)")
        self.assertIn("the journal is not reachable", self.daemon.log())

    def test_auto_without_journal_stream_is_stderr(self):
        self.start_and_ack(["--log", "auto"], {"JOURNAL_STREAM": "1:2"})
        log = self.daemon.log()
        self.assertNotIn("journal is not reachable", log)
        self.assertRegex(log, r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\S* info arcd .* started")

    def test_bad_log_target(self):
        r = test_arc.run([test_arc.BIN["arcd"], "--config",
                          os.path.join(test_arc.SOURCE, "config", "arcd.toml"), "--log", "syslog"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("--log", r.stderr.decode())


if __name__ == "__main__":
    test_arc.main()
