#!/usr/bin/env python3
"""End-to-end tests of arc-console: the real console under tmux, a real arcd, arc-sim.

Usage: test_console.py --arcd PATH --arcctl PATH --arc-sim PATH --arc-console PATH --source DIR
       [unittest args]
Each console runs in its own tmux server (-L, a private socket) at a fixed size; the tests read
the screen with capture-pane and type with send-keys, as an operator would.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

import test_arc
from test_arc import DaemonCase, Daemon, PLAIN, run, sia_frame

CONSOLE = {}


class TmuxConsole:
    """One arc-console in a detached tmux session of its own."""

    def __init__(self, workdir, name, args, cols=80, rows=24):
        self.socket = f"arc-it-{os.getpid()}-{name}"
        self.err = os.path.join(workdir, f"console-{name}.err")
        cmd = " ".join(_quote(a) for a in [CONSOLE["path"], *args])
        env = ("env LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color "
               "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1")
        shell = f"{env} {cmd} 2>{_quote(self.err)}"
        self.tmux("new-session", "-d", "-s", "c", "-x", str(cols), "-y", str(rows), shell)

    def tmux(self, *args, check=True):
        r = subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", *args],
                           capture_output=True, timeout=10)
        if check and r.returncode != 0:
            raise AssertionError(f"tmux {args}: {r.stderr.decode(errors='replace')}")
        return r.stdout.decode(errors="replace")

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "c")

    def keys(self, *keys):
        self.tmux("send-keys", "-t", "c", *keys)

    def type(self, text):
        self.tmux("send-keys", "-t", "c", "-l", text)

    def wait_for(self, pattern, timeout=10.0, what=None):
        """Waits until the screen matches `pattern` (a regex); returns the match."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            m = re.search(pattern, screen, re.M)
            if m:
                return m
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what or pattern!r}; screen:\n{screen}\n"
                             f"stderr: {self.stderr()}")

    def alive(self) -> bool:
        return subprocess.run(["tmux", "-L", self.socket, "has-session", "-t", "c"],
                              capture_output=True).returncode == 0

    def stderr(self) -> str:
        try:
            with open(self.err, "rb") as f:
                return f.read()[-3000:].decode(errors="replace")
        except OSError:
            return ""

    def close(self):
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


def _quote(s: str) -> str:
    return "'" + s.replace("'", "'\\''") + "'"


def line_of(screen: str, alarm_id: int) -> str:
    for line in screen.splitlines():
        if re.match(rf"^[> ]#{alarm_id}\s", line):
            return line
    return ""


class ConsoleCase(DaemonCase):
    def setUp(self):
        super().setUp()
        self.consoles = []
        self.daemon.arcctl("device", "add", "--account", PLAIN, "--protocol", "dc09")

    def tearDown(self):
        for c in self.consoles:
            err = c.stderr()
            c.close()
            self.assertNotIn("AddressSanitizer", err, err)
            self.assertNotIn("runtime error", err, err)
        super().tearDown()

    def console(self, name, *args, cols=80, rows=24):
        c = TmuxConsole(self.tmp, name, args, cols, rows)
        self.consoles.append(c)
        return c

    def pendant(self, account=PLAIN):
        """arc-sim sends one pendant press (SIA QA); returns the open alarm's id."""
        rc, out, err = self.daemon.sim("--account", account)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.get("acked"), 1, out)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for a in self.daemon.arcctl("alarms")["alarms"]:
                if a["account"] == account.upper():
                    return a["id"]
            time.sleep(0.05)
        self.fail("no alarm after the pendant press")


def admin_request(sock_path, obj):
    """One request on arcd's admin socket; returns the result (raises on an error answer)."""
    import socket
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(sock_path)
        s.sendall(json.dumps(obj).encode() + b"\n")
        buf = b""
        while b"\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    msg = json.loads(buf.split(b"\n", 1)[0])
    if not msg.get("ok"):
        raise AssertionError(f"{obj['cmd']}: {msg.get('error')}")
    return msg["result"]


class Console(ConsoleCase):
    """An operator on the admin socket: the alarm appears, is taken, noted, closed."""

    def test_take_note_close(self):
        c = self.console("anna", "--socket", self.daemon.sock, "--user", "anna", "--lang", "en")
        c.wait_for(r"no open alarms", what="the empty queue")
        sent = time.monotonic()
        alarm_id = self.pendant()
        c.wait_for(rf"^>#{alarm_id}\s+CRIT\s.*Emergency call", timeout=5, what="the new alarm")
        appeared = time.monotonic() - sent
        self.assertLess(appeared, 5)
        screen = c.screen()
        self.assertRegex(line_of(screen, alarm_id), r"\d\d:\d\d new ")
        self.assertIn("Richiesta di soccorso", screen)  # the detail pane
        self.assertRegex(screen, r"(?m)^t take .* q quit")  # keys on screen

        c.keys("t")
        c.wait_for(rf"^>#{alarm_id}\s+CRIT\s+\S+\s+taken\s+anna\s", what="taken by anna")
        c.wait_for(rf"#{alarm_id} taken", what="the status line")

        c.keys("n")
        c.wait_for(rf"Note for #{alarm_id}: _")
        c.type("chiamata la figlia, arriva")
        c.keys("Enter")
        c.wait_for(rf"#{alarm_id}: note saved")
        c.wait_for(r"note anna: chiamata la figlia, arriva", what="the note in the timeline")

        c.keys("a")
        c.wait_for(rf"^>#{alarm_id}\s.*acked\s+anna", what="acknowledged")

        c.keys("x")
        prompt = c.wait_for(rf"Outcome for #{alarm_id}: _|Close #{alarm_id} with outcome")
        if prompt.group(0).startswith("Outcome"):
            c.type("false_alarm")  # an arcd without the outcomes command: free text
            c.keys("Enter")
        else:
            pick = c.wait_for(r"^ (\d)\. False alarm", what="the outcome list")
            c.keys(pick.group(1))
        c.wait_for(rf"#{alarm_id} closed")
        c.wait_for(r"no open alarms")

        shown = self.daemon.arcctl("alarm", "show", str(alarm_id))
        self.assertEqual(shown["alarm"]["state"], "closed")
        self.assertEqual(shown["alarm"]["outcome"], "false_alarm")
        steps = [(t["change"], t["to"], t["actor"], t["detail"]) for t in shown["timeline"]]
        self.assertEqual(steps[0][0], "opened")
        self.assertIn(("transitioned", "taken", "anna", ""), steps)
        self.assertIn(("noted", None, "anna", "chiamata la figlia, arriva"), steps)
        self.assertIn(("transitioned", "acknowledged", "anna", ""), steps)
        self.assertEqual(steps[-1][0], "closed")
        self.assertEqual(steps[-1][2:], ("anna", "false_alarm"))

        c.keys("q")
        deadline = time.monotonic() + 5
        while c.alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertFalse(c.alive(), "q did not quit")

    def test_subscriber_record_and_sensitive_view(self):
        sub = admin_request(self.daemon.sock, {
            "cmd": "subscriber.add", "code": "TS-0042", "first_name": "Maria",
            "last_name": "Rossi", "birth_date": "1939-03-02",
            "address": {"comune": "Torino", "street": "Via Roma", "number": "12", "floor": "3",
                        "access_notes": "citofono Rossi"},
            "phones": ["011 1234567"], "vulnerability": "anziano_solo",
            "medical_notes": "diabetica, insulina", "key_safe_code": "4711",
            "gp": {"name": "Dr. Verdi", "phone": "011 999"},
            "contacts": [{"name": "Luca Rossi", "relation": "figlio", "phones": ["333 1"],
                          "has_key": False},
                         {"name": "Anna Neri", "relation": "vicina", "phones": ["333 2"],
                          "has_key": True}]})["subscriber"]
        admin_request(self.daemon.sock, {"cmd": "device.add", "account": "4242",
                                         "protocol": "dc09", "subscriber": sub["id"]})
        c = self.console("anna", "--socket", self.daemon.sock, "--user", "anna", "--lang", "en",
                         cols=120, rows=40)
        alarm_id = self.pendant("4242")
        c.wait_for(rf"^>#{alarm_id}\s.*Maria Rossi\s+Emergency call", what="the name in the queue")
        c.wait_for(r"Maria Rossi \(\d+ years\)", what="the record in the detail")
        screen = c.screen()
        self.assertIn("Via Roma 12, floor 3, Torino — access: citofono Rossi", screen)
        self.assertIn("GP: Dr. Verdi 011 999", screen)
        lines = screen.splitlines()
        neri = next(i for i, l in enumerate(lines) if "Anna Neri" in l)
        luca = next(i for i, l in enumerate(lines) if "Luca Rossi" in l)
        self.assertLess(neri, luca, "the key holder comes first")
        self.assertIn("[has key]", lines[neri])
        self.assertNotIn("4711", screen)
        self.assertNotIn("insulina", screen)

        c.keys("s")  # not held: refused here, nothing asked of arcd
        c.wait_for(r"take the alarm to see the sensitive data")
        c.keys("t")
        c.wait_for(rf"^>#{alarm_id}\s.*taken\s+anna")
        c.keys("s")
        c.wait_for(r"Key-safe code: 4711", what="the sensitive view")
        self.assertIn("Medical notes: diabetica, insulina", c.screen())
        entries = self.daemon.arcctl("audit", "list")["entries"]
        self.assertIn("subscriber.view_sensitive", [e["action"] for e in entries])

        c.keys("r")  # released: the sensitive fields leave the screen
        m = c.wait_for(rf"^>#{alarm_id}\s.*\snew\s|this arcd has no release command")
        if "release" in m.group(0):
            # An arcd without alarm.release: closing takes the alarm off the screen instead.
            c.keys("a")
            c.wait_for(rf"^>#{alarm_id}\s.*acked\s+anna")
            c.keys("x")
            prompt = c.wait_for(rf"Outcome for #{alarm_id}: _|Close #{alarm_id} with outcome")
            if prompt.group(0).startswith("Outcome"):
                c.type("resolved_by_phone")
                c.keys("Enter")
            else:
                c.keys("1")
            c.wait_for(r"no open alarms")
        deadline = time.monotonic() + 5
        while "4711" in c.screen() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertNotIn("4711", c.screen())

    def test_dispatch_to_a_proposed_team(self):
        sub = admin_request(self.daemon.sock, {
            "cmd": "subscriber.add", "code": "TS-0077", "first_name": "Ugo",
            "last_name": "Neri", "address": {"comune": "Forlì", "street": "Via Emilia"}})
        admin_request(self.daemon.sock, {"cmd": "device.add", "account": "4343",
                                         "protocol": "dc09", "subscriber": sub["subscriber"]["id"]})
        for name, comune in (("PIS Forlì", "Forlì"), ("PIS Rimini", "Rimini")):
            admin_request(self.daemon.sock, {"cmd": "team.add", "name": name,
                                             "phone": "+39 335 1234567",
                                             "territory": [comune], "schedule": "24x7"})
        c = self.console("anna", "--socket", self.daemon.sock, "--user", "anna", "--lang", "en")
        alarm_id = self.pendant("4343")
        c.wait_for(rf"^>#{alarm_id}\s", what="the alarm")
        c.keys("t")
        c.wait_for(rf"^>#{alarm_id}\s.*taken\s+anna")
        c.keys("a")
        c.wait_for(rf"^>#{alarm_id}\s.*acked\s+anna")
        c.keys("d")
        c.wait_for(r"^ 1\. PIS Forlì · available · \+39 335 1234567", what="the proposal")
        screen = c.screen()
        self.assertNotIn("PIS Rimini", screen, "a team outside the comune is not proposed")
        self.assertIn(" 2. another team", screen)
        c.keys("1")
        c.wait_for(r"Instructions for PIS Forlì: _")
        c.type("citofono guasto, chiavi dalla vicina")
        c.keys("Enter")
        c.wait_for(rf"#{alarm_id} dispatched", what="the status line")
        shown = self.daemon.arcctl("alarm", "show", str(alarm_id))
        self.assertEqual(shown["alarm"]["state"], "dispatched")
        self.assertEqual(shown["alarm"]["team"], "PIS Forlì")
        c.wait_for(rf"^>#{alarm_id}\s.*dispatched", what="the new state in the queue")

    def test_restart_reconnects_and_resyncs(self):
        c = self.console("anna", "--socket", self.daemon.sock, "--user", "anna", "--lang", "en")
        first = self.pendant()
        c.wait_for(rf"^>#{first}\s+CRIT")
        tcp = self.daemon.tcp_port
        self.daemon.stop()
        c.wait_for(r"DISCONNECTED", what="the banner")
        self.daemon.start(tcp_port=tcp)
        self.daemon.arcctl("device", "add", "--account", "2002", "--protocol", "dc09")
        second = self.pendant("2002")
        # The queue comes back from the new snapshot (the first alarm survived the restart)
        # and the change stream goes on.
        c.wait_for(rf"^ #{second}\s+CRIT", timeout=20, what="the alarm after the restart")
        screen = c.screen()
        self.assertTrue(line_of(screen, first).startswith(">"), screen)
        self.assertNotIn("DISCONNECTED", screen)
        self.assertIn(" 2 open", screen.splitlines()[0])

    def test_sizes_and_resize(self):
        c = self.console("small", "--socket", self.daemon.sock, "--lang", "it", cols=60, rows=20)
        alarm_id = self.pendant()
        c.wait_for(rf"^>#{alarm_id}\s+CRIT\s.*nuovo", what="the alarm at 60x20, in Italian")
        for cols, rows in ((40, 12), (120, 40), (30, 8), (80, 24)):
            c.tmux("resize-window", "-t", "c", "-x", str(cols), "-y", str(rows))
            c.wait_for(r"CRIT", what=f"the alarm at {cols}x{rows}")
            for line in c.screen().splitlines():
                self.assertLessEqual(len(line), cols, line)
        c.tmux("resize-window", "-t", "c", "-x", "20", "-y", "4")
        c.wait_for(r"terminale troppo", what="the small-terminal notice")
        c.tmux("resize-window", "-t", "c", "-x", "80", "-y", "24")
        c.wait_for(r"q esci", what="the key bar back")
        self.assertTrue(c.alive())

    def test_two_consoles_race_to_take(self):
        anna = self.console("anna", "--socket", self.daemon.sock, "--user", "anna", "--lang", "en")
        marco = self.console("marco", "--socket", self.daemon.sock, "--user", "marco",
                             "--lang", "en")
        alarm_id = self.pendant()
        anna.wait_for(rf"^>#{alarm_id}\s")
        marco.wait_for(rf"^>#{alarm_id}\s")
        anna.keys("t")
        marco.keys("t")
        holder = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            a = self.daemon.arcctl("alarm", "show", str(alarm_id))["alarm"]
            if a["holder"]:
                holder = a["holder"]
                break
            time.sleep(0.05)
        self.assertIn(holder, ("anna", "marco"))
        winner, loser = (anna, marco) if holder == "anna" else (marco, anna)
        winner.wait_for(rf"#{alarm_id} taken")
        # The other is told who holds it, in the status line.
        told = loser.wait_for(rf"#{alarm_id}: held by {holder}", what="the refusal")
        self.assertTrue(told)
        loser.wait_for(rf"^>#{alarm_id}\s.*taken\s+{holder}", what="the winner as holder")
        self.assertEqual(len([t for t in self.daemon.arcctl("alarm", "show", str(alarm_id))
                              ["timeline"] if t["to"] == "taken"]), 1)


class ConsoleLogin(ConsoleCase):
    """Over TCP with login (needs arcd's operator listener: skipped on an arcd without it)."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="arc-it-")
        self.daemon = Daemon(self.tmp)
        self.addCleanup(self.kill_leftover)
        self.consoles = []
        try:
            status = self.daemon.start(extra=("--set", "listen.operator=127.0.0.1:0"))
        except AssertionError as e:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.skipTest(f"arcd without listen.operator: {str(e)[:200]}")
        self.operator_port = 0
        for listener in status["listeners"]:
            if listener.get("name") == "operator":
                self.operator_port = int(listener["port"])
        if not self.operator_port:
            self.daemon.stop()
            self.skipTest("arcd has no operator listener")
        self.daemon.arcctl("device", "add", "--account", PLAIN, "--protocol", "dc09")
        r = run([test_arc.BIN["arcctl"], "--socket", self.daemon.sock, "operator", "add", "anna",
                 "--role", "operator", "--password-stdin"], input_bytes=b"anna-segreta-1\n")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_login_take_and_resume_after_restart(self):
        c = self.console("anna", "--connect", f"127.0.0.1:{self.operator_port}", "--lang", "en")
        c.wait_for(r"operator login")
        c.type("anna")
        c.keys("Enter")
        c.type("wrong-password")
        c.keys("Enter")
        c.wait_for(r"wrong username or password")
        self.assertNotIn("wrong-password", c.screen())
        for _ in range(len("wrong-password")):
            c.keys("BSpace")
        c.type("anna-segreta-1")
        self.assertNotIn("anna-segreta-1", c.screen())
        c.keys("Enter")
        c.wait_for(r"anna \(operator\)", what="logged in")
        alarm_id = self.pendant()
        c.wait_for(rf"^>#{alarm_id}\s+CRIT")
        c.keys("t")
        c.wait_for(rf"^>#{alarm_id}\s.*taken\s+anna")
        tcp = self.daemon.tcp_port
        self.daemon.stop()
        c.wait_for(r"DISCONNECTED")
        self.daemon.start(tcp_port=tcp, extra=("--set",
                                               f"listen.operator=127.0.0.1:{self.operator_port}"))
        # resume with the token: no login screen, the queue again.
        c.wait_for(rf"^>#{alarm_id}\s.*taken\s+anna", timeout=20)
        self.assertNotIn("operator login", c.screen())


class TeamConsole(ConsoleCase):
    """One operator console and one team console (arc-console --team at 60x20) carry a pendant
    alarm from dispatch to done, over the operator API with logins."""

    PASSWORD = "segreta-di-prova-1"

    def setUp(self):
        super().setUp()
        d = self.daemon
        d.arcctl("team", "add", "PIS Centro", "--territory", "Torino", "--schedule", "24x7",
                 "--phone", "+39 335 1111111")
        sub = d.arcctl("subscriber", "add", "--code", "TS-0042", "--first-name", "Maria",
                       "--last-name", "Rossi", "--comune", "Torino", "--street", "Via Roma",
                       "--number", "12", "--access-notes", "citofono 3, cane",
                       "--key-safe", "4711")["subscriber"]
        d.arcctl("device", "add", "--account", "4242", "--protocol", "dc09", "--type", "pendant",
                 "--subscriber", str(sub["id"]))
        for name, role, extra in (("anna", "operator", ()),
                                  ("pis-centro", "team", ("--team", "PIS Centro"))):
            r = run([test_arc.BIN["arcctl"], "--socket", d.sock, "operator", "add", name,
                     "--role", role, *extra, "--password-stdin"],
                    input_bytes=(self.PASSWORD + "\n").encode())
            self.assertEqual(r.returncode, 0, r.stderr)
        self.port = next(int(l["port"]) for l in d.arcctl("status")["listeners"]
                         if l.get("name") == "operator")

    def login(self, c, name):
        c.wait_for(r"operator login")
        c.type(name)
        c.keys("Enter")
        c.type(self.PASSWORD)
        c.keys("Enter")

    def test_pendant_alarm_from_dispatch_to_done(self):
        op = self.console("anna", "--connect", f"127.0.0.1:{self.port}", "--lang", "en")
        team = self.console("team", "--connect", f"127.0.0.1:{self.port}", "--lang", "en",
                            "--team", cols=60, rows=20)
        self.login(op, "anna")
        op.wait_for(r"anna \(operator\)", what="the operator logged in")
        self.login(team, "pis-centro")
        team.wait_for(r"PIS Centro · pis-centro · 0 missions open", what="the team logged in")

        alarm_id = self.pendant("4242")
        op.wait_for(rf"^>#{alarm_id}\s", what="the alarm in the operator's queue")
        op.keys("t")
        op.wait_for(rf"^>#{alarm_id}\s.*taken\s+anna")
        op.keys("a")
        op.wait_for(rf"^>#{alarm_id}\s.*acked\s+anna")
        op.keys("d")
        op.wait_for(r"^ 1\. PIS Centro · available", what="the proposal")
        op.keys("1")
        op.wait_for(r"Instructions for PIS Centro: _")
        op.type("portare coperte")
        op.keys("Enter")
        op.wait_for(rf"#{alarm_id} dispatched", what="dispatched")

        # The team's terminal hears of it at once (a push), with the address and instructions.
        team.wait_for(rf"^#{alarm_id}\s+dispatched\s+Maria Rossi · Torino", what="the mission")
        screen = team.screen()
        self.assertIn("Instructions: portare coperte", screen)
        self.assertIn("Via Roma 12, Torino", screen)
        self.assertIn("access: citofono 3, cane", screen)
        self.assertNotIn("4711", screen, "the key-safe code only on request")
        self.assertTrue(all(len(l) <= 60 for l in screen.splitlines()))

        team.keys("a")
        team.wait_for(rf"#{alarm_id}: mission accepted")
        op.wait_for(rf"^>#{alarm_id}\s.*accepted", what="accepted on the operator's queue")
        team.keys("c")
        team.wait_for(r"key safe: 4711 \(audited\)", what="the key-safe code")
        entries = self.daemon.arcctl("audit", "list", "--limit", "200")["entries"]
        self.assertIn("mission.view_key_safe", json.dumps(entries))
        team.keys("w")
        team.wait_for(rf"#{alarm_id}: on the way")
        op.wait_for(rf"^>#{alarm_id}\s.*on the way", what="on the way on the operator's queue")
        team.keys("s")
        team.wait_for(rf"#{alarm_id}: on site")
        team.keys("f")
        team.wait_for(r"Mission #\d+ done: outcome")
        team.keys("1")  # resolved on site
        team.wait_for(r"Note \(Enter: none\): _")
        team.type("tutto a posto, rassicurata")
        team.keys("Enter")
        team.wait_for(rf"#{alarm_id}: mission done")
        team.wait_for(rf"^#{alarm_id}\s+done\s", what="the mission done in the team's list")
        self.assertNotIn("4711", team.screen(), "no key-safe code once the mission is done")
        op.wait_for(rf"^>#{alarm_id}\s.*done", what="done on the operator's queue")
        shown = self.daemon.arcctl("alarm", "show", str(alarm_id))
        self.assertEqual(shown["alarm"]["state"], "mission_done")
        mission = shown.get("mission") or {}
        if mission:
            self.assertEqual(mission.get("outcome"), "resolved_on_site")


class ConsoleHelp(unittest.TestCase):
    def test_help_and_bad_usage(self):
        r = run([CONSOLE["path"], "--help"])
        self.assertEqual(r.returncode, 0)
        out = r.stdout.decode()
        for option in ("--socket", "--connect", "--tls", "--ca", "--user", "--lang", "--team"):
            self.assertIn(option, out)
        # --team on the admin socket needs the team's name.
        r = run([CONSOLE["path"], "--socket", "/x", "--team"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("--team needs the team's name", r.stderr.decode())
        r = run([CONSOLE["path"], "--lang", "fr"])
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--lang", r.stderr.decode() + r.stdout.decode())
        r = run([CONSOLE["path"], "--socket", "/x", "--connect", "127.0.0.1:1"])
        self.assertNotEqual(r.returncode, 0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--arcd", required=True)
    parser.add_argument("--arcctl", required=True)
    parser.add_argument("--arc-sim", required=True)
    parser.add_argument("--arc-console", required=True)
    parser.add_argument("--source", required=True)
    args, rest = parser.parse_known_args()
    test_arc.BIN.update({"arcd": os.path.abspath(args.arcd),
                         "arcctl": os.path.abspath(args.arcctl),
                         "arc-sim": os.path.abspath(args.arc_sim)})
    test_arc.SOURCE = os.path.abspath(args.source)
    CONSOLE["path"] = os.path.abspath(args.arc_console)
    if shutil.which("tmux") is None:
        print("tmux not found", file=sys.stderr)
        sys.exit(1)
    unittest.main(argv=[sys.argv[0], "-v", *rest])


if __name__ == "__main__":
    main()
