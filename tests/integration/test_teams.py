#!/usr/bin/env python3
"""Integration tests of PIS teams: real arcd on 127.0.0.1, arcctl on its admin socket, a pendant
alarm from arc-sim, and the dispatch proposal at fixed instants (team.propose's `at`).

Usage: test_teams.py --arcd PATH --arcctl PATH --arc-sim PATH --source DIR [unittest args]
"""

import time

import test_arc
from test_arc import DaemonCase

# Wednesday 9 Dec 2026 in Torino (CET, UTC+1): 10:00 is office hours, 21:00 is not.
WED_10 = "2026-12-09T09:00:00Z"
WED_21 = "2026-12-09T20:00:00Z"
# Thursday 24 Jun 2027, 11:00 CEST: San Giovanni, Torino's patron saint (--holiday 06-24).
SAN_GIOVANNI_11 = "2027-06-24T09:00:00Z"


class Teams(DaemonCase):
    """Two teams over Torino, one over Moncalieri; a pendant alarm of a subscriber in Torino."""

    def text(self, *args, expect_rc=0):
        r = test_arc.run([test_arc.BIN["arcctl"], "--socket", self.daemon.sock, *args])
        self.assertEqual(r.returncode, expect_rc, (r.stdout + r.stderr).decode())
        return (r.stdout + r.stderr).decode()

    def propose(self, alarm, at):
        r = self.daemon.arcctl("team", "propose", "--alarm", str(alarm), "--at", at)
        return [(t["name"], t["state"]) for t in r["teams"]], r

    def test_propose_for_a_pendant_alarm(self):
        d = self.daemon
        d.arcctl("team", "add", "PIS Centro", "--phone", "+39 335 1111111",
                 "--member", "Giulia Bianchi", "--member", "Marco Neri",
                 "--territory", "Torino", "--schedule", "24x7")
        d.arcctl("team", "add", "PIS Notte", "--phone", "+39 335 2222222",
                 "--territory", "Torino,Moncalieri", "--schedule", "outside-office-hours",
                 "--holiday", "06-24")
        d.arcctl("team", "add", "PIS Sud", "--territory", "Moncalieri", "--schedule", "24x7")
        bad = self.text("team", "add", "PIS X", "--territory", "Torino", "--schedule",
                        "lun-ven 17:00-08:00", expect_rc=1)
        self.assertIn("schedule: clause 1", bad)
        self.assertIn("exists", self.text("team", "add", "pis centro", "--territory", "Torino",
                                          "--schedule", "24x7", expect_rc=1))

        sub = d.arcctl("subscriber", "add", "--code", "TS-0042", "--first-name", "Maria",
                       "--last-name", "Rossi", "--comune", "TORINO", "--street", "Via Roma",
                       "--number", "12")["subscriber"]
        d.arcctl("device", "add", "--account", "1234", "--protocol", "dc09", "--type", "pendant",
                 "--subscriber", str(sub["id"]))
        rc, rep, err = d.sim("--account", "1234", "--data", "#1234|Nri1/QA015")
        self.assertEqual((rc, rep.get("acked")), (0, 1), err)
        deadline = time.monotonic() + 10
        alarms = []
        while not alarms and time.monotonic() < deadline:
            alarms = d.arcctl("alarms")["alarms"]
            time.sleep(0.05)
        self.assertEqual([a["kind"] for a in alarms], ["personal_emergency"])
        alarm = alarms[0]["id"]

        # 21:00: both Torino teams, the 24x7 one first (its duty does not end); not PIS Sud.
        names, r = self.propose(alarm, WED_21)
        self.assertEqual(names, [("PIS Centro", "available"), ("PIS Notte", "available")])
        self.assertEqual(r["comune"], "TORINO")
        self.assertEqual(r["teams"][1]["why"], "on duty until 08:00, available")
        shown = self.text("team", "propose", "--alarm", str(alarm), "--at", WED_21)
        self.assertIn("TS-0042", shown)
        self.assertLess(shown.index("PIS Centro"), shown.index("PIS Notte"))
        self.assertIn("on duty until 08:00, available", shown)
        # 10:00: office hours, the night team is off by its schedule...
        self.assertEqual(self.propose(alarm, WED_10)[0], [("PIS Centro", "available")])
        # ...but not on San Giovanni, a local holiday.
        self.assertEqual([n for n, _ in self.propose(alarm, SAN_GIOVANNI_11)[0]],
                         ["PIS Centro", "PIS Notte"])

        # On a mission goes after available; off_duty by hand leaves the team out.
        d.arcctl("team", "state", "PIS Centro", "on_mission")
        self.assertEqual(self.propose(alarm, WED_21)[0],
                         [("PIS Notte", "available"), ("PIS Centro", "on_mission")])
        d.arcctl("team", "state", "PIS Centro", "off_duty")
        self.assertEqual(self.propose(alarm, WED_21)[0], [("PIS Notte", "available")])
        self.assertEqual(self.propose(alarm, WED_10)[0], [])
        self.assertIn("no team on duty covers TORINO",
                      self.text("team", "propose", "--alarm", str(alarm), "--at", WED_10))

        listing = self.text("team", "list", "--at", WED_10)
        self.assertIn("ON DUTY NOW", listing)
        self.assertIn("no, from 2026-12-09 17:00", listing)  # PIS Notte
        self.assertIn("no (off_duty)", listing)              # PIS Centro
        teams = {t["name"]: t for t in d.arcctl("team", "list", "--at", WED_21)["teams"]}
        self.assertEqual(teams["PIS Notte"]["on_duty"], True)
        self.assertEqual(teams["PIS Notte"]["schedule"], "outside-office-hours; holiday 06-24")
        self.assertEqual(teams["PIS Centro"]["members"], ["Giulia Bianchi", "Marco Neri"])

        actions = [e["action"] for e in d.arcctl("audit", "list")["entries"]]
        self.assertEqual(actions.count("team.add"), 3)
        self.assertEqual(actions.count("team.set_state"), 2)

        # Stored: a restart keeps the teams and their state.
        d.stop()
        d.start()
        self.assertEqual(self.propose(alarm, WED_21)[0], [("PIS Notte", "available")])
        d.arcctl("team", "remove", "PIS Sud")
        self.assertEqual(sorted(t["name"] for t in d.arcctl("team", "list")["teams"]),
                         ["PIS Centro", "PIS Notte"])


if __name__ == "__main__":
    test_arc.main()
