#!/usr/bin/env python3
"""Integration tests of the operator API: real arcd on 127.0.0.1 (listen.operator on a port
chosen at run time), operators created with arcctl, JSON lines over TCP as arc-console speaks.

Usage: test_operator_api.py --arcd PATH --arcctl PATH --arc-sim PATH --source DIR [unittest args]
"""

import json
import os
import shutil
import socket
import sqlite3
import ssl
import subprocess
import time
import unittest

import test_arc
from test_arc import DaemonCase, run, sia_frame

PASSWORD = "segreta-di-prova-1"


class Client:
    """One operator-API connection: request/response, pushes kept apart."""

    def __init__(self, port, tls=None):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        if tls is not None:
            self.sock = tls.wrap_socket(self.sock, server_hostname="127.0.0.1")
        self.buf = b""
        self.pushes = []
        self.next_id = 0

    def close(self):
        self.sock.close()

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("arcd closed the connection")
            self.buf += chunk
        raw, self.buf = self.buf.split(b"\n", 1)
        return json.loads(raw)

    def wait_push(self):
        """The first push received (waits for one; the socket timeout bounds the wait)."""
        if not self.pushes:
            msg = self.line()
            assert "push" in msg, msg
            self.pushes.append(msg)
        return self.pushes[0]

    def call(self, cmd, **fields):
        self.next_id += 1
        self.sock.sendall((json.dumps({"cmd": cmd, "id": self.next_id, **fields}) + "\n").encode())
        while True:
            msg = self.line()
            if "push" in msg:
                self.pushes.append(msg)
                continue
            assert msg["id"] == self.next_id, msg
            return msg


class OperatorApi(DaemonCase):
    """Login, roles, an exclusive take raced by two operators, reassign, release, audit."""

    def add_operator(self, name, role):
        r = run([test_arc.BIN["arcctl"], "--socket", self.daemon.sock, "operator", "add", name,
                 "--role", role, "--password-stdin"], input_bytes=(PASSWORD + "\n").encode())
        self.assertEqual(r.returncode, 0, r.stderr)

    def operator_port(self):
        for listener in self.daemon.arcctl("status")["listeners"]:
            if listener.get("name") == "operator":
                return int(listener["port"])
        self.fail("arcd reports no operator listener")

    def login(self, name):
        c = Client(self.port)
        r = c.call("login", username=name, password=PASSWORD)
        self.assertTrue(r["ok"], r)
        return c

    def test_login_roles_exclusive_take_and_audit(self):
        self.port = self.operator_port()
        for name, role in (("anna", "operator"), ("marco", "operator"), ("sara", "supervisor")):
            self.add_operator(name, role)
        self.daemon.arcctl("device", "add", "--account", "4242", "--label", "pendente")

        anon = Client(self.port)
        self.assertEqual(anon.call("alarms")["error"]["code"], "unauthorized")
        bad = anon.call("login", username="anna", password="non-e-questa-1")
        self.assertEqual(bad["error"]["code"], "login_failed")
        self.assertEqual(bad["error"]["message"],
                         anon.call("login", username="ghost", password=PASSWORD)["error"]["message"])

        anna, marco, sara = self.login("anna"), self.login("marco"), self.login("sara")
        self.assertEqual(anna.call("device.add", account="9", protocol="dc09")["error"]["code"],
                         "forbidden")
        self.assertTrue(anna.call("alarms.subscribe")["ok"])

        reply = self.daemon.exchange_tcp(sia_frame("4242", 1, "QA"))
        self.assertIn(b'"ACK"', reply)
        deadline = time.time() + 10
        alarms = []
        while time.time() < deadline and not alarms:
            alarms = anna.call("alarms")["result"]["alarms"]
            time.sleep(0.05)
        self.assertEqual(len(alarms), 1)
        alarm_id = alarms[0]["id"]
        # The push reached the subscribed console too.
        self.assertEqual(anna.wait_push()["push"], "change")

        # Both press take at once: exactly one wins, the other is told who holds it.
        for c in (anna, marco):
            c.next_id += 1
            c.sock.sendall((json.dumps({"cmd": "alarm.take", "id": c.next_id,
                                        "alarm": alarm_id}) + "\n").encode())
        answers = {}
        for name, c in (("anna", anna), ("marco", marco)):
            while True:
                msg = c.line()
                if "push" not in msg:
                    answers[name] = msg
                    break
        winners = [n for n, a in answers.items() if a["ok"]]
        self.assertEqual(len(winners), 1, answers)
        winner = winners[0]
        loser = "marco" if winner == "anna" else "anna"
        self.assertEqual(answers[loser]["error"]["code"], "held")
        self.assertEqual(answers[loser]["error"]["message"], f"held by {winner}")

        clients = {"anna": anna, "marco": marco}
        r = sara.call("alarm.reassign", alarm=alarm_id, to=loser)
        self.assertTrue(r["ok"], r)
        self.assertEqual(r["result"]["alarm"]["holder"], loser)
        r = clients[loser].call("alarm.release", alarm=alarm_id)
        self.assertEqual(r["result"]["alarm"]["state"], "new")
        r = clients[winner].call("alarm.take", alarm=alarm_id)
        self.assertTrue(r["ok"], r)
        self.assertTrue(clients[winner].call("alarm.call", alarm=alarm_id, whom="Anna Neri",
                                             number="011 222 3333", outcome="answered")["ok"])
        self.assertTrue(clients[winner].call("alarm.acknowledge", alarm=alarm_id)["ok"])
        self.assertEqual(clients[winner].call("alarm.close", alarm=alarm_id,
                                              outcome="as you like")["error"]["code"], "invalid")
        r = clients[winner].call("alarm.close", alarm=alarm_id, outcome="resolved_by_phone")
        self.assertTrue(r["ok"], r)
        floor = sara.call("floor")["result"]
        online = {o["username"]: o["online"] for o in floor["operators"]}
        self.assertEqual(online, {"anna": True, "marco": True, "sara": True})
        token = self.login("anna").call("whoami")
        self.assertEqual(token["result"]["operator"]["username"], "anna")
        for c in (anon, anna, marco, sara):
            c.close()

        # The audit trail names the operators and where they were, and still verifies.
        verify = self.daemon.arcctl("audit", "verify")
        self.assertTrue(verify["intact"], verify)
        self.assertGreaterEqual(verify["entries"], 10)
        self.daemon.stop()
        db = sqlite3.connect(self.daemon.db)
        rows = db.execute("SELECT actor, action, target, peer FROM audit ORDER BY seq").fetchall()
        actions = [(a, act) for a, act, _, _ in rows]
        self.assertIn(("anonymous", "login.failed"), actions)
        self.assertIn((winner, "alarm.take"), actions)
        self.assertIn(("sara", "alarm.reassign"), actions)
        self.assertIn((loser, "alarm.release"), actions)
        self.assertIn((winner, "alarm.close"), actions)
        self.assertTrue(all(peer.startswith("127.0.0.1:") for a, act, _, peer in rows
                            if act.startswith("alarm.")), rows)
        state, holder, outcome = db.execute(
            "SELECT state, holder, outcome FROM alarms WHERE id = ?", (alarm_id,)).fetchone()
        self.assertEqual((state, holder, outcome), ("closed", winner, "resolved_by_phone"))
        db.close()


class OperatorApiTls(DaemonCase):
    """With [operator_tls] the listener speaks TLS only; a client that checks the certificate
    logs in; clear text gets nothing."""

    def test_tls_login_and_clear_text_refused(self):
        if shutil.which("openssl") is None:
            self.skipTest("no openssl command to make a test certificate")
        self.daemon.stop()
        cert = os.path.join(self.tmp, "cert.pem")
        key = os.path.join(self.tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], check=True, capture_output=True, timeout=60)
        self.daemon.start(extra=("--set", f"operator_tls.cert={cert}",
                                 "--set", f"operator_tls.key={key}"))
        port = 0
        for listener in self.daemon.arcctl("status")["listeners"]:
            if listener.get("name") == "operator":
                port = int(listener["port"])
                self.assertTrue(listener["tls"], listener)
        self.assertTrue(port)
        r = run([test_arc.BIN["arcctl"], "--socket", self.daemon.sock, "operator", "add", "anna",
                 "--role", "operator", "--password-stdin"], input_bytes=(PASSWORD + "\n").encode())
        self.assertEqual(r.returncode, 0, r.stderr)

        ctx = ssl.create_default_context(cafile=cert)
        c = Client(port, tls=ctx)
        hello = c.call("hello")
        self.assertTrue(hello["result"]["tls"], hello)
        r = c.call("login", username="anna", password=PASSWORD)
        self.assertTrue(r["ok"], r)
        self.assertEqual(c.call("whoami")["result"]["operator"]["username"], "anna")
        c.close()

        # A clear-text client never gets an answer, let alone a login.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as plain:
            plain.sendall(b'{"cmd":"hello"}\n')
            data = b""
            try:
                while True:
                    chunk = plain.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            except (ConnectionResetError, socket.timeout):
                pass
        self.assertNotIn(b'"ok"', data)

        # A client that does not trust the certificate is refused by its own check.
        with self.assertRaises(ssl.SSLError):
            Client(port, tls=ssl.create_default_context())
        self.assertTrue(self.daemon.arcctl("status")["listeners"])  # arcd is still serving


if __name__ == "__main__":
    test_arc.main()
