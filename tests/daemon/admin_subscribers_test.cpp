// The admin API's subscriber, contact and device.assign commands (admin_subscribers.cpp),
// with jobs run inline on an in-memory database.
#include <atomic>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <optional>

#include "admin_api.hpp"
#include "alarm_service.hpp"
#include "fake_backend.hpp"
#include <gtest/gtest.h>

#include "arc/config/event_codes.hpp"
#include "arc/storage/security.hpp"
#include "arc/storage/store.hpp"
#include "arc/storage/subscribers.hpp"

namespace {

using arc::daemon::admin_backend;
using arc::daemon::device_registry;
using arc::daemon::handle_admin_line;
using nlohmann::json;
namespace storage = arc::storage;

using arc_test::fake_backend;

class admin_subscribers_test : public ::testing::Test {
protected:
    json call(const std::string& line) {
        std::optional<json> out;
        handle_admin_line(line, backend_, [&](json r) {
            EXPECT_FALSE(out.has_value()) << "respond called twice";
            out = std::move(r);
        });
        EXPECT_TRUE(out.has_value()) << "respond not called";
        return out.value_or(json{});
    }
    json call(const json& req) { return call(req.dump()); }

    static void expect_error(const json& r, const std::string& code) {
        EXPECT_EQ(r["ok"], false) << r.dump();
        EXPECT_EQ(r["error"]["code"], code) << r.dump();
        EXPECT_TRUE(r["error"]["message"].is_string());
    }

    fake_backend backend_;
};

json maria() {
    return json{{"cmd", "subscriber.add"},
                {"code", "TS-0042"},
                {"first_name", "Maria"},
                {"last_name", "Rossi"},
                {"birth_date", "1938-04-12"},
                {"address",
                 {{"comune", "Torino"},
                  {"street", "Via Roma"},
                  {"number", "12"},
                  {"floor", "3"},
                  {"access_notes", "citofono Rossi"}}},
                {"phones", {"011 555 1234"}},
                {"vulnerability", "anziano_solo"},
                {"medical_notes", "insulina alle 8"},
                {"key_safe_code", "4711"},
                {"guardian", {{"kind", "tutore"}, {"name", "Avv. Bianchi"}, {"phone", "011 9"}}},
                {"gp", {{"name", "Dr. Verdi"}, {"phone", "011 0"}}}};
}

std::vector<arc::security::chained_entry> audit_of(storage::database& db) {
    return storage::read_audit(db, 1, 1000);
}

TEST_F(admin_subscribers_test, add_show_hides_sensitive_fields_unless_asked_and_audited) {
    json r = call(maria());
    ASSERT_EQ(r["ok"], true) << r.dump();
    const json& s = r["result"]["subscriber"];
    EXPECT_EQ(s["code"], "TS-0042");
    EXPECT_EQ(s["address"]["street"], "Via Roma");
    EXPECT_EQ(s["guardian"]["kind"], "tutore");
    EXPECT_EQ(s["status"], "active");
    EXPECT_EQ(s["away_until"], nullptr);
    EXPECT_EQ(s["sensitive_hidden"], true);
    EXPECT_FALSE(s.contains("medical_notes"));
    EXPECT_EQ(r.dump().find("insulina"), std::string::npos);
    const std::int64_t id = s["id"];
    auto entries = audit_of(backend_.db_);
    ASSERT_EQ(entries.size(), 1U);
    EXPECT_EQ(entries[0].entry.action, "subscriber.add");
    EXPECT_EQ(entries[0].entry.detail.find("insulina"), std::string::npos);
    EXPECT_NE(entries[0].entry.detail.find("medical_notes"), std::string::npos);

    r = call(json{{"cmd", "subscriber.show"}, {"subscriber", id}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    EXPECT_EQ(r["result"]["subscriber"]["sensitive_hidden"], true);
    EXPECT_EQ(audit_of(backend_.db_).size(), 1U) << "a plain view is not audited";

    r = call(json{{"cmd", "subscriber.show"}, {"subscriber", id}, {"sensitive", true}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    EXPECT_EQ(r["result"]["subscriber"]["medical_notes"], "insulina alle 8");
    EXPECT_EQ(r["result"]["subscriber"]["key_safe_code"], "4711");
    EXPECT_FALSE(r["result"]["subscriber"].contains("sensitive_hidden"));
    entries = audit_of(backend_.db_);
    ASSERT_EQ(entries.size(), 2U);
    EXPECT_EQ(entries[1].entry.action, "subscriber.view_sensitive");
    EXPECT_EQ(entries[1].entry.target, std::to_string(id));

    expect_error(call(maria()), "exists");
    r = call(json{{"cmd", "subscriber.list"}});
    ASSERT_EQ(r["result"]["subscribers"].size(), 1U);
    EXPECT_FALSE(r["result"]["subscribers"][0].contains("devices"));
    EXPECT_FALSE(r["result"]["subscribers"][0].contains("medical_notes"));
    expect_error(call(json{{"cmd", "subscriber.show"}, {"subscriber", 999}}), "not_found");
}

TEST_F(admin_subscribers_test, list_pages_and_searches) {
    const char* names[][3] = {{"TS-1", "Rossi", "Nicolò"},
                              {"TS-2", "Bianchi", "Anna"},
                              {"TS-3", "Rossini", "Ugo"},
                              {"TS-4", "Verdi", "Carla"},
                              {"TS-5", "Neri", "Paolo"}};
    for (const auto& n : names) {
        ASSERT_EQ(
            call(json{
                {"cmd", "subscriber.add"},
                {"code", n[0]},
                {"last_name", n[1]},
                {"first_name", n[2]},
                {"address", {{"comune", n[0] == std::string("TS-4") ? "Forlì" : "Torino"}}}})["ok"],
            true);
    }
    json r = call(json{{"cmd", "subscriber.list"}, {"limit", 2}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    EXPECT_EQ(r["result"]["total"], 5);
    ASSERT_EQ(r["result"]["subscribers"].size(), 2U);
    EXPECT_EQ(r["result"]["subscribers"][0]["last_name"], "Bianchi");  // by last name
    EXPECT_EQ(r["result"]["next"], 2);
    r = call(json{{"cmd", "subscriber.list"}, {"limit", 2}, {"offset", 4}});
    ASSERT_EQ(r["result"]["subscribers"].size(), 1U);
    EXPECT_EQ(r["result"]["subscribers"][0]["last_name"], "Verdi");
    EXPECT_EQ(r["result"]["next"], nullptr);

    r = call(json{{"cmd", "subscriber.list"}, {"search", "ROSS"}});
    EXPECT_EQ(r["result"]["total"], 2);
    EXPECT_EQ(r["result"]["subscribers"][0]["code"], "TS-1");
    EXPECT_EQ(r["result"]["subscribers"][1]["code"], "TS-3");
    r = call(json{{"cmd", "subscriber.list"}, {"search", "forlì"}});
    ASSERT_EQ(r["result"]["subscribers"].size(), 1U);
    EXPECT_EQ(r["result"]["subscribers"][0]["code"], "TS-4");
    r = call(json{{"cmd", "subscriber.list"}, {"search", "anna BIANCHI"}});
    EXPECT_EQ(r["result"]["total"], 1) << "first and last name, any case";
    r = call(json{{"cmd", "subscriber.list"}, {"search", "bianchi anna"}});
    EXPECT_EQ(r["result"]["total"], 0);
    r = call(json{{"cmd", "subscriber.list"}, {"search", "bianchi"}});
    EXPECT_EQ(r["result"]["total"], 1);

    expect_error(call(json{{"cmd", "subscriber.list"}, {"limit", 0}}), "invalid");
    expect_error(call(json{{"cmd", "subscriber.list"}, {"limit", 1001}}), "invalid");
    expect_error(call(json{{"cmd", "subscriber.list"}, {"offset", -1}}), "invalid");
}

TEST_F(admin_subscribers_test, field_errors_name_the_field) {
    const auto message_of = [&](json req) {
        const json r = call(req);
        EXPECT_EQ(r["ok"], false) << r.dump();
        return r["error"]["message"].get<std::string>();
    };
    json req = maria();
    req["birth_date"] = "1938-02-30";
    EXPECT_NE(message_of(req).find("birth_date"), std::string::npos);
    req = maria();
    req["phones"] = {"011 555 abc"};
    EXPECT_NE(message_of(req).find("phones"), std::string::npos);
    req = maria();
    req["guardian"]["kind"] = "zio";
    EXPECT_NE(message_of(req).find("guardian.kind"), std::string::npos);
    req = maria();
    req["address"]["street"] = std::string(201, 'x');
    EXPECT_NE(message_of(req).find("address.street"), std::string::npos);
    req = maria();
    req.erase("last_name");
    EXPECT_NE(message_of(req).find("last_name"), std::string::npos);
    req = maria();
    req["code"] = "TS 42";
    EXPECT_NE(message_of(req).find("code"), std::string::npos);
    EXPECT_TRUE(audit_of(backend_.db_).empty()) << "nothing was added";
}

TEST_F(admin_subscribers_test, update_changes_only_given_fields_and_audits_names_not_values) {
    const std::int64_t id = call(maria())["result"]["subscriber"]["id"];
    json r = call(json{{"cmd", "subscriber.update"},
                       {"subscriber", id},
                       {"address", {{"floor", "4"}}},
                       {"medical_notes", "nuova terapia"}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    EXPECT_EQ(r["result"]["subscriber"]["address"]["floor"], "4");
    EXPECT_EQ(r["result"]["subscriber"]["address"]["street"], "Via Roma");
    EXPECT_EQ(r["result"]["subscriber"]["first_name"], "Maria");
    const auto entries = audit_of(backend_.db_);
    ASSERT_EQ(entries.size(), 2U);
    EXPECT_EQ(entries[1].entry.action, "subscriber.update");
    EXPECT_EQ(entries[1].entry.detail, "address.floor changed, medical_notes changed");
    EXPECT_EQ(storage::find_subscriber(backend_.db_, id)->medical_notes, "nuova terapia");
    EXPECT_EQ(storage::find_subscriber(backend_.db_, id)->key_safe_code, "4711");
}

TEST_F(admin_subscribers_test, contacts_by_priority_and_devices_linked) {
    const std::int64_t id = call(maria())["result"]["subscriber"]["id"];
    json r = call(json{{"cmd", "contact.add"},
                       {"subscriber", id},
                       {"name", "Luca"},
                       {"relation", "figlio"},
                       {"phones", {"347 1"}},
                       {"has_key", true},
                       {"priority", 2}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    r = call(json{{"cmd", "contact.add"}, {"subscriber", id}, {"name", "Anna"}, {"priority", 1}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    EXPECT_EQ(r["result"]["contact"]["name"], "Anna");
    r = call(json{{"cmd", "subscriber.show"}, {"subscriber", id}});
    const json contacts = r["result"]["subscriber"]["contacts"];
    ASSERT_EQ(contacts.size(), 2U);
    EXPECT_EQ(contacts[0]["name"], "Anna");
    EXPECT_EQ(contacts[1]["has_key"], true);
    expect_error(
        call(json{{"cmd", "contact.add"}, {"subscriber", id}, {"name", "X"}, {"priority", 1}}),
        "exists");
    const std::int64_t anna = contacts[0]["id"];
    r = call(json{{"cmd", "contact.update"}, {"contact", anna}, {"priority", 3}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    r = call(json{{"cmd", "subscriber.show"}, {"subscriber", id}});
    EXPECT_EQ(r["result"]["subscriber"]["contacts"][1]["name"], "Anna");
    r = call(json{{"cmd", "contact.remove"}, {"contact", anna}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    r = call(json{{"cmd", "subscriber.show"}, {"subscriber", id}});
    ASSERT_EQ(r["result"]["subscriber"]["contacts"].size(), 1U);

    r = call(
        json{{"cmd", "device.add"}, {"account", "AB12"}, {"protocol", "dc09"}, {"subscriber", id}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    EXPECT_EQ(r["result"]["device"]["subscriber"], id);
    expect_error(
        call(json{
            {"cmd", "device.add"}, {"account", "AB13"}, {"protocol", "dc09"}, {"subscriber", 999}}),
        "not_found");
    call(json{{"cmd", "device.add"}, {"account", "CD34"}, {"protocol", "dc09"}});
    r = call(json{{"cmd", "device.assign"}, {"account", "cd34"}, {"subscriber", id}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    r = call(json{{"cmd", "subscriber.show"}, {"account", "CD34"}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    EXPECT_EQ(r["result"]["subscriber"]["devices"].size(), 2U);
    expect_error(call(json{{"cmd", "subscriber.remove"}, {"subscriber", id}}), "invalid");
    call(json{{"cmd", "device.assign"}, {"account", "CD34"}, {"subscriber", nullptr}});
    call(json{{"cmd", "device.remove"}, {"account", "AB12"}});
    r = call(json{{"cmd", "subscriber.remove"}, {"subscriber", id}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    EXPECT_EQ(audit_of(backend_.db_).back().entry.action, "subscriber.remove");
}

TEST_F(admin_subscribers_test, away_pauses_the_devices_in_the_engine_until_the_date) {
    const std::int64_t id = call(maria())["result"]["subscriber"]["id"];
    call(
        json{{"cmd", "device.add"}, {"account", "AB12"}, {"protocol", "dc09"}, {"subscriber", id}});
    expect_error(call(json{{"cmd", "subscriber.set_status"},
                           {"subscriber", id},
                           {"status", "away"},
                           {"until", "2020-01-01"}}),
                 "invalid");
    expect_error(call(json{{"cmd", "subscriber.set_status"},
                           {"subscriber", id},
                           {"status", "active"},
                           {"until", "2099-01-01"}}),
                 "invalid");
    json r = call(json{{"cmd", "subscriber.set_status"},
                       {"subscriber", id},
                       {"status", "hospital"},
                       {"until", "2099-12-20"}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    EXPECT_EQ(r["result"]["subscriber"]["status"], "hospital");
    EXPECT_EQ(r["result"]["subscriber"]["away_until"], "2099-12-21T00:00:00.000Z");
    const auto* dev = backend_.alarms_.alarm_engine().device("AB12");
    ASSERT_NE(dev, nullptr);
    ASSERT_TRUE(dev->paused_until);
    EXPECT_EQ(arc::engine::to_ms(*dev->paused_until), 4101494400000);
    r = call(json{{"cmd", "subscriber.set_status"}, {"subscriber", id}, {"status", "active"}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    EXPECT_FALSE(backend_.alarms_.alarm_engine().device("AB12")->paused_until);
    EXPECT_EQ(audit_of(backend_.db_).back().entry.detail, "status=active");
}

TEST_F(admin_subscribers_test, an_absence_past_its_end_reads_as_active) {
    const std::int64_t id = call(maria())["result"]["subscriber"]["id"];
    json r = call(json{{"cmd", "subscriber.set_status"},
                       {"subscriber", id},
                       {"status", "away"},
                       {"until", "2099-12-20"}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    r = call(json{{"cmd", "subscriber.show"}, {"subscriber", id}});
    EXPECT_EQ(r["result"]["subscriber"]["status"], "away");
    EXPECT_FALSE(r["result"]["subscriber"].contains("absence_ended"));
    backend_.now_ms_ = 4101494400000 + 1;  // 2099-12-21T00:00:00.001Z: the absence is over
    r = call(json{{"cmd", "subscriber.show"}, {"subscriber", id}});
    EXPECT_EQ(r["result"]["subscriber"]["status"], "active") << r.dump();
    EXPECT_TRUE(r["result"]["subscriber"]["away_until"].is_null());
    EXPECT_EQ(r["result"]["subscriber"]["absence_ended"], "2099-12-21T00:00:00.000Z");
    r = call(json{{"cmd", "subscriber.list"}});
    EXPECT_EQ(r["result"]["subscribers"][0]["status"], "active");
}

}  // namespace
