#!/usr/bin/env python3
"""Integration test of the SCAIP receiver: a real arcd with listen.scaip_udp on 127.0.0.1:0, a
SCAIP device registered with arcctl, and the TR 91102 exchange (PROTOCOLS.md 4.7) sent as SIP
MESSAGEs over loopback UDP: digest challenge, 200 OK, the <mrs> MESSAGE after the commit.

Usage: test_scaip.py --arcd PATH --arcctl PATH --arc-sim PATH --source DIR [unittest args]
"""

import hashlib
import json
import os
import re
import socket
import sqlite3
import subprocess
import tempfile
import time
import uuid

import test_arc
from test_arc import DaemonCase

CID = "678"
PASSWORD = "Pw-678-secret!!x"  # 16 characters: stored as the device key, used as-is
REALM = "arc"


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()


def parse_sip(data):
    """(start line, {lower-case name: [values]}, body) of one datagram."""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return lines[0], headers, body


class Device:
    """A SCAIP sender (LUC) on its own UDP socket."""

    def __init__(self, port, cid=CID, password=PASSWORD):
        self.port = port
        self.cid = cid
        self.password = password
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(15)
        self.cseq = 0
        self.nonce = None
        self.pending = []  # datagrams read while waiting for another
        self.via = "UDP"

    def close(self):
        self.sock.close()

    def send_raw(self, raw, addr=None):
        self.sock.sendto(raw, addr or ("127.0.0.1", self.port))

    def recv_raw(self):
        return self.sock.recvfrom(65536)

    def parse_next(self):
        return parse_sip(self.recv_raw()[0])

    def message(self, body, call_id=None, cseq=None, authorize=True, password=None,
                content_type="application/scaip+xml", send=True):
        """Sends a MESSAGE (unless not `send`); returns (call_id, cseq, the bytes)."""
        if cseq is None:
            self.cseq += 1
            cseq = self.cseq
        call_id = call_id or uuid.uuid4().hex
        uri = f"sip:arc@127.0.0.1:{self.port}"
        me = f"127.0.0.1:{self.sock.getsockname()[1]}"
        lines = [f"MESSAGE {uri} SIP/2.0",
                 f"Via: SIP/2.0/{self.via} {me};branch=z9hG4bK{uuid.uuid4().hex[:12]}",
                 "Max-Forwards: 70",
                 f"From: <sip:{self.cid}@127.0.0.1>;tag={uuid.uuid4().hex[:8]}",
                 f"To: <{uri}>",
                 f"Call-ID: {call_id}",
                 f"CSeq: {cseq} MESSAGE",
                 f"Contact: <sip:{self.cid}@{me}>",
                 f"Content-Type: {content_type}"]
        if authorize and self.nonce:
            ha1 = md5(f"{self.cid}:{REALM}:{password or self.password}")
            ha2 = md5(f"MESSAGE:{uri}")
            cnonce, nc = uuid.uuid4().hex[:8], "00000001"
            response = md5(f"{ha1}:{self.nonce}:{nc}:{cnonce}:auth:{ha2}")
            lines.append(f'Authorization: Digest username="{self.cid}", realm="{REALM}", '
                         f'nonce="{self.nonce}", uri="{uri}", qop=auth, nc={nc}, '
                         f'cnonce="{cnonce}", response="{response}", algorithm=MD5')
        data = body.encode()
        raw = ("\r\n".join(lines) + f"\r\nContent-Length: {len(data)}\r\n\r\n").encode() + data
        if send:
            self.send_raw(raw)
        return call_id, cseq, raw

    def receive(self, want):
        """The next datagram for which want(start, headers, body) is true (others are kept)."""
        for i, item in enumerate(self.pending):
            if want(*item):
                return self.pending.pop(i)
        while True:
            data, addr = self.recv_raw()
            item = parse_sip(data)
            if item[0].startswith("MESSAGE "):
                self.answer_ok(item, addr)
            if want(*item):
                return item
            self.pending.append(item)

    def answer_ok(self, item, addr):
        _, h, _ = item
        lines = ["SIP/2.0 200 OK"] + [f"Via: {v}" for v in h.get("via", [])]
        for name in ("From", "To", "Call-ID", "CSeq"):
            lines.append(f"{name}: {h[name.lower()][0]}")
        self.send_raw(("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode(), addr)

    def response_to(self, call_id, cseq):
        return self.receive(lambda s, h, b: s.startswith("SIP/2.0 ")
                            and h.get("call-id") == [call_id]
                            and h.get("cseq") == [f"{cseq} MESSAGE"])

    def mrs(self, ref):
        return self.receive(lambda s, h, b: s.startswith("MESSAGE ")
                            and f"<ref>{ref}</ref>".encode() in b)

    def authenticate(self, body):
        """Sends `body` unauthenticated, expects the 401 and keeps its nonce."""
        call_id, cseq, _ = self.message(body, authorize=False)
        start, h, _ = self.response_to(call_id, cseq)
        return start, h


class Scaip(DaemonCase):
    def setUp(self):
        super().setUp()
        self.assertNotEqual(self.daemon.scaip_port, 0, self.daemon.arcctl("status")["listeners"])
        d = self.daemon.arcctl("device", "add", "--account", CID, "--protocol", "scaip",
                               "--key", PASSWORD, "--label", "Bianchi, LUC")["device"]
        self.assertEqual(d["account"], CID)
        self.dev = Device(self.daemon.scaip_port)
        self.addCleanup(self.dev.close)

    def events(self):
        with sqlite3.connect(self.daemon.db) as db:
            rows = db.execute("SELECT transport, protocol, account, seq, raw, reply_kind, reply, "
                              "accepted, error FROM events WHERE protocol = 'scaip' "
                              "ORDER BY id").fetchall()
        # BLOB or TEXT, compared as text.
        return [tuple(v.decode() if isinstance(v, bytes) else v for v in row) for row in rows]

    def wait_alarms(self, predicate, what):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            listing = self.daemon.arcctl("alarms")
            if predicate(listing):
                return listing
            time.sleep(0.05)
        self.fail(f"timed out waiting for {what}: {self.daemon.arcctl('alarms')}")

    def test_tr91102_exchange(self):
        battery = "<mrq><ref>1242</ref><cid>678</cid><dty>27</dty><stc>16</stc></mrq>"
        # No credentials: challenged, nothing stored.
        start, h = self.dev.authenticate(battery)
        self.assertEqual(start, "SIP/2.0 401 Unauthorized")
        challenge = h["www-authenticate"][0]
        self.assertIn('realm="arc"', challenge)
        self.assertIn('qop="auth"', challenge)
        self.assertRegex(h["to"][0], r";tag=\w+")
        self.dev.nonce = re.search(r'nonce="([^"]+)"', challenge).group(1)
        self.assertEqual(self.events(), [])

        # Authenticated: 200 OK, then the <mrs> in a MESSAGE of its own, after the commit.
        call_id, cseq, _ = self.dev.message(battery)
        start, h, _ = self.dev.response_to(call_id, cseq)
        self.assertEqual(start, "SIP/2.0 200 OK")
        start, h, body = self.dev.mrs("1242")
        self.assertTrue(start.startswith(f"MESSAGE sip:{CID}@127.0.0.1:"), start)
        self.assertEqual(h["content-type"], ["application/scaip+xml"])
        self.assertEqual(body, b"<mrs><ref>1242</ref><snu>0</snu></mrs>")
        rows = self.events()
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0][:6], ("scaip_udp", "scaip", CID, "1242", battery, "SNU0"))
        self.assertEqual(rows[0][7], 1)
        self.assertNotIn("Authorization", rows[0][4])
        listing = self.wait_alarms(lambda r: r["open"] == 1, "the battery alarm")
        self.assertEqual((listing["alarms"][0]["class"], listing["alarms"][0]["kind"]),
                         ("technical", "low_battery"))

        # The same SIP transaction again (our 200 was lost): 200 again, handled once.
        _, _, raw = self.dev.message(battery, call_id=call_id, cseq=cseq)
        start, _, _ = self.dev.response_to(call_id, cseq)
        self.assertEqual(start, "SIP/2.0 200 OK")

        # A voice alarm without stc: the alarm state, critical. TR 91102: HOLD (snu=4) while no
        # operator has taken it.
        voice = "<mrq><ref>1243</ref><cid>678</cid><dty>2</dty></mrq>"
        call_id, cseq, _ = self.dev.message(voice)
        self.assertEqual(self.dev.response_to(call_id, cseq)[0], "SIP/2.0 200 OK")
        self.assertEqual(self.dev.mrs("1243")[2], b"<mrs><ref>1243</ref><snu>4</snu></mrs>")
        listing = self.wait_alarms(lambda r: r["open"] == 2, "the voice alarm")
        self.assertEqual((listing["alarms"][0]["class"], listing["alarms"][0]["kind"],
                          listing["alarms"][0]["account"], listing["alarms"][0]["state"]),
                         ("critical", "personal_emergency", CID, "new"))
        voice_id = listing["alarms"][0]["id"]

        # The sender re-sends the same request (a new SIP transaction): still HOLD, one alarm.
        call_id, cseq, _ = self.dev.message(voice)
        self.assertEqual(self.dev.response_to(call_id, cseq)[0], "SIP/2.0 200 OK")
        self.assertEqual(self.dev.mrs("1243")[2], b"<mrs><ref>1243</ref><snu>4</snu></mrs>")
        self.assertEqual(self.daemon.arcctl("alarms")["open"], 2)

        # An operator takes it: the next re-send gets snu=0 with duplex voice (mre=1).
        self.daemon.arcctl("alarm", "take", str(voice_id), "--actor", "anna")
        call_id, cseq, _ = self.dev.message(voice)
        self.assertEqual(self.dev.response_to(call_id, cseq)[0], "SIP/2.0 200 OK")
        self.assertEqual(self.dev.mrs("1243")[2],
                         b"<mrs><ref>1243</ref><snu>0</snu><mre>1</mre></mrs>")
        listing = self.daemon.arcctl("alarms")
        self.assertEqual(listing["open"], 2)
        voice_alarm = next(a for a in listing["alarms"] if a["id"] == voice_id)
        self.assertEqual((voice_alarm["state"], voice_alarm["event_count"]), ("taken", 1))

        # Heartbeat: snu=0, stored, no alarm.
        beat = "<mrq><ref>1244</ref><mty>PI</mty><cid>678</cid><dty>2</dty></mrq>"
        call_id, cseq, _ = self.dev.message(beat)
        self.assertEqual(self.dev.response_to(call_id, cseq)[0], "SIP/2.0 200 OK")
        self.assertEqual(self.dev.mrs("1244")[2], b"<mrs><ref>1244</ref><snu>0</snu></mrs>")
        # The SIP retransmission is stored once; each SCAIP re-send after HOLD is a request of
        # its own (stored, with the answer decided when it was stored).
        self.assertEqual([(r[3], r[5]) for r in self.events()],
                         [("1242", "SNU0"), ("1243", "SNU4"), ("1243", "SNU4"), ("1243", "SNU0"),
                          ("1244", "SNU0")])
        self.assertEqual(self.daemon.arcctl("alarms")["open"], 2)
        status = self.daemon.arcctl("status")["scaip"]
        self.assertEqual((status["heartbeats"], status["retransmissions"], status["requests"],
                          status["holds"], status["held_released"], status["held_now"]),
                         (1, 1, 5, 2, 1, 0))

    def test_refusals(self):
        self.dev.nonce = re.search(
            r'nonce="([^"]+)"', self.dev.authenticate("<mrq/>")[1]["www-authenticate"][0]).group(1)

        # Wrong password: challenged again, nothing stored, no <mrs>.
        call_id, cseq, _ = self.dev.message(
            "<mrq><ref>1</ref><cid>678</cid><dty>3</dty></mrq>", password="wrong-password!!")
        self.assertEqual(self.dev.response_to(call_id, cseq)[0], "SIP/2.0 401 Unauthorized")

        # Authenticated but cid missing: 200, then snu=7 naming the field, stored as refused.
        call_id, cseq, _ = self.dev.message("<mrq><ref>77</ref><dty>3</dty></mrq>")
        self.assertEqual(self.dev.response_to(call_id, cseq)[0], "SIP/2.0 200 OK")
        self.assertEqual(self.dev.mrs("77")[2],
                         b"<mrs><ref>77</ref><snu>7</snu>"
                         b"<ste>cid: mandatory element missing</ste></mrs>")

        # Another device's cid under this device's credentials: snu=3.
        call_id, cseq, _ = self.dev.message("<mrq><ref>78</ref><cid>999</cid><dty>3</dty></mrq>")
        self.assertEqual(self.dev.response_to(call_id, cseq)[0], "SIP/2.0 200 OK")
        self.assertIn(b"<snu>3</snu>", self.dev.mrs("78")[2])

        # Not SCAIP content: 415.
        call_id, cseq, _ = self.dev.message("x", content_type="text/plain")
        self.assertEqual(self.dev.response_to(call_id, cseq)[0],
                         "SIP/2.0 415 Unsupported Media Type")

        rows = self.events()
        self.assertEqual([(r[3], r[5], r[7]) for r in rows], [("77", "SNU7", 0), ("78", "SNU3", 0)])
        self.assertEqual(rows[0][8], "cid: mandatory element missing")
        self.assertEqual(self.daemon.arcctl("alarms")["open"], 0)
        status = self.daemon.arcctl("status")["scaip"]
        self.assertEqual((status["auth_failures"], status["forbidden"]), (1, 1))


class ScaipSim(DaemonCase):
    """arc-sim --scaip as the device: challenge, 200, the <mrs> MESSAGE answered, the snu."""

    def setUp(self):
        super().setUp()
        self.daemon.arcctl("device", "add", "--account", CID, "--protocol", "scaip",
                           "--key", PASSWORD, "--label", "Bianchi, pendant")

    def sim(self, *args, port=None, password=PASSWORD, timeout=60):
        cmd = [test_arc.BIN["arc-sim"], "--scaip", "--port", str(port or self.daemon.scaip_port),
               "--account", CID, "--password", password, "--deadline-s", "50", *args]
        if "--timeout-ms" not in args:
            cmd += ["--timeout-ms", "3000"]
        r = test_arc.run(cmd, timeout=timeout)
        return r.returncode, r.stdout.decode(), r.stderr.decode()

    def sim_json(self, *args, **kw):
        rc, out, err = self.sim("--json", *args, **kw)
        self.assertTrue(out, f"arc-sim printed nothing (rc {rc}): {err}")
        return rc, json.loads(out)

    def test_pendant_press_and_heartbeat(self):
        # A pendant press (dty 3, no stc: the alarm state), no voice asked: snu=0 at once.
        rc, out, err = self.sim("--dty", "3", "--ref", "P1", "--crd", "no-voice:")
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"^ref P1: snu 0, [0-9.]+ ms\n$")
        alarms = self.daemon.arcctl("alarms")
        self.assertEqual(alarms["open"], 1)
        self.assertEqual((alarms["alarms"][0]["account"], alarms["alarms"][0]["class"],
                          alarms["alarms"][0]["kind"]), (CID, "critical", "personal_emergency"))

        # Heartbeats: snu=0, counted as heartbeats, no alarm; a summary with the median.
        rc, rep = self.sim_json("--mty", "PI", "--dty", "2", "--count", "3")
        self.assertEqual(rc, 0, rep)
        self.assertEqual((rep["messages"], rep["ok"], rep["unanswered"]), (3, 3, 0))
        self.assertGreater(rep["latency_ms"]["p50"], 0)
        self.assertEqual([r["snu"] for r in rep["results"]], [0, 0, 0])
        self.assertEqual(self.daemon.arcctl("status")["scaip"]["heartbeats"], 3)
        self.assertEqual(self.daemon.arcctl("alarms")["open"], 1)

        # A summary in text for a load.
        rc, out, err = self.sim("--stc", "16", "--dty", "27", "--count", "5")
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"snu=0 +5\n")
        self.assertRegex(out, r"latency +p50 [0-9.]+ ms")

    def test_hold_until_an_operator_takes_the_alarm(self):
        # A pendant press asking for voice (no crd = sip:): HOLD, re-sent every second here
        # (arc-sim --hold-retry-s; SCAIP senders wait 5-20 s), snu=0 mre=1 once taken.
        cmd = [test_arc.BIN["arc-sim"], "--scaip", "--port", str(self.daemon.scaip_port),
               "--account", CID, "--password", PASSWORD, "--dty", "3", "--ref", "V1",
               "--hold-retry-s", "1", "--hold-max-s", "60", "--deadline-s", "60", "--json"]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        deadline = time.monotonic() + 20
        while self.daemon.arcctl("status")["scaip"]["holds"] < 2:
            self.assertIsNone(proc.poll(), "arc-sim ended while on hold")
            self.assertLess(time.monotonic(), deadline, "no second HOLD")
            time.sleep(0.1)
        alarms = self.daemon.arcctl("alarms")
        self.assertEqual((alarms["open"], alarms["alarms"][0]["state"]), (1, "new"))
        self.assertIsNone(proc.poll(), "arc-sim gave up while the alarm was untaken")
        self.daemon.arcctl("alarm", "take", str(alarms["alarms"][0]["id"]), "--actor", "anna")
        out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 0, err)
        result = json.loads(out)["results"][0]
        self.assertEqual((result["ref"], result["snu"], result["mre"]), ("V1", 0, 1))
        self.assertGreaterEqual(result["holds"], 2)
        self.assertGreaterEqual(result["latency_ms"], 1000)
        self.assertEqual(self.daemon.arcctl("alarms")["open"], 1)  # re-sends opened nothing

    def test_location_in_alarm_show(self):
        rc, _, err = self.sim("--dty", "3", "--crd", "no-voice:", "--lco", "11",
                              "--lte", "primo piano", "--geo", "45.0703,7.6869")
        self.assertEqual(rc, 0, err)
        alarm_id = self.daemon.arcctl("alarms")["alarms"][0]["id"]
        show = self.daemon.arcctl("alarm", "show", str(alarm_id))
        location = show["location"]
        self.assertEqual({k: location[k] for k in ("geo", "text", "code", "label")},
                         {"geo": "45.0703,7.6869", "text": "primo piano", "code": 11,
                          "label": "bagno"})
        self.assertEqual(location["event"], show["events"][0]["id"])
        r = test_arc.run([test_arc.BIN["arcctl"], "--socket", self.daemon.sock, "alarm", "show",
                          str(alarm_id)])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("location    bagno (011), 45.0703,7.6869, primo piano\n", r.stdout.decode())
        # An alarm whose events carry no location: null.
        self.assertEqual(self.sim("--dty", "27", "--stc", "16")[0], 0)
        other = next(a for a in self.daemon.arcctl("alarms")["alarms"] if a["id"] != alarm_id)
        self.assertIsNone(self.daemon.arcctl("alarm", "show", str(other["id"]))["location"])

    def test_wrong_password_and_nobody_listening(self):
        rc, out, err = self.sim(password="not-the-password")
        self.assertEqual(rc, 1, out)
        self.assertIn("401", out)
        self.assertEqual(self.daemon.arcctl("alarms")["open"], 0)
        # A port where nothing answers: bounded by the timeouts, exit 1, nothing printed as ok.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as quiet:
            quiet.bind(("127.0.0.1", 0))
            started = time.monotonic()
            rc, out, err = self.sim("--timeout-ms", "200", "--retries", "1",
                                    port=quiet.getsockname()[1])
            self.assertEqual(rc, 1, out)
            self.assertLess(time.monotonic() - started, 10)
            self.assertIn("no final <mrs>", out)
        # Usage errors: exit 2.
        rc, _, err = self.sim("--ref", "not valid!")
        self.assertEqual(rc, 2, err)


class TcpDevice(Device):
    """A SCAIP sender on one TCP connection: SIP framed by Content-Length (RFC 3261 18.3)."""

    def __init__(self, port, cid=CID, password=PASSWORD):
        self.port = port
        self.cid = cid
        self.password = password
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=15)
        self.cseq = 0
        self.nonce = None
        self.pending = []
        self.buf = b""
        self.via = "TCP"

    def send_raw(self, raw, addr=None):
        self.sock.sendall(raw)

    def recv_raw(self):
        """One SIP message off the stream (raises on EOF)."""
        while True:
            head_end = self.buf.find(b"\r\n\r\n")
            if head_end >= 0:
                m = re.search(rb"\r\nContent-Length: *(\d+)", self.buf[:head_end], re.I)
                total = head_end + 4 + (int(m.group(1)) if m else 0)
                if len(self.buf) >= total:
                    data, self.buf = self.buf[:total], self.buf[total:]
                    return data, None
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("arcd closed the connection")
            self.buf += chunk


class ScaipTcp(DaemonCase):
    """listen.scaip_tcp: the same exchange on one TCP connection, its limits, and arc-sim --tcp."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="arc-it-")
        self.daemon = test_arc.Daemon(self.tmp)
        self.addCleanup(self.kill_leftover)
        status = self.daemon.start(extra=("--set", "listen.scaip_tcp=127.0.0.1:0",
                                          "--set", "limits.idle_timeout_s=3"))
        ports = {l.get("name"): l.get("port") for l in status["listeners"]}
        self.assertIn("scaip_tcp", ports, status["listeners"])
        self.port = ports["scaip_tcp"]
        self.daemon.arcctl("device", "add", "--account", CID, "--protocol", "scaip",
                           "--key", PASSWORD, "--label", "Bianchi, LUC")

    def events(self):
        with sqlite3.connect(self.daemon.db) as db:
            return db.execute("SELECT transport, seq, reply_kind FROM events "
                              "WHERE protocol = 'scaip' ORDER BY id").fetchall()

    def test_exchange_on_one_connection(self):
        dev = TcpDevice(self.port)
        self.addCleanup(dev.close)
        battery = "<mrq><ref>2242</ref><cid>678</cid><dty>27</dty><stc>16</stc></mrq>"
        start, h = dev.authenticate(battery)
        self.assertEqual(start, "SIP/2.0 401 Unauthorized")
        dev.nonce = re.search(r'nonce="([^"]+)"', h["www-authenticate"][0]).group(1)
        self.assertEqual(self.events(), [])
        # The request in three pieces, cut inside the headers and inside the body.
        call_id, cseq, raw = dev.message(battery, send=False)
        for piece in (raw[:37], raw[37:len(raw) - 20], raw[len(raw) - 20:]):
            dev.send_raw(piece)
            time.sleep(0.05)
        start, _, _ = dev.response_to(call_id, cseq)
        self.assertEqual(start, "SIP/2.0 200 OK")
        # The <mrs> comes back on the same connection, with a TCP Via.
        start, h, body = dev.mrs("2242")
        self.assertTrue(start.startswith("MESSAGE sip:678@"), start)
        self.assertTrue(h["via"][0].startswith("SIP/2.0/TCP "), h["via"])
        self.assertEqual(body, b"<mrs><ref>2242</ref><snu>0</snu></mrs>")
        self.assertEqual(self.events(), [("scaip_tcp", "2242", "SNU0")])
        listing = self.daemon.arcctl("alarms")
        self.assertEqual((listing["open"], listing["alarms"][0]["kind"]), (1, "low_battery"))
        # Two requests back to back in one write: both answered, in order.
        _, _, raw1 = dev.message("<mrq><ref>2243</ref><mty>PI</mty><cid>678</cid><dty>2</dty>"
                                 "</mrq>", send=False)
        _, _, raw2 = dev.message("<mrq><ref>2244</ref><mty>PI</mty><cid>678</cid><dty>2</dty>"
                                 "</mrq>", send=False)
        dev.send_raw(raw1 + b"\r\n\r\n" + raw2)
        self.assertIn(b"<snu>0</snu>", dev.mrs("2243")[2])
        self.assertIn(b"<snu>0</snu>", dev.mrs("2244")[2])
        status = self.daemon.arcctl("status")["scaip"]
        self.assertEqual((status["heartbeats"], status["tcp_connections"]), (2, 1))

    def test_bad_stream_and_limits(self):
        # No Content-Length on a stream: 400 naming it, then the connection closes.
        dev = TcpDevice(self.port)
        self.addCleanup(dev.close)
        dev.send_raw(b"MESSAGE sip:arc@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;"
                     b"branch=z9hG4bK1\r\nCall-ID: x\r\nCSeq: 1 MESSAGE\r\n\r\n<mrq/>")
        start, h, _ = dev.parse_next()
        self.assertEqual(start, "SIP/2.0 400 Bad Request")
        self.assertIn("Content-Length", h["warning"][0])
        with self.assertRaises(EOFError):
            dev.recv_raw()
        # Headers beyond 8 KiB: 513 and closed, whatever follows.
        big = TcpDevice(self.port)
        self.addCleanup(big.close)
        big.send_raw(b"MESSAGE sip:arc@127.0.0.1 SIP/2.0\r\nSubject: " + b"x" * 9000)
        self.assertEqual(big.parse_next()[0], "SIP/2.0 513 Message Too Large")
        with self.assertRaises(EOFError):
            big.recv_raw()
        # A connection that sends nothing is closed after limits.idle_timeout_s (3 s here).
        idle = TcpDevice(self.port)
        self.addCleanup(idle.close)
        started = time.monotonic()
        with self.assertRaises(EOFError):
            idle.recv_raw()
        self.assertLess(time.monotonic() - started, 10)
        self.assertGreaterEqual(time.monotonic() - started, 2)
        status = self.daemon.arcctl("status")["scaip"]
        self.assertEqual((status["bad_sip"], status["tcp_idle_closed"]), (2, 1))
        self.assertEqual(self.events(), [])

    def test_arc_sim_over_tcp(self):
        r = test_arc.run([test_arc.BIN["arc-sim"], "--scaip", "--tcp", "--port", str(self.port),
                          "--account", CID, "--password", PASSWORD, "--json", "--stc", "16",
                          "--dty", "27", "--count", "20", "--connections", "2",
                          "--deadline-s", "50"], timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        rep = json.loads(r.stdout)
        self.assertEqual((rep["messages"], rep["ok"], rep["unanswered"]), (40, 40, 0))
        self.assertEqual(rep["challenges"], 2)  # one per connection, then the nonce is reused
        kinds = {row[0] for row in self.events()}
        self.assertEqual(kinds, {"scaip_tcp"})
        self.assertEqual(len(self.events()), 40)


if __name__ == "__main__":
    test_arc.main()
