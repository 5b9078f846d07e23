#!/usr/bin/env python3
"""Integration tests of PIS missions: real arcd on 127.0.0.1, a pendant alarm from arc-sim, an
operator and a team account (arcctl operator add --role team --team NAME) on the operator API.

Usage: test_missions.py --arcd PATH --arcctl PATH --arc-sim PATH --source DIR [unittest args]
"""

import time

import test_arc
from test_arc import DaemonCase, run
from test_operator_api import Client

PASSWORD = "segreta-di-prova-1"


class Missions(DaemonCase):
    """An operator dispatches with instructions; the team carries the mission to done."""

    def setUp(self):
        super().setUp()
        d = self.daemon
        d.arcctl("team", "add", "PIS Centro", "--territory", "Torino", "--schedule", "24x7")
        sub = d.arcctl("subscriber", "add", "--code", "TS-0042", "--first-name", "Maria",
                       "--last-name", "Rossi", "--comune", "Torino", "--street", "Via Roma",
                       "--number", "12", "--access-notes", "citofono 3, cane",
                       "--key-safe", "4711")["subscriber"]
        d.arcctl("device", "add", "--account", "1234", "--protocol", "dc09", "--type", "pendant",
                 "--subscriber", str(sub["id"]))
        self.add_operator("anna", "operator")
        self.add_operator("pis-centro", "team", "--team", "pis centro")
        port = next(int(l["port"]) for l in d.arcctl("status")["listeners"]
                    if l.get("name") == "operator")
        self.anna = self.login(port, "anna")
        self.team = self.login(port, "pis-centro")

    def tearDown(self):
        for c in (getattr(self, "anna", None), getattr(self, "team", None)):
            if c is not None:
                c.close()
        super().tearDown()

    def add_operator(self, name, role, *extra):
        r = run([test_arc.BIN["arcctl"], "--socket", self.daemon.sock, "operator", "add", name,
                 "--role", role, *extra, "--password-stdin"],
                input_bytes=(PASSWORD + "\n").encode())
        self.assertEqual(r.returncode, 0, r.stderr)

    def login(self, port, name):
        c = Client(port)
        r = c.call("login", username=name, password=PASSWORD)
        self.assertTrue(r["ok"], r)
        return c

    def ok(self, client, cmd, **fields):
        r = client.call(cmd, **fields)
        self.assertTrue(r["ok"], (cmd, r))
        return r["result"]

    def dispatched_alarm(self):
        d = self.daemon
        rc, rep, err = d.sim("--account", "1234", "--data", "#1234|Nri1/QA015")
        self.assertEqual((rc, rep.get("acked")), (0, 1), err)
        deadline = time.monotonic() + 10
        alarms = []
        while not alarms and time.monotonic() < deadline:
            alarms = d.arcctl("alarms")["alarms"]
            time.sleep(0.05)
        self.assertEqual(len(alarms), 1)
        alarm = alarms[0]["id"]
        self.ok(self.anna, "alarm.take", alarm=alarm)
        self.ok(self.anna, "alarm.acknowledge", alarm=alarm)
        r = self.ok(self.anna, "alarm.dispatch", alarm=alarm, team="PIS Centro",
                    instructions="portare la spesa")
        self.assertEqual(r["alarm"]["state"], "dispatched")
        return alarm

    def test_dispatch_to_done(self):
        alarm = self.dispatched_alarm()
        # The team sees its mission with the address and, while open, the key-safe code.
        missions = self.ok(self.team, "mission.list")["missions"]
        self.assertEqual([m["alarm"] for m in missions], [alarm])
        m = missions[0]
        self.assertEqual(m["instructions"], "portare la spesa")
        self.assertEqual(m["subscriber"]["address"]["street"], "Via Roma")
        self.assertEqual(m["subscriber"]["address"]["access_notes"], "citofono 3, cane")
        self.assertEqual(m["subscriber"]["key_safe_code"], "4711")
        # An operator cannot move the team's steps; the team cannot work the queue.
        self.assertEqual(self.anna.call("mission.accept", alarm=alarm)["error"]["code"],
                         "forbidden")
        self.assertEqual(self.team.call("alarm.take", alarm=alarm)["error"]["code"], "forbidden")
        for cmd in ("mission.accept", "mission.on_the_way", "mission.on_site"):
            self.ok(self.team, cmd, alarm=alarm)
        r = self.team.call("mission.done", alarm=alarm, outcome="social_services_referral")
        self.assertEqual(r["error"]["code"], "invalid", r)
        self.assertIn("hand-over", r["error"]["message"])
        r = self.ok(self.team, "mission.done", alarm=alarm, outcome="essential_goods_delivery",
                    note="spesa e acqua consegnate")
        self.assertEqual(r["mission"]["state"], "done")
        self.assertEqual(r["alarm"]["state"], "mission_done")
        for step in ("dispatched", "accepted", "on_the_way", "on_site", "done"):
            self.assertIsNotNone(r["mission"][step], step)
        # Done: no more key-safe code.
        m = self.ok(self.team, "mission.list")["missions"][0]
        self.assertFalse(m["open"])
        self.assertNotIn("key_safe_code", m["subscriber"])
        self.ok(self.anna, "alarm.close", alarm=alarm, outcome="team_dispatched")
        # The audit trail names the team account for each step and the one key-safe view.
        entries = self.daemon.arcctl("audit", "list", "--limit", "200")["entries"]
        seen = [(e["actor"], e["action"]) for e in entries]
        for action in ("mission.view_key_safe", "mission.accept", "mission.on_the_way",
                       "mission.on_site", "mission.done"):
            self.assertIn(("pis-centro", action), seen)
        self.assertEqual(seen.count(("pis-centro", "mission.view_key_safe")), 1)
        self.assertTrue(self.daemon.arcctl("audit", "verify")["intact"])

    def test_decline_returns_the_alarm(self):
        alarm = self.dispatched_alarm()
        r = self.ok(self.team, "mission.decline", alarm=alarm, reason="squadra impegnata")
        self.assertEqual(r["alarm"]["state"], "acknowledged")
        self.assertEqual(r["alarm"]["holder"], "anna")
        self.assertEqual(r["mission"]["decline_reason"], "squadra impegnata")
        shown = self.daemon.arcctl("alarm", "show", str(alarm))
        self.assertIn("declined: squadra impegnata", [t["detail"] for t in shown["timeline"]])


class MissionEscalation(DaemonCase):
    """A mission nobody accepts escalates after [engine] mission_accept_timeout_s."""

    def test_unaccepted_mission_escalates(self):
        d = self.daemon
        d.stop()
        d.start(extra=("--set", "engine.mission_accept_timeout_s=2"))
        d.arcctl("team", "add", "PIS Centro", "--territory", "Torino", "--schedule", "24x7")
        d.arcctl("device", "add", "--account", "1234", "--protocol", "dc09", "--type", "pendant")
        r = run([test_arc.BIN["arcctl"], "--socket", d.sock, "operator", "add", "anna", "--role",
                 "operator", "--password-stdin"], input_bytes=(PASSWORD + "\n").encode())
        self.assertEqual(r.returncode, 0, r.stderr)
        port = next(int(l["port"]) for l in d.arcctl("status")["listeners"]
                    if l.get("name") == "operator")
        anna = Client(port)
        self.addCleanup(anna.close)
        self.assertTrue(anna.call("login", username="anna", password=PASSWORD)["ok"])
        rc, rep, err = d.sim("--account", "1234", "--data", "#1234|Nri1/QA015")
        self.assertEqual((rc, rep.get("acked")), (0, 1), err)
        deadline = time.monotonic() + 10
        alarms = []
        while not alarms and time.monotonic() < deadline:
            alarms = d.arcctl("alarms")["alarms"]
            time.sleep(0.05)
        alarm = alarms[0]["id"]
        for cmd, fields in (("alarm.take", {}), ("alarm.acknowledge", {}),
                            ("alarm.dispatch", {"team": "PIS Centro"})):
            r = anna.call(cmd, alarm=alarm, **fields)
            self.assertTrue(r["ok"], r)
        self.assertTrue(anna.call("alarms.subscribe")["ok"])
        # The escalation is pushed to the consoles (the socket timeout bounds the wait).
        push = None
        deadline = time.monotonic() + 20
        while push is None and time.monotonic() < deadline:
            msg = anna.wait_push()
            anna.pushes.pop(0)
            if msg["change"]["change"] == "escalated":
                push = msg
        self.assertIsNotNone(push)
        self.assertEqual(push["change"]["alarm"]["id"], alarm)
        self.assertEqual(push["change"]["alarm"]["level"], 1)
        self.assertIn("mission not accepted by PIS Centro", push["change"]["detail"])
        shown = d.arcctl("alarm", "show", str(alarm))
        self.assertEqual(shown["alarm"]["state"], "dispatched")
        self.assertEqual(shown["alarm"]["level"], 1)


if __name__ == "__main__":
    test_arc.main()
