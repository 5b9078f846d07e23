#!/usr/bin/env python3
"""Integration tests of subscribers (assistiti): real arcd on 127.0.0.1, commands on its admin
socket, alarms from real DC-09 frames.

Usage: test_subscribers.py --arcd PATH --arcctl PATH --arc-sim PATH --source DIR [unittest args]
"""

import json
import os
import subprocess
import socket
import sqlite3
import sys
import time
import unittest

import test_arc
from test_arc import DaemonCase, sia_frame


class Subscribers(DaemonCase):
    """A subscriber with contacts and a device; away pauses inactivity alarms only."""

    def admin(self, cmd, **fields):
        """One admin-socket request; returns the result (fails the test on an error)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(self.daemon.sock)
            s.sendall((json.dumps({"cmd": cmd, **fields}) + "\n").encode())
            data = b""
            while not data.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        reply = json.loads(data)
        self.assertTrue(reply["ok"], f"{cmd}: {reply}")
        return reply["result"]

    def send(self, code):
        self.seq += 1
        reply = self.daemon.exchange_tcp(sia_frame("4242", self.seq, code))
        self.assertIn(b'"ACK"', reply, f"{code}: {reply!r}")

    def open_alarms(self):
        return self.daemon.arcctl("alarms")["alarms"]

    def test_record_devices_and_away_pause(self):
        self.seq = 0
        sub = self.admin("subscriber.add", code="TS-0042", first_name="Maria",
                         last_name="Rossi", birth_date="1938-04-12",
                         address={"comune": "Torino", "street": "Via Roma", "number": "12",
                                  "floor": "3", "access_notes": "citofono Rossi"},
                         phones=["011 555 1234"], vulnerability="anziano_solo",
                         medical_notes="insulina alle 8", key_safe_code="4711")["subscriber"]
        sid = sub["id"]
        self.admin("contact.add", subscriber=sid, priority=1, name="Anna Neri",
                   relation="vicina", phones=["011 222 3333"], has_key=True,
                   reachable="sempre")
        self.admin("contact.add", subscriber=sid, priority=2, name="Luca Rossi",
                   relation="figlio", phones=["347 1111111"])
        dev = self.admin("device.add", account="4242", protocol="dc09", type="home_unit",
                         subscriber=sid)["device"]
        self.assertEqual(dev["subscriber"], sid)

        shown = self.admin("subscriber.show", account="4242")["subscriber"]
        self.assertEqual([c["name"] for c in shown["contacts"]], ["Anna Neri", "Luca Rossi"])
        self.assertEqual([d["account"] for d in shown["devices"]], ["4242"])
        self.assertTrue(shown["sensitive_hidden"])
        self.assertNotIn("medical_notes", shown)
        secret = self.admin("subscriber.show", subscriber=sid, sensitive=True)["subscriber"]
        self.assertEqual(secret["key_safe_code"], "4711")
        audit = self.daemon.arcctl("audit", "list")["entries"]
        self.assertIn("subscriber.view_sensitive", [e["action"] for e in audit])
        self.assertFalse(any("4711" in e["detail"] or "insulina" in e["detail"] for e in audit))

        # Away until a date to come: inactivity is stored but raises nothing...
        self.admin("subscriber.set_status", subscriber=sid, status="away", until="2099-12-20")
        self.send("NA")
        time.sleep(0.5)
        self.assertEqual(self.open_alarms(), [])
        con = sqlite3.connect(self.daemon.db)
        try:
            stored = con.execute("SELECT count(*) FROM events WHERE account = '4242' "
                                 "AND instr(CAST(raw AS TEXT), '/NA') > 0").fetchone()[0]
        finally:
            con.close()
        self.assertEqual(stored, 1, "the inactivity event is stored")
        # ...while a pendant press still is an alarm.
        self.send("QA")
        deadline = time.monotonic() + 10
        while not self.open_alarms() and time.monotonic() < deadline:
            time.sleep(0.05)
        kinds = [a["kind"] for a in self.open_alarms()]
        self.assertEqual(kinds, ["personal_emergency"])

        # The pause survives a restart (the engine rebuilds it from the subscriber's status).
        self.daemon.stop()
        self.daemon.start()
        self.send("NA")
        time.sleep(0.5)
        self.assertEqual([a["kind"] for a in self.open_alarms()], ["personal_emergency"])

        # Back home: inactivity is an alarm again.
        self.admin("subscriber.set_status", subscriber=sid, status="active")
        self.send("NA")
        deadline = time.monotonic() + 10
        while len(self.open_alarms()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(sorted(a["kind"] for a in self.open_alarms()),
                         ["inactivity", "personal_emergency"])


class SubscribersCli(DaemonCase):
    """The same record through arcctl: tables for people, --json for scripts."""

    def table(self, *args):
        r = test_arc.run([test_arc.BIN["arcctl"], "--socket", self.daemon.sock, *args])
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.decode()

    def test_arcctl_subscriber_contact_device_status(self):
        sub = self.daemon.arcctl("subscriber", "add", "--code", "TS-0042", "--first-name",
                                 "Maria", "--last-name", "Rossi", "--comune", "Torino",
                                 "--street", "Via Roma", "--number", "12", "--floor", "3",
                                 "--access-notes", "citofono Rossi", "--phone", "011 555 1234",
                                 "--medical-notes", "insulina alle 8", "--key-safe", "4711",
                                 "--vulnerability", "anziano_solo")["subscriber"]
        sid = str(sub["id"])
        self.daemon.arcctl("contact", "add", sid, "--name", "Anna Neri", "--relation", "vicina",
                           "--phone", "011 222 3333", "--has-key", "--priority", "1",
                           "--reachable", "sempre")
        dev = self.daemon.arcctl("device", "add", "--account", "4242", "--protocol", "dc09",
                                 "--subscriber", sid)["device"]
        self.assertEqual(dev["subscriber"], sub["id"])
        shown = self.daemon.arcctl("subscriber", "show", "--account", "4242")["subscriber"]
        self.assertEqual(shown["contacts"][0]["name"], "Anna Neri")
        self.assertNotIn("key_safe_code", shown)
        text = self.table("subscriber", "show", sid)
        for expected in ("TS-0042", "Rossi", "Via Roma", "Anna Neri", "4242"):
            self.assertIn(expected, text)
        self.assertNotIn("4711", text)
        self.assertIn("4711", self.table("subscriber", "show", sid, "--sensitive"))
        self.assertIn("TS-0042", self.table("subscriber", "list"))
        away = self.daemon.arcctl("subscriber", "status", sid, "away", "--until",
                                  "2099-12-20")["subscriber"]
        self.assertEqual(away["status"], "away")
        self.assertTrue(away["away_until"].startswith("2099-12-2"))
        bad = self.daemon.arcctl("subscriber", "status", sid, "away", "--until", "2099-13-01",
                                 expect_rc=1)
        self.assertIn("until", bad.stderr.decode() + bad.stdout.decode())


class KeyRotation(DaemonCase):
    """arcd --rotate-data-key: a new key file, every sealed field readable with it, refused while
    arcd runs."""

    def rotate(self):
        args = [test_arc.BIN["arcd"], "--config", os.path.join(test_arc.SOURCE, "config", "arcd.toml"),
                "--set", f"storage.path={self.daemon.db}", "--set", f"listen.api={self.daemon.sock}",
                "--set", "engine.event_codes=" + os.path.join(test_arc.SOURCE, "config",
                                                             "event-codes.toml"),
                "--rotate-data-key"]
        return subprocess.run(args, cwd=self.daemon.workdir, capture_output=True, timeout=60)

    def test_rotate_and_restart(self):
        self.add_devices()
        sub = self.daemon.arcctl("subscriber", "add", "--code", "TS-7", "--first-name", "Maria",
                                 "--last-name", "Rossi", "--comune", "Torino",
                                 "--medical-notes", "insulina alle 8",
                                 "--key-safe", "4711")["subscriber"]
        running = self.rotate()
        self.assertEqual(running.returncode, 1, running.stderr)
        self.assertIn("stop it first", (running.stdout + running.stderr).decode())

        key_path = os.path.join(os.path.dirname(self.daemon.db), "arc.key")
        with open(key_path, "rb") as f:
            old_key = f.read()
        self.daemon.stop()
        r = self.rotate()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("3 field(s)", (r.stdout + r.stderr).decode())
        with open(key_path, "rb") as f:
            new_key = f.read()
        self.assertEqual(len(new_key), 32)
        self.assertNotEqual(new_key, old_key)
        self.assertEqual(os.stat(key_path).st_mode & 0o777, 0o600)
        self.assertFalse(os.path.exists(key_path + ".next"))

        self.daemon.start()
        shown = self.daemon.arcctl("subscriber", "show", str(sub["id"]), "--sensitive")["subscriber"]
        self.assertEqual(shown["medical_notes"], "insulina alle 8")
        self.assertEqual(shown["key_safe_code"], "4711")
        rc, rep, err = self.daemon.sim("--account", test_arc.AES, "--key", test_arc.AES_KEY)
        self.assertEqual((rc, rep.get("acked")), (0, 1), f"encrypted device after rotation: {err}")


if __name__ == "__main__":
    test_arc.main()
