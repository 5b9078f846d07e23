#!/usr/bin/env python3
"""Integration tests of CSV import/export: real arcd on 127.0.0.1, arcctl import and export.

Usage: test_csv.py --arcd PATH --arcctl PATH --arc-sim PATH --source DIR [unittest args]
"""

import os
import shutil
import sqlite3
import tempfile

import test_arc
from test_arc import Daemon, DaemonCase

SUBSCRIBERS = [
    # code, cognome, nome, data di nascita, comune, via, telefono, note mediche, cassetta
    ["TS-0001", "Rossi", "Nicolò", "12/04/1938", "Forlì", "Via Roma; 12", "011 555 1234|333 1",
     "insulina alle 8\nallergia: penicillina", "4711"],
    ["TS-0002", "D'Amico", "Lucia \"Lù\"", "1941-02-28", "Sant'Antonino di Susa", "Piazza Libertà",
     "", "", ""],
    ["TS-0003", "Bianchi", "Anna", "", "Torino", "Corso Francia, 3", "+39 011 222", "", ""],
]
HEADER = ["codice", "cognome", "nome", "data_nascita", "comune", "via", "telefono",
          "note_mediche", "codice_cassetta"]


def csv_text(rows, sep, crlf=True, bom=True):
    def cell(c):
        if any(x in c for x in (sep, '"', "\n", "\r")):
            return '"' + c.replace('"', '""') + '"'
        return c
    end = "\r\n" if crlf else "\n"
    text = "".join(sep.join(cell(c) for c in r) + end for r in rows)
    return ("\ufeff" if bom else "") + text


class Csv(DaemonCase):
    """arcctl import/export of subscribers, contacts and devices."""

    def write(self, name, text, encoding="utf-8"):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(text.encode(encoding) if isinstance(text, str) else text)
        return path

    def arcctl(self, *args, daemon=None):
        daemon = daemon or self.daemon
        return test_arc.run([test_arc.BIN["arcctl"], "--socket", daemon.sock, *args])

    def codes(self, daemon=None):
        daemon = daemon or self.daemon
        return sorted(s["code"] for s in daemon.arcctl("subscriber", "list")["subscribers"])

    def by_code(self, code, daemon=None):
        daemon = daemon or self.daemon
        for s in daemon.arcctl("subscriber", "list")["subscribers"]:
            if s["code"] == code:
                return daemon.arcctl("subscriber", "show", str(s["id"]),
                                     "--sensitive")["subscriber"]
        raise AssertionError(f"no subscriber {code}")

    def import_all(self, sep):
        subs = self.write("anagrafe.csv", csv_text([HEADER] + SUBSCRIBERS, sep))
        r = self.arcctl("import", "subscribers", subs)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(b"imported 3 subscribers", r.stdout)
        contacts = self.write("contatti.csv", csv_text(
            [["subscriber_code", "priority", "name", "relation", "phones", "has_key"],
             ["TS-0001", "1", "Anna Neri", "vicina", "011 222 3333", "sì"],
             ["TS-0001", "", "Luca Rossi", "figlio", "333 444 5555", "no"],
             ["TS-0002", "", "Giò Fabbri", "nipote", "", "yes"]], sep, crlf=False, bom=False))
        r = self.arcctl("import", "contacts", contacts)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        devices = self.write("dispositivi.csv", csv_text(
            [["account", "subscriber_code", "type", "interval_s", "key"],
             ["4242", "TS-0001", "pendant", "3600", "0123456789abcdef0123456789abcdef"],
             ["4243", "TS-0002", "", "", ""]], sep))
        r = self.arcctl("import", "devices", devices)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def check_imported(self, daemon=None):
        self.assertEqual(self.codes(daemon), ["TS-0001", "TS-0002", "TS-0003"])
        s = self.by_code("TS-0001", daemon)
        self.assertEqual((s["first_name"], s["last_name"]), ("Nicolò", "Rossi"))
        self.assertEqual(s["birth_date"], "1938-04-12")
        self.assertEqual(s["address"]["comune"], "Forlì")
        self.assertEqual(s["address"]["street"], "Via Roma; 12")
        self.assertEqual(s["phones"], ["011 555 1234", "333 1"])
        self.assertEqual(s["medical_notes"], "insulina alle 8\nallergia: penicillina")
        self.assertEqual(s["key_safe_code"], "4711")
        self.assertEqual([(c["priority"], c["name"], c["has_key"]) for c in s["contacts"]],
                         [(1, "Anna Neri", True), (2, "Luca Rossi", False)])
        self.assertEqual([(d["account"], d["type"]) for d in s["devices"]], [("4242", "pendant")])
        s2 = self.by_code("TS-0002", daemon)
        self.assertEqual(s2["address"]["comune"], "Sant'Antonino di Susa")
        self.assertEqual(s2["first_name"], 'Lucia "Lù"')
        self.assertEqual(s2["contacts"][0]["name"], "Giò Fabbri")

    def test_semicolon_file_with_accents_imports(self):
        self.import_all(";")
        self.check_imported()
        # People see the accented names in arcctl subscriber show.
        sid = str(self.by_code("TS-0001")["id"])
        r = self.arcctl("subscriber", "show", sid)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Nicolò", r.stdout.decode())
        self.assertIn("Forlì", r.stdout.decode())
        self.assertNotIn("4711", r.stdout.decode())
        # One audit entry per import: kind, file, rows; never values.
        audit = self.daemon.arcctl("audit", "list", "--limit", "50")["entries"]
        imports = [e for e in audit if e["action"].startswith("import.")]
        self.assertEqual([(e["action"], e["target"], e["detail"]) for e in imports],
                         [("import.subscribers", "anagrafe.csv", "rows=3"),
                          ("import.contacts", "contatti.csv", "rows=3"),
                          ("import.devices", "dispositivi.csv", "rows=2")])
        self.assertFalse(any("4711" in str(e) for e in audit))
        # Sealed at rest as subscriber add does: the plain text is not in the database file.
        with sqlite3.connect(self.daemon.db) as db:
            notes, key_safe = db.execute(
                "SELECT medical_notes, key_safe_code FROM subscribers WHERE code = 'TS-0001'"
            ).fetchone()
        self.assertNotIn(b"insulina", bytes(notes) if notes else b"")
        self.assertNotIn(b"4711", bytes(key_safe) if key_safe else b"")

    def test_comma_file_imports(self):
        self.import_all(",")
        self.check_imported()

    def test_one_bad_row_in_the_middle_imports_nothing(self):
        rows = [HEADER] + SUBSCRIBERS[:1] + [
            ["TS-0010", "Verdi", "Carla", "31/02/1950", "Asti", "", "", "", ""],
            ["TS-0001", "Neri", "Paolo", "", "Asti", "", "", "", ""],
            ["TS-0011", "Gialli", "", "", "Asti", "", "", "", ""],
            ["TS-0012", "Gialli", "Ugo", "", "Asti", "", "abc", "", ""],
        ] + SUBSCRIBERS[1:]
        path = self.write("subscribers.csv", csv_text(rows, ";"))
        r = self.arcctl("import", "subscribers", path, "--dry-run")
        out = r.stdout.decode()
        self.assertEqual(r.returncode, 1, out + r.stderr.decode())
        self.assertIn(f'{path}:3: data_nascita: "31/02/1950" is not a date', out)
        self.assertIn(f"{path}:4: codice: TS-0001 is also on row 2", out)
        self.assertIn(f"{path}:5: nome: must not be empty", out)
        self.assertIn(f"{path}:6: telefono: digits, spaces", out)
        self.assertIn(f"{path}: 7 rows, 4 with errors; nothing imported", out)
        self.assertIn("nothing imported", out)
        r = self.arcctl("import", "subscribers", path)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn(b"nothing imported", r.stdout)
        self.assertEqual(self.codes(), [])
        # Only the database knows: a code already there, a contact for an unknown subscriber.
        self.import_all(";")
        again = self.write("again.csv", csv_text([HEADER, SUBSCRIBERS[2],
                                                  ["TS-0099", "Neri", "Ugo"] + [""] * 6], ";"))
        r = self.arcctl("import", "subscribers", again)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"{again}:2: codice: subscriber TS-0003 already exists".encode(), r.stdout)
        self.assertNotIn("TS-0099", self.codes())
        bad = self.write("bad_contacts.csv", "subscriber_code;name\nTS-0404;Mario\n")
        r = self.arcctl("import", "contacts", bad, "--dry-run")
        self.assertIn(f"{bad}:2: subscriber_code: no subscriber TS-0404".encode(), r.stdout)
        dev = self.write("bad_devices.csv",
                         "account,key,type\n4242,,pendant\n5555,00ff,\n6666,,Bad Type\n")
        r = self.arcctl("import", "devices", dev, "--dry-run")
        out = r.stdout.decode()
        self.assertIn(f"{dev}:2: account: device 4242 is already registered", out)
        self.assertIn(f"{dev}:3: key: must be 32, 48 or 64 hex digits", out)
        self.assertIn(f"{dev}:4: type:", out)

    def test_bad_files_are_refused_with_file_and_row(self):
        latin1 = self.write("latin1.csv", "code;last_name;first_name\nTS-1;Forlì;Ugo\n",
                            encoding="latin-1")
        r = self.arcctl("import", "subscribers", latin1, "--dry-run")
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"{latin1}:2: last_name: not valid UTF-8".encode(), r.stdout)
        open_quote = self.write("open.csv", 'code;last_name;first_name\nTS-1;"Rossi;Ugo\n')
        r = self.arcctl("import", "subscribers", open_quote)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"{open_quote}:2: a quote opened on line 2 is never closed".encode(),
                      r.stderr)
        unknown = self.write("unknown.csv", "code;last_name;first_name;shoe_size\n")
        r = self.arcctl("import", "subscribers", unknown)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b'unknown column "shoe_size"', r.stderr)
        self.assertEqual(self.codes(), [])

    def test_export_then_import_into_a_fresh_arcd(self):
        self.import_all(";")
        files = {}
        for kind in ("subscribers", "contacts", "devices"):
            path = os.path.join(self.tmp, f"export-{kind}.csv")
            r = self.arcctl("export", kind, "--output", path, "--sensitive")
            self.assertEqual(r.returncode, 0, r.stderr)
            files[kind] = path
        with open(files["subscribers"], "rb") as f:
            text = f.read().decode("utf-8-sig")
        self.assertTrue(text.startswith("code;last_name;first_name;date_of_birth"))
        self.assertIn("Nicolò", text)
        self.assertIn('"insulina alle 8\nallergia: penicillina"', text)
        audit = self.daemon.arcctl("audit", "list", "--limit", "50")["entries"]
        exports = [(e["action"], e["target"], e["detail"]) for e in audit
                   if e["action"] == "export.sensitive"]
        self.assertEqual(exports, [
            ("export.sensitive", "subscribers", "rows=3 offset=0 columns=medical_notes,key_safe_code"),
            ("export.sensitive", "devices", "rows=2 offset=0 columns=key")])
        plain = self.arcctl("export", "subscribers", "--separator", ",")
        self.assertEqual(plain.returncode, 0, plain.stderr)
        self.assertNotIn(b"4711", plain.stdout)
        self.assertNotIn(b"medical_notes", plain.stdout)

        fresh_dir = tempfile.mkdtemp(prefix="arc-it-fresh-")
        fresh = Daemon(fresh_dir)
        fresh.start()
        try:
            for kind in ("subscribers", "contacts", "devices"):
                r = self.arcctl("import", kind, files[kind], daemon=fresh)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.check_imported(fresh)

            def strip(s):
                s = dict(s)
                for k in ("id", "created", "updated"):
                    s.pop(k, None)
                s["contacts"] = [{k: v for k, v in c.items() if k != "id"} for c in s["contacts"]]
                s["devices"] = [{k: v for k, v in d.items()
                                 if k not in ("created", "subscriber", "last_seen")}
                                for d in s["devices"]]
                return s
            for code in ("TS-0001", "TS-0002", "TS-0003"):
                self.assertEqual(strip(self.by_code(code, fresh)), strip(self.by_code(code)))
            a = fresh.arcctl("device", "show", "4242")["device"]
            self.assertTrue(a.get("encrypted", a.get("key")), a)
        finally:
            fresh.stop()
            shutil.rmtree(fresh_dir, ignore_errors=True)


    def test_teams_import_export(self):
        header = ["squadra", "telefono", "componenti", "comuni", "orario"]
        good = [["PIS Forlì", "+39 0543 712000", "Nicolò Bianchi | Anna D'Amico",
                 "Forlì; Forlimpopoli", "outside-office-hours; holiday 02-04"],
                ["PIS Riviera", "", "", "Rimini, Riccione", "24x7"]]
        bad = good[:1] + [["PIS Cesena", "", "", "Cesena", "mon-fri 17:00-25:00"]] + good[1:]
        path = self.write("squadre.csv", csv_text([header] + bad, ","))
        r = self.arcctl("import", "teams", path)
        out = r.stdout.decode()
        self.assertEqual(r.returncode, 1, out + r.stderr.decode())
        self.assertIn(f"{path}:3: orario: ", out)
        self.assertIn("nothing imported", out)
        self.assertEqual(self.daemon.arcctl("team", "list")["teams"], [])

        path = self.write("squadre.csv", csv_text([header] + good, ","))
        r = self.arcctl("import", "teams", path)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        teams = {t["name"]: t for t in self.daemon.arcctl("team", "list")["teams"]}
        self.assertEqual(sorted(teams), ["PIS Forlì", "PIS Riviera"])
        self.assertEqual(teams["PIS Forlì"]["members"], ["Nicolò Bianchi", "Anna D'Amico"])
        self.assertEqual(teams["PIS Riviera"]["territory"], ["Rimini", "Riccione"])
        # The imported teams are the ones dispatch proposes.
        proposed = self.daemon.arcctl("team", "propose", "--comune", "Riccione")
        self.assertIn("PIS Riviera", str(proposed))
        self.assertNotIn("PIS Forlì", str(proposed))

        exported = os.path.join(self.tmp, "export-teams.csv")
        r = self.arcctl("export", "teams", "--output", exported)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(exported, "rb") as f:
            text = f.read().decode("utf-8-sig")
        self.assertTrue(text.startswith("name;phone;members;comuni;schedule;state\r\n"), text)
        self.assertIn('"outside-office-hours; holiday 02-04"', text)
        fresh_dir = tempfile.mkdtemp(prefix="arc-it-fresh-")
        fresh = Daemon(fresh_dir)
        fresh.start()
        try:
            r = self.arcctl("import", "teams", exported, daemon=fresh)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            again = {t["name"]: t for t in fresh.arcctl("team", "list")["teams"]}
            for name, t in teams.items():
                for k in ("members", "phone", "territory", "schedule", "state"):
                    self.assertEqual(again[name][k], t[k], (name, k))
        finally:
            fresh.stop()
            shutil.rmtree(fresh_dir, ignore_errors=True)

    def test_formulas_are_exported_as_text_and_imported_back(self):
        rows = [["codice", "cognome", "nome", "comune", "note_accesso", "telefono"],
                ["TS-0100", "Rossi", "Ugo", "Forlì", "=HYPERLINK(\"http://x\";\"ok\")",
                 "+39 0543 712000"]]
        r = self.arcctl("import", "subscribers", self.write("f.csv", csv_text(rows, ";")))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        out = os.path.join(self.tmp, "f-export.csv")
        r = self.arcctl("export", "subscribers", "--output", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out, encoding="utf-8-sig") as f:
            text = f.read()
        self.assertIn("'=HYPERLINK", text)   # a spreadsheet shows it, never runs it
        self.assertIn(";+39 0543 712000;", text)  # a phone stays a phone
        fresh_dir = tempfile.mkdtemp(prefix="arc-it-fresh-")
        fresh = Daemon(fresh_dir)
        fresh.start()
        try:
            r = self.arcctl("import", "subscribers", out, daemon=fresh)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            s = self.by_code("TS-0100", fresh)
            self.assertEqual(s["address"]["access_notes"], '=HYPERLINK("http://x";"ok")')
            self.assertEqual(s["phones"], ["+39 0543 712000"])
        finally:
            fresh.stop()
            shutil.rmtree(fresh_dir, ignore_errors=True)

if __name__ == "__main__":
    test_arc.main()
