#!/usr/bin/env python3
"""Integration tests of phone reports (segnalazioni): real arcd on 127.0.0.1, arcctl case open
on its admin socket, the case through the queue, dispatch proposal, close and a restart.

Usage: test_cases.py --arcd PATH --arcctl PATH --arc-sim PATH --source DIR [unittest args]
"""

import test_arc
from test_arc import DaemonCase


class Cases(DaemonCase):
    """An operator takes a call about a person with no device and a team is sent."""

    def text(self, *args, expect_rc=0):
        r = test_arc.run([test_arc.BIN["arcctl"], "--socket", self.daemon.sock, *args])
        self.assertEqual(r.returncode, expect_rc, (r.stdout + r.stderr).decode())
        return (r.stdout + r.stderr).decode()

    def test_phone_report_through_dispatch_and_restart(self):
        d = self.daemon
        d.arcctl("team", "add", "PIS Forlì", "--territory", "Forlì", "--schedule", "24x7")
        d.arcctl("team", "add", "PIS Cesena", "--territory", "Cesena", "--schedule", "24x7")
        out = self.text("case", "open", "--category", "domestic_violence", "--urgency", "critical",
                        "--caller", "citizen", "--caller-name", "Giovanna Esposito",
                        "--caller-phone", "333 7654321", "--person", "Lucia Ferraro",
                        "--details", "circa 40 anni, due figli", "--comune", "Forlì",
                        "--address", "Via Ravegnana 118", "--summary",
                        "urla dall'appartamento accanto", "--actor", "anna")
        self.assertRegex(out, r"case opened as alarm \d+ \(critical, taken by anna\)")
        self.assertIn("Giovanna Esposito, 333 7654321", out)

        alarms = d.arcctl("alarms")["alarms"]
        self.assertEqual(len(alarms), 1, alarms)
        a = alarms[0]
        self.assertEqual((a["kind"], a["class"], a["state"], a["holder"], a["code"]),
                         ("phone_report", "critical", "taken", "anna", "domestic_violence"))
        self.assertNotIn("Lucia", a["text"])
        alarm_id = str(a["id"])

        shown = d.arcctl("alarm", "show", alarm_id)
        self.assertEqual(shown["case"]["person"]["name"], "Lucia Ferraro")
        self.assertEqual(shown["case"]["place"], {"comune": "Forlì",
                                                  "address": "Via Ravegnana 118"})
        self.assertIn("case (phone report)", self.text("alarm", "show", alarm_id))
        audit = d.arcctl("audit", "list", "--limit", "20")["entries"]
        opened = [e for e in audit if e["action"] == "case.open"]
        self.assertEqual([(e["actor"], e["target"]) for e in opened], [("anna", alarm_id)])
        self.assertNotIn("Lucia", str(audit))

        proposed = d.arcctl("team", "propose", "--alarm", alarm_id)
        self.assertEqual([t["name"] for t in proposed["teams"]], ["PIS Forlì"])

        # Sealed at rest: the names are not in the database file.
        data = b""
        for path in (d.db, d.db + "-wal"):
            try:
                with open(path, "rb") as f:
                    data += f.read()
            except FileNotFoundError:
                pass
        for secret in (b"Lucia Ferraro", b"Giovanna Esposito", b"Ravegnana"):
            self.assertNotIn(secret, data)

        # A restart keeps the case open, in the queue, with its record.
        d.stop()
        d.start()
        self.assertEqual([x["id"] for x in d.arcctl("alarms")["alarms"]], [int(alarm_id)])
        self.assertEqual(d.arcctl("alarm", "show", alarm_id)["case"]["caller"]["kind"], "citizen")

        d.arcctl("alarm", "ack", alarm_id, "--actor", "anna")
        d.arcctl("alarm", "dispatch", alarm_id, "--team", "PIS Forlì", "--actor", "anna")
        self.assertEqual(d.arcctl("alarm", "show", alarm_id)["alarm"]["state"], "dispatched")

    def test_bad_reports_are_refused(self):
        out = self.text("case", "open", "--category", "other", "--caller", "police",
                        "--person", "Mario", "--summary", "x", expect_rc=1)
        self.assertIn("place.comune", out)
        out = self.text("case", "open", "--category", "other", "--caller", "police",
                        "--subscriber", "TS-404", "--summary", "x", expect_rc=1)
        self.assertIn("no subscriber", out)
        out = self.text("case", "open", "--category", "lost_cat", "--caller", "police",
                        "--summary", "x", expect_rc=2)
        self.assertIn("category", out)
        self.assertEqual(self.daemon.arcctl("alarms")["alarms"], [])


if __name__ == "__main__":
    test_arc.main()
