// The admin API's CSV import (import.begin/rows/commit/cancel) and export commands
// (admin_import.cpp): every row checked, all rows or none applied, sensitive export audited.
#include "admin_import.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "admin_api.hpp"
#include "fake_backend.hpp"
#include <gtest/gtest.h>

#include "arc/storage/security.hpp"
#include "arc/storage/store.hpp"
#include "arc/storage/subscribers.hpp"
#include "arc/storage/teams.hpp"

namespace {

using arc::daemon::handle_admin_line;
using nlohmann::json;
namespace storage = arc::storage;
using arc_test::fake_backend;

class admin_import_test : public ::testing::Test {
protected:
    json call(const json& req) {
        std::optional<json> out;
        handle_admin_line(req.dump(), backend_, [&](json r) {
            EXPECT_FALSE(out.has_value()) << "respond called twice";
            out = std::move(r);
        });
        EXPECT_TRUE(out.has_value()) << "respond not called";
        return out.value_or(json{});
    }

    // Stages `rows` (row numbers from 2) under `header` in chunks of `chunk` rows; commits.
    json import(const std::string& kind, const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows, bool dry_run = false,
                std::size_t chunk = 2) {
        json r =
            call({{"cmd", "import.begin"}, {"kind", kind}, {"file", "x.csv"}, {"header", header}});
        EXPECT_EQ(r["ok"], true) << r.dump();
        const std::string id = r["result"]["import"];
        json batch = json::array();
        for (std::size_t i = 0; i < rows.size(); ++i) {
            batch.push_back({{"row", i + 2}, {"cells", rows[i]}});
            if (batch.size() == chunk || i + 1 == rows.size()) {
                r = call({{"cmd", "import.rows"}, {"import", id}, {"rows", batch}});
                EXPECT_EQ(r["ok"], true) << r.dump();
                batch = json::array();
            }
        }
        r = call({{"cmd", "import.commit"}, {"import", id}, {"dry_run", dry_run}});
        EXPECT_EQ(r["ok"], true) << r.dump();
        return r["result"];
    }

    std::size_t audit_count() { return storage::read_audit(backend_.db_, 1, 1000).size(); }

    fake_backend backend_;
};

const std::vector<std::string> sub_header{
    "codice", "cognome", "nome", "data_nascita", "comune", "note_mediche", "codice_cassetta"};

TEST_F(admin_import_test, good_rows_are_imported_in_one_job_and_audited_once) {
    const json r =
        import("subscribers", sub_header,
               {{"TS-1", "Rossi", "Nicolò", "12/04/1938", "Forlì", "insulina", "4711"},
                {"TS-2", "D'Amico", "Anna", "1941-02-28", "Sant'Antonino di Susa", "", ""},
                {"TS-3", "Bianchi", "Ugo", "", "", "", ""}});
    EXPECT_EQ(r["committed"], true) << r.dump();
    EXPECT_EQ(r["imported"], 3);
    EXPECT_EQ(r["errors_total"], 0);
    const auto s = storage::find_subscriber_by_code(backend_.db_, "TS-1");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->first_name, "Nicolò");
    EXPECT_EQ(s->birth_date, "1938-04-12");
    EXPECT_EQ(s->comune, "Forlì");
    EXPECT_EQ(s->medical_notes, "insulina");
    EXPECT_EQ(s->key_safe_code, "4711");
    // Sealed at rest as subscriber.add does: the plain text is not in the row.
    const auto audit = storage::read_audit(backend_.db_, 1, 1000);
    ASSERT_EQ(audit.size(), 1U);
    EXPECT_EQ(audit[0].entry.action, "import.subscribers");
    EXPECT_EQ(audit[0].entry.target, "x.csv");
    EXPECT_EQ(audit[0].entry.detail, "rows=3");
}

TEST_F(admin_import_test, one_bad_row_in_the_middle_imports_nothing_and_every_bad_row_is_listed) {
    const json r = import("subscribers", sub_header,
                          {{"TS-1", "Rossi", "Ugo", "", "", "", ""},
                           {"TS-2", "Verdi", "Carla", "31/02/1950", "", "", ""},
                           {"TS-3", "Neri", "", "", "", "", ""},
                           {"ts-1", "Gialli", "Ivo", "", "", "", ""},
                           {"TS-5", "Blu", "Eva", "", "", "", ""}});
    EXPECT_EQ(r["committed"], false);
    EXPECT_EQ(r["imported"], 0);
    ASSERT_EQ(r["errors_total"], 3) << r.dump();
    EXPECT_EQ(r["errors"][0],
              (json{{"row", 3},
                    {"column", "data_nascita"},
                    {"message", "\"31/02/1950\" is not a date (YYYY-MM-DD or DD/MM/YYYY)"}}));
    EXPECT_EQ(r["errors"][1]["row"], 4);
    EXPECT_EQ(r["errors"][1]["column"], "nome");
    EXPECT_EQ(r["errors"][2]["row"], 5);
    EXPECT_EQ(r["errors"][2]["message"], "ts-1 is also on row 2");
    EXPECT_TRUE(storage::list_subscribers(backend_.db_).empty());
    EXPECT_EQ(audit_count(), 0U);
}

TEST_F(admin_import_test, dry_run_checks_the_database_and_writes_nothing) {
    import("subscribers", sub_header, {{ "TS-1", "Rossi", "Ugo", "", "", "", "" }});
    const std::size_t before = audit_count();
    json r = import(
        "subscribers", sub_header,
        {{"TS-9", "Neri", "Ivo", "", "", "", ""}, {"TS-1", "Rossi", "Ugo", "", "", "", ""}}, true);
    EXPECT_EQ(r["dry_run"], true);
    ASSERT_EQ(r["errors_total"], 1);
    EXPECT_EQ(r["errors"][0]["message"], "subscriber TS-1 already exists");
    r = import("subscribers", sub_header, {{"TS-9", "Neri", "Ivo", "", "", "", ""}}, true);
    EXPECT_EQ(r["errors_total"], 0);
    EXPECT_EQ(r["committed"], false);
    EXPECT_FALSE(storage::find_subscriber_by_code(backend_.db_, "TS-9"));
    EXPECT_EQ(audit_count(), before);
}

TEST_F(admin_import_test, contacts_by_code_and_devices_follow_the_device_add_rules) {
    import("subscribers", sub_header,
           {{"TS-1", "Rossi", "Ugo", "", "", "", ""},
            { "TS-2",
              "Neri",
              "Ivo",
              "",
              "",
              "",
              "" }});
    const std::vector<std::string> ch{"subscriber_code", "priority", "name", "has_key", "phones"};
    json r = import("contacts", ch,
                    {{"TS-1", "", "Anna", "sì", "011 1 | 333 2"},
                     {"TS-404", "", "Luca", "", ""},
                     {"TS-1", "1", "Gino", "", ""},
                     {"TS-2", "", "Carlo", "forse", ""}});
    ASSERT_EQ(r["errors_total"], 3) << r.dump();
    EXPECT_EQ(r["errors"][0]["message"], "no subscriber TS-404");
    EXPECT_EQ(r["errors"][1]["message"], "subscriber TS-1 already has a contact with priority 1");
    EXPECT_EQ(r["errors"][2]["message"], "\"forse\" is not yes or no");
    r = import("contacts", ch,
               {{"TS-1", "", "Anna", "sì", "011 1 | 333 2"}, {"TS-1", "", "Gino", "no", ""}});
    ASSERT_EQ(r["imported"], 2) << r.dump();
    const auto s = storage::find_subscriber_by_code(backend_.db_, "TS-1");
    ASSERT_EQ(s->contacts.size(), 2U);
    EXPECT_EQ(s->contacts[0].phones, (std::vector<std::string>{"011 1", "333 2"}));
    EXPECT_TRUE(s->contacts[0].has_key);
    EXPECT_EQ(s->contacts[1].priority, 2);

    const std::vector<std::string> dh{"account", "subscriber_code", "type", "key", "interval_s"};
    r = import("devices", dh,
               {{"4242", "TS-1", "pendant", "0123456789abcdef0123456789abcdef", "3600"},
                {"4242", "", "", "", ""},
                {"5555", "", "", "00ff", ""},
                {"6666", "", "Bad Type", "", ""},
                {"7777", "TS-9", "", "", "10"},
                {"zz", "", "", "", ""}});
    ASSERT_EQ(r["errors_total"], 5) << r.dump();
    EXPECT_EQ(r["errors"][0]["column"], "account");
    EXPECT_EQ(r["errors"][0]["row"], 3);
    EXPECT_EQ(r["errors"][1]["column"], "key");
    EXPECT_EQ(r["errors"][2]["column"], "type");
    EXPECT_EQ(r["errors"][3]["column"], "interval_s");
    EXPECT_EQ(r["errors"][4]["column"], "account");
    EXPECT_TRUE(storage::list_devices(backend_.db_).empty());
    r = import("devices", dh,
               {{"4242", "TS-1", "pendant", "0123456789abcdef0123456789abcdef", "3600"}});
    ASSERT_EQ(r["imported"], 1) << r.dump();
    const auto dev = storage::find_device(backend_.db_, "4242");
    ASSERT_TRUE(dev);
    EXPECT_EQ(dev->subscriber_id, s->id);
    ASSERT_TRUE(dev->key);
    EXPECT_EQ(dev->key->size(), 16U);
    EXPECT_TRUE(backend_.registry_.find("4242")) << "the hot-path registry knows it";
    r = import("devices", dh, {{"4242", "", "", "", ""}}, true);
    EXPECT_EQ(r["errors"][0]["message"], "device 4242 is already registered");
}

TEST_F(admin_import_test, bad_headers_and_staging_limits_are_refused) {
    json r = call({{"cmd", "import.begin"},
                   {"kind", "subscribers"},
                   {"header", {"code", "last_name", "first_name", "shoe_size"}}});
    EXPECT_EQ(r["error"]["code"], "invalid");
    EXPECT_NE(r["error"]["message"].get<std::string>().find("shoe_size"), std::string::npos);
    r = call({{"cmd", "import.begin"}, {"kind", "subscribers"}, {"header", {"code", "nome"}}});
    EXPECT_EQ(r["error"]["message"], "header: column last_name is missing");
    r = call({{"cmd", "import.begin"}, {"kind", "teams"}, {"header", json::array()}});
    EXPECT_EQ(r["error"]["code"], "invalid");
    for (std::size_t i = 0; i < arc::daemon::import_max_staged; ++i) {
        r = call({{"cmd", "import.begin"}, {"kind", "devices"}, {"header", {"account"}}});
        ASSERT_EQ(r["ok"], true) << r.dump();
    }
    const std::string last = r["result"]["import"];
    r = call({{"cmd", "import.begin"}, {"kind", "devices"}, {"header", {"account"}}});
    EXPECT_EQ(r["error"]["code"], "busy");
    r = call({{"cmd", "import.cancel"}, {"import", last}});
    EXPECT_EQ(r["ok"], true);
    r = call({{"cmd", "import.commit"}, {"import", last}});
    EXPECT_EQ(r["error"]["code"], "not_found");
    r = call({{"cmd", "import.begin"}, {"kind", "devices"}, {"header", {"account"}}});
    EXPECT_EQ(r["ok"], true);
    // Idle imports go after 10 minutes (injected clock).
    backend_.now_ms_ += arc::daemon::import_idle_ms + 1;
    r = call({{"cmd", "import.begin"}, {"kind", "devices"}, {"header", {"account"}}});
    EXPECT_EQ(r["ok"], true) << r.dump();
    EXPECT_EQ(backend_.imports().imports.size(), 1U);
    r = call({{"cmd", "import.rows"},
              {"import", r["result"]["import"]},
              {"rows", {{{"row", 2}, {"cells", {1}}}}}});
    EXPECT_EQ(r["error"]["code"], "bad_request");
}

TEST_F(admin_import_test, a_refused_writer_job_imports_nothing) {
    json r = call({{"cmd", "import.begin"}, {"kind", "devices"}, {"header", {"account"}}});
    const std::string id = r["result"]["import"];
    call({{"cmd", "import.rows"}, {"import", id}, {"rows", {{{"row", 2}, {"cells", {"4242"}}}}}});
    backend_.refuse_jobs = true;
    r = call({{"cmd", "import.commit"}, {"import", id}});
    EXPECT_EQ(r["error"]["code"], "busy");
    backend_.refuse_jobs = false;
    EXPECT_TRUE(storage::list_devices(backend_.db_).empty());
}

TEST_F(admin_import_test, a_commit_while_the_worker_is_busy_keeps_the_rows_staged_for_a_retry) {
    // The rows are converted on the worker thread; while a backup holds it the commit is
    // refused, nothing is written, and the same import id commits once the worker is free.
    json r = call({{"cmd", "import.begin"}, {"kind", "devices"}, {"header", {"account"}}});
    const std::string id = r["result"]["import"];
    call({{"cmd", "import.rows"}, {"import", id}, {"rows", {{{"row", 2}, {"cells", {"4242"}}}}}});
    backend_.blocking_busy = true;
    r = call({{"cmd", "import.commit"}, {"import", id}});
    EXPECT_EQ(r["error"]["code"], "busy") << r.dump();
    EXPECT_NE(r["error"]["message"].get<std::string>().find("staged"), std::string::npos);
    EXPECT_TRUE(storage::list_devices(backend_.db_).empty());
    backend_.blocking_busy = false;
    r = call({{"cmd", "import.commit"}, {"import", id}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    EXPECT_EQ(r["result"]["imported"], 1);
    EXPECT_EQ(r["result"]["rows"], 1);
    ASSERT_EQ(storage::list_devices(backend_.db_).size(), 1U);
    EXPECT_EQ(storage::list_devices(backend_.db_)[0].account, "4242");
    // Consumed by the commit that ran.
    r = call({{"cmd", "import.commit"}, {"import", id}});
    EXPECT_EQ(r["ok"], false);
}

TEST_F(admin_import_test,
       export_hides_sensitive_columns_unless_asked_and_audited_then_round_trips) {
    import("subscribers", sub_header,
           {{"TS-2", "Neri", "Ivo", "", "Forlì", "", ""},
            { "TS-1",
              "Rossi",
              "Nicolò",
              "1938-04-12",
              "Asti",
              "insulina\nalle 8",
              "4711" }});
    json r = call({{"cmd", "export"}, {"kind", "subscribers"}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    const json& plain = r["result"];
    EXPECT_EQ(plain["columns"][0], "code");
    EXPECT_EQ(std::find(plain["columns"].begin(), plain["columns"].end(), "medical_notes"),
              plain["columns"].end());
    EXPECT_EQ(plain["rows"][0][0], "TS-1");  // by code
    EXPECT_EQ(plain["next"], nullptr);
    const std::size_t before = audit_count();
    EXPECT_EQ(audit_count(), before) << "a plain export is not audited";
    r = call({{"cmd", "export"}, {"kind", "subscribers"}, {"sensitive", true}, {"limit", 1}});
    const json page = r["result"];
    EXPECT_EQ(page["next"], 1);
    const auto audit = storage::read_audit(backend_.db_, 1, 1000);
    ASSERT_EQ(audit.size(), before + 1);
    EXPECT_EQ(audit.back().entry.action, "export.sensitive");
    EXPECT_EQ(audit.back().entry.detail, "rows=1 offset=0 columns=medical_notes,key_safe_code");
    backend_.refuse_jobs = true;
    r = call({{"cmd", "export"}, {"kind", "subscribers"}, {"sensitive", true}});
    EXPECT_EQ(r["ok"], false) << "no audit, no data";
    EXPECT_FALSE(r.contains("result"));
    backend_.refuse_jobs = false;

    // Exported rows imported into a fresh database give the same subscribers.
    r = call({{"cmd", "export"}, {"kind", "subscribers"}, {"sensitive", true}});
    const json all = r["result"];
    fake_backend fresh;
    std::swap(backend_.db_, fresh.db_);
    std::vector<std::vector<std::string>> rows;
    for (const auto& row : all["rows"]) {
        rows.push_back(row.get<std::vector<std::string>>());
    }
    const json imported = import("subscribers", all["columns"], rows);
    ASSERT_EQ(imported["imported"], 2) << imported.dump();
    r = call({{"cmd", "export"}, {"kind", "subscribers"}, {"sensitive", true}});
    EXPECT_EQ(r["result"]["rows"], all["rows"]);
    std::swap(backend_.db_, fresh.db_);
}

const std::vector<std::string> team_header{"Squadra", "Telefono", "Componenti",
                                           "Comuni",  "Orario",   "Stato"};

TEST_F(admin_import_test, teams_are_imported_with_lists_and_schedules_or_not_at_all) {
    // A bad row in the middle: nothing is imported, every bad cell is named.
    json r = import("teams", team_header,
                    {{"PIS Forlì Nord", "+39 0543 712000", "Nicolò Bianchi | Anna D'Amico",
                      "Forlì; Forlimpopoli", "outside-office-hours; holiday 02-04", ""},
                     {"PIS Cesena", "tel. 0547", "", "", "mon-fri 25:00-08:00", "stanca"},
                     {"PIS Rimini", "", "", "Rimini", "24x7", "off_duty"}},
                    false, 1);
    EXPECT_EQ(r["committed"], false) << r.dump();
    EXPECT_EQ(r["imported"], 0);
    EXPECT_TRUE(storage::list_teams(backend_.db_).empty());
    ASSERT_GE(r["errors"].size(), 1U) << r.dump();
    for (const auto& e : r["errors"]) {
        EXPECT_EQ(e["row"], 3) << e.dump();
    }
    EXPECT_EQ(r["errors"][0]["column"], "Telefono") << r.dump();

    // Each bad field is named by its column as the file spells it.
    r = import("teams", team_header, {{"PIS Cesena", "", "", "", "24x7", ""}}, true);
    EXPECT_EQ(r["errors"][0]["column"], "Comuni") << r.dump();
    r = import("teams", team_header, {{"PIS Cesena", "", "", "Cesena", "mon-fri 25:00-08:00", ""}},
               true);
    EXPECT_EQ(r["errors"][0]["column"], "Orario") << r.dump();
    EXPECT_NE(r["errors"][0]["message"].get<std::string>().find("25:00"), std::string::npos)
        << r.dump();
    r = import("teams", team_header, {{"PIS Cesena", "", "", "Cesena", "24x7", "stanca"}}, true);
    EXPECT_EQ(r["errors"][0]["column"], "Stato") << r.dump();

    // Good rows: all imported in one job, audited once.
    const std::size_t audits = audit_count();
    r = import("teams", team_header,
               {{"PIS Forlì Nord", "+39 0543 712000", "Nicolò Bianchi | Anna D'Amico",
                 "Forlì; Forlimpopoli", "outside-office-hours; holiday 02-04", ""},
                {"PIS Rimini", "", "", "Rimini", "24x7", "off_duty"}});
    EXPECT_EQ(r["committed"], true) << r.dump();
    EXPECT_EQ(r["imported"], 2);
    EXPECT_EQ(audit_count(), audits + 1);
    const auto forli = storage::find_team_by_name(backend_.db_, "pis forlì nord");
    ASSERT_TRUE(forli);
    EXPECT_EQ(forli->members, (std::vector<std::string>{"Nicolò Bianchi", "Anna D'Amico"}));
    EXPECT_EQ(forli->territory, (std::vector<std::string>{"Forlì", "Forlimpopoli"}));
    EXPECT_EQ(forli->schedule, "outside-office-hours; holiday 02-04");
    EXPECT_EQ(forli->state, arc::teams::team_state::available);
    EXPECT_EQ(storage::find_team_by_name(backend_.db_, "PIS Rimini")->state,
              arc::teams::team_state::off_duty);

    // A team that exists, or twice in one file, is refused by name.
    r = import("teams", {"name", "comuni", "schedule"},
               {{"PIS RIMINI", "Rimini", "24x7"},
                {"PIS Ravenna", "Ravenna", "24x7"},
                {"pis ravenna", "Cervia", "24x7"}},
               true);
    ASSERT_EQ(r["errors"].size(), 2U) << r.dump();
    EXPECT_EQ(r["errors"][0]["row"], 2);
    EXPECT_NE(r["errors"][0]["message"].get<std::string>().find("already exists"),
              std::string::npos);
    EXPECT_EQ(r["errors"][1]["row"], 4);
    EXPECT_NE(r["errors"][1]["message"].get<std::string>().find("row 3"), std::string::npos);

    // A header without the schedule is refused before any row.
    r = call({{"cmd", "import.begin"}, {"kind", "teams"}, {"header", {"name", "comuni"}}});
    EXPECT_EQ(r["ok"], false);
    EXPECT_NE(r["error"]["message"].get<std::string>().find("schedule"), std::string::npos)
        << r.dump();

    // Export writes the same columns; imported into a fresh database it gives the same teams.
    r = call({{"cmd", "export"}, {"kind", "teams"}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    const json all = r["result"];
    EXPECT_EQ(all["columns"], json({"name", "phone", "members", "comuni", "schedule", "state"}));
    ASSERT_EQ(all["rows"].size(), 2U);
    EXPECT_EQ(all["rows"][0][2], "Nicolò Bianchi | Anna D'Amico");
    EXPECT_EQ(all["rows"][1][5], "off_duty");
    fake_backend fresh;
    std::swap(backend_.db_, fresh.db_);
    std::vector<std::vector<std::string>> rows;
    for (const auto& row : all["rows"]) {
        rows.push_back(row.get<std::vector<std::string>>());
    }
    const json imported = import("teams", all["columns"], rows);
    EXPECT_EQ(imported["imported"], 2) << imported.dump();
    r = call({{"cmd", "export"}, {"kind", "teams"}});
    EXPECT_EQ(r["result"]["rows"], all["rows"]);
    std::swap(backend_.db_, fresh.db_);
}

}  // namespace
