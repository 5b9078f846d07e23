#!/usr/bin/env python3
"""Integration tests of retention with legal holds and of `arcctl device test`: a real arcd on
127.0.0.1, real frames, rows aged with SQL, then `arcctl retention run`.

Usage: test_retention.py --arcd PATH --arcctl PATH --arc-sim PATH --source DIR [unittest args]
"""

import json
import sqlite3
import subprocess
import time
import unittest

import test_arc
from test_arc import PLAIN, DaemonCase, sia_frame

FOUR_YEARS_MS = 4 * 365 * 86400 * 1000


class Retention(DaemonCase):
    """Old closed alarms and events go; held, open and recent ones stay; the trail verifies."""

    def send(self, account, seq, code):
        reply = self.daemon.exchange_tcp(sia_frame(account, seq, code))
        self.assertIn(b'"ACK"', reply, f"{code} from {account}: {reply!r}")

    def wait_open(self, count):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            listing = self.daemon.arcctl("alarms")
            if listing["open"] == count:
                return listing
            time.sleep(0.05)
        self.fail(f"not {count} open alarms: {self.daemon.arcctl('alarms')}")

    def sql(self, statement, args=()):
        con = sqlite3.connect(self.daemon.db, timeout=10)
        try:
            with con:
                return con.execute(statement, args).fetchall()
        finally:
            con.close()

    def test_purge_keeps_held_open_and_recent(self):
        for account in (PLAIN, "2001", "3003"):
            self.daemon.arcctl("device", "add", "--account", account, "--protocol", "dc09")
        self.send(PLAIN, 1, "QA")   # alarm A: closed, then purged
        self.send("2001", 2, "QA")  # alarm B: closed, held
        self.send("3003", 3, "QA")  # alarm C: stays open
        self.send(PLAIN, 4, "RP")   # a periodic test: an event alone, purged
        listing = self.wait_open(3)
        by_account = {a["account"]: a["id"] for a in listing["alarms"]}
        a, b, c = by_account[PLAIN], by_account["2001"], by_account["3003"]
        for alarm in (a, b):
            self.daemon.arcctl("alarm", "take", str(alarm), "--actor", "anna")
            self.daemon.arcctl("alarm", "ack", str(alarm), "--actor", "anna")
            self.daemon.arcctl("alarm", "close", str(alarm), "--outcome", "false_alarm",
                               "--actor", "anna")
        self.wait_open(1)
        self.send("2001", 5, "RP")  # recent: stays
        deadline = time.monotonic() + 20
        while self.sql("SELECT value FROM meta WHERE key = 'engine_event_cursor'")[0][0] < 5:
            self.assertLess(time.monotonic(), deadline, "the engine did not see the frames")
            time.sleep(0.05)
        # Four years pass for everything but the last frame.
        self.sql("UPDATE events SET received_ms = received_ms - ? WHERE seq != '0005'",
                 (FOUR_YEARS_MS,))
        self.sql("UPDATE alarms SET opened_ms = opened_ms - ?1, last_event_ms = last_event_ms - ?1,"
                 " closed_ms = closed_ms - ?1", (FOUR_YEARS_MS,))

        hold = self.daemon.arcctl("hold", "add", "--alarm", str(b),
                                  "--reason", "Procura di Torino, proc. 77/26")["hold"]
        self.assertEqual((hold["scope"], hold["ref"], hold["active"]), ("alarm", b, True))
        r = self.daemon.arcctl("hold", "add", "--alarm", str(a), expect_rc=2)
        self.assertIn(b"--reason", r.stderr)
        self.assertEqual(len(self.daemon.arcctl("hold", "list")["holds"]), 1)

        dry = self.daemon.arcctl("retention", "run", "--dry-run")["retention"]
        self.assertEqual((dry["dry_run"], dry["alarms"], dry["events"]), (True, 1, 2), dry)
        events_before = self.sql("SELECT count(*) FROM events")[0][0]
        self.assertEqual(events_before, 5, "a dry run deletes nothing")

        done = self.daemon.arcctl("retention", "run")["retention"]
        self.assertEqual((done["dry_run"], done["alarms"], done["events"]), (False, 1, 2), done)
        self.assertIsNone(done["error"])
        text = test_arc.run([test_arc.BIN["arcctl"], "--socket", self.daemon.sock,
                             "retention", "run", "--dry-run"])
        self.assertEqual(text.returncode, 0, text.stderr)
        self.assertIn(b"events to purge", text.stdout)

        r = self.daemon.arcctl("alarm", "show", str(a), expect_rc=1)
        self.assertIn(b"not_found", r.stderr)
        shown = self.daemon.arcctl("alarm", "show", str(b))
        self.assertEqual(shown["alarm"]["id"], b)
        self.assertTrue(shown["events"], "the held alarm keeps its events")
        self.assertEqual(self.daemon.arcctl("alarm", "show", str(c))["alarm"]["state"], "new")
        seqs = sorted(row[0] for row in self.sql("SELECT seq FROM events"))
        self.assertEqual(seqs, ["0002", "0003", "0005"])

        verify = self.daemon.arcctl("audit", "verify")
        self.assertTrue(verify["intact"], verify)
        actions = [e["action"] for e in self.daemon.arcctl("audit", "list")["entries"]]
        self.assertIn("hold.add", actions)
        self.assertIn("retention.purge", actions)
        status = self.daemon.arcctl("status")["retention"]
        self.assertEqual(status["days"], 1095)
        self.assertEqual(status["last_run"]["alarms"], 1)
        self.assertIsNotNone(status["next_run"])
        text = test_arc.run([test_arc.BIN["arcctl"], "--socket", self.daemon.sock, "status"])
        self.assertIn(b"next run", text.stdout)

        released = self.daemon.arcctl("hold", "release", str(hold["id"]),
                                      "--reason", "archiviato")["hold"]
        self.assertFalse(released["active"])
        again = self.daemon.arcctl("retention", "run")["retention"]
        self.assertEqual((again["alarms"], again["events"]), (1, 1), again)
        r = self.daemon.arcctl("alarm", "show", str(b), expect_rc=1)
        self.assertIn(b"not_found", r.stderr)
        self.assertTrue(self.daemon.arcctl("audit", "verify")["intact"])
        self.assertEqual(len(self.daemon.arcctl("hold", "list", "--all")["holds"]), 1)


class DeviceTest(DaemonCase):
    """`arcctl device test` waits for the next frame and says what became of it."""

    def start_test(self, *args):
        proc = subprocess.Popen([test_arc.BIN["arcctl"], "--socket", self.daemon.sock, "device",
                                 "test", PLAIN, *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        self.addCleanup(lambda: (proc.poll() is None and proc.kill(), proc.wait(),
                                 proc.stdout.close(), proc.stderr.close()))
        line = proc.stderr.readline()  # printed once it knows the last frame: press now
        self.assertIn(b"waiting up to", line)
        return proc

    def test_reports_the_frame_the_reply_and_the_alarm(self):
        self.add_devices()
        proc = self.start_test("--timeout", "60")
        rc, rep, err = self.daemon.sim("--account", PLAIN)
        self.assertEqual((rc, rep.get("acked")), (0, 1), f"{rep} {err}")
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        text = out.decode()
        self.assertIn("QA", text)                 # the event code received
        self.assertIn("ACK", text)                # what the centre answered
        self.assertIn("queued as alarm", text)    # what the engine did
        self.assertIn('"SIA-DCS"', text)          # the raw frame

    def test_test_mode_is_stored_not_queued(self):
        self.add_devices()
        self.daemon.arcctl("device", "set-mode", PLAIN, "test")
        proc = self.start_test("--timeout", "60")
        rc, rep, err = self.daemon.sim("--account", PLAIN)
        self.assertEqual((rc, rep.get("acked")), (0, 1), f"{rep} {err}")
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        self.assertIn("test mode: stored, not queued", out.decode())

    def test_times_out_with_exit_1(self):
        self.add_devices()
        proc = self.start_test("--timeout", "1")
        out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 1, out)
        self.assertIn(b"no frame from 1234 within 1 s", err)
        r = self.daemon.arcctl("device", "test", "9999", "--timeout", "1", expect_rc=1)
        self.assertIn(b"not_found", r.stderr)


if __name__ == "__main__":
    test_arc.main()
