#!/usr/bin/env python3
"""Integration test of the Prometheus endpoint: a real arcd with listen.metrics on 127.0.0.1:0,
a real alarm frame, then scrapes parsed strictly as the text exposition format (0.0.4).

Usage: test_metrics.py --arcd PATH --arcctl PATH --arc-sim PATH --source DIR [unittest args]
"""

import http.client
import os
import re
import time

import test_arc
from test_arc import BIN, PLAIN, DaemonCase, run, sia_frame

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{((?:[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*",?)*)\})? '
                    r'(\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="([^"\\]*)"')


def parse(text):
    """{(name, frozenset(labels)): value}; fails on any line outside the format."""
    types, samples = {}, {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge", "histogram"), line
            assert name not in types, f"TYPE twice: {line}"
            types[name] = kind
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        name, labels, value = m.group(1), m.group(3) or "", float(m.group(4))
        family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in types else name
        assert family in types, f"sample before its TYPE: {line!r}"
        key = (name, frozenset(LABEL.findall(labels)))
        assert key not in samples, f"sample twice: {line!r}"
        samples[key] = value
    return types, samples


class Metrics(DaemonCase):
    def setUp(self):
        super().setUp()
        self.daemon.stop()
        self.daemon.start(extra=("--set", "listen.metrics=127.0.0.1:0"))
        ports = [l["port"] for l in self.daemon.arcctl("status")["listeners"]
                 if l["name"] == "metrics"]
        self.assertEqual(len(ports), 1, self.daemon.arcctl("status")["listeners"])
        self.port = ports[0]

    def request(self, method="GET", path="/metrics"):
        con = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            con.request(method, path)
            res = con.getresponse()
            return res.status, dict(res.getheaders()), res.read().decode()
        finally:
            con.close()

    def scrape(self):
        status, headers, body = self.request()
        self.assertEqual(status, 200, body)
        self.assertTrue(headers["Content-Type"].startswith("text/plain; version=0.0.4"), headers)
        return parse(body)

    def test_scrape_counts_frames_alarms_and_store_latency(self):
        self.daemon.arcctl("device", "add", "--account", PLAIN, "--protocol", "dc09")
        types, before = self.scrape()
        self.assertEqual(types["arc_store_latency_seconds"], "histogram")
        self.assertEqual(before[("arc_oldest_untaken_alarm_age_seconds", frozenset())], 0)
        reply = self.daemon.exchange_tcp(sia_frame(PLAIN, 1, "QA"))
        self.assertIn(b'"ACK"', reply)
        deadline = time.monotonic() + 20
        while self.daemon.arcctl("alarms")["open"] != 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.05)
        _, s = self.scrape()
        self.assertGreaterEqual(s[("arc_frames_total", frozenset())], 1)
        self.assertEqual(s[("arc_replies_total", frozenset({("kind", "ack")}))] -
                         before[("arc_replies_total", frozenset({("kind", "ack")}))], 1)
        new_alarms = sum(v for (n, l), v in s.items()
                         if n == "arc_open_alarms" and ("state", "new") in l)
        self.assertEqual(new_alarms, 1, s)
        self.assertGreater(s[("arc_oldest_untaken_alarm_age_seconds", frozenset())], 0)
        count = s[("arc_store_latency_seconds_count", frozenset())]
        self.assertGreaterEqual(count, 1)
        buckets = sorted((float(dict(l)["le"]), v) for (n, l), v in s.items()
                         if n == "arc_store_latency_seconds_bucket")
        self.assertEqual(buckets[-1], (float("inf"), count))
        self.assertEqual([v for _, v in buckets], sorted(v for _, v in buckets), "cumulative")
        self.assertGreater(s[("arc_store_latency_seconds_sum", frozenset())], 0)

        alarm = self.daemon.arcctl("alarms")["alarms"][0]["id"]
        self.daemon.arcctl("alarm", "take", str(alarm), "--actor", "anna")
        _, s = self.scrape()
        self.assertEqual(s[("arc_oldest_untaken_alarm_age_seconds", frozenset())], 0)
        taken = sum(v for (n, l), v in s.items()
                    if n == "arc_open_alarms" and ("state", "taken") in l)
        self.assertEqual(taken, 1)

    def test_other_paths_and_methods_are_refused(self):
        self.assertEqual(self.request(path="/")[0], 404)
        self.assertEqual(self.request(path="/metrics/../x")[0], 404)
        status, headers, _ = self.request(method="POST")
        self.assertEqual(status, 405)
        self.assertEqual(headers["Allow"], "GET, HEAD")
        status, headers, body = self.request(method="HEAD")
        self.assertEqual((status, body), (200, ""))

    def raw(self, data):
        import socket
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.sendall(data)
            reply = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return reply
                reply += chunk

    def test_malformed_and_oversize_requests_get_an_answer_then_close(self):
        reply = self.raw(b"GARBAGE\r\n\r\n")
        self.assertTrue(reply.startswith(b"HTTP/1.1 400 "), reply)
        reply = self.raw(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 9000 + b"\r\n\r\n")
        self.assertTrue(reply.startswith(b"HTTP/1.1 431 "), reply)
        self.assertIn(b"over 8192 bytes", reply)
        reply = self.raw(b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789")
        self.assertTrue(reply.startswith(b"HTTP/1.1 413 "), reply)
        # The endpoint still answers a good scrape afterwards.
        self.assertEqual(self.request()[0], 200)

    def test_off_loopback_is_a_config_error(self):
        r = run([BIN["arcd"], "--config", os.path.join(test_arc.SOURCE, "config", "arcd.toml"),
                 "--set", f"listen.api={self.tmp}/x.sock", "--set", f"storage.path={self.tmp}/x.db",
                 "--set", "listen.metrics=0.0.0.0:9464"], timeout=20)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("listen.metrics", r.stderr.decode())
        self.assertIn("loopback", r.stderr.decode())


if __name__ == "__main__":
    test_arc.main()
