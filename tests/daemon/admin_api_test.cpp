#include "admin_api.hpp"

#include <atomic>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <optional>

#include "alarm_service.hpp"
#include "fake_backend.hpp"
#include <gtest/gtest.h>

#include "arc/api/json.hpp"
#include "arc/config/event_codes.hpp"
#include "arc/protocol/dc09.hpp"
#include "arc/security/passwords.hpp"
#include "arc/security/session_token.hpp"
#include "arc/storage/alarms.hpp"
#include "arc/storage/security.hpp"
#include "arc/storage/store.hpp"

namespace {

using arc::daemon::admin_backend;
using arc::daemon::device_registry;
using arc::daemon::handle_admin_line;
using nlohmann::json;
namespace storage = arc::storage;

using arc_test::fake_backend;
using arc_test::receive;

class admin_api_test : public ::testing::Test {
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

TEST_F(admin_api_test, status_echoes_id) {
    const json r = call(json{{"cmd", "status"}, {"id", 42}});
    EXPECT_EQ(r["ok"], true);
    EXPECT_EQ(r["id"], 42);
    EXPECT_EQ(r["result"]["version"], "test");
}

TEST_F(admin_api_test, device_add_show_list_remove) {
    json r = call(json{{"cmd", "device.add"},
                       {"id", "a"},
                       {"account", "abc123"},
                       {"protocol", "dc09"},
                       {"key", "0123456789ABCDEF0123456789ABCDEF"},
                       {"label", "pendant"}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    EXPECT_EQ(r["id"], "a");
    EXPECT_EQ(r["result"]["device"]["account"], "ABC123");
    EXPECT_EQ(r["result"]["device"]["encrypted"], true);
    EXPECT_EQ(r["result"]["device"]["key_bits"], 128);
    EXPECT_EQ(r["result"]["device"]["mode"], "active");
    EXPECT_EQ(r["result"]["device"]["label"], "pendant");
    EXPECT_EQ(r.dump().find("0123456789"), std::string::npos) << "key leaked";
    ASSERT_TRUE(backend_.registry_.lookup("abc123"));
    EXPECT_TRUE(backend_.registry_.lookup("abc123")->key.has_value());

    r = call(json{{"cmd", "device.add"}, {"account", "0999"}, {"protocol", "dc09"}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    EXPECT_EQ(r["result"]["device"]["encrypted"], false);
    EXPECT_EQ(r["result"]["device"]["key_bits"], 0);

    r = call(json{{"cmd", "device.show"}, {"account", "Abc123"}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    EXPECT_EQ(r["result"]["device"]["account"], "ABC123");

    r = call(json{{"cmd", "device.list"}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    ASSERT_EQ(r["result"]["devices"].size(), 2U);
    EXPECT_EQ(r["result"]["devices"][0]["account"], "0999");
    EXPECT_EQ(r["result"]["devices"][1]["account"], "ABC123");

    r = call(json{{"cmd", "device.remove"}, {"account", "abc123"}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    EXPECT_EQ(r["result"]["removed"], "ABC123");
    EXPECT_FALSE(backend_.registry_.find("ABC123"));
    expect_error(call(json{{"cmd", "device.show"}, {"account", "abc123"}}), "not_found");
    expect_error(call(json{{"cmd", "device.remove"}, {"account", "abc123"}}), "not_found");
}

TEST_F(admin_api_test, set_mode_updates_db_and_registry) {
    ASSERT_EQ(call(json{{"cmd", "device.add"}, {"account", "1234"}, {"protocol", "dc09"}})["ok"],
              true);
    json r = call(json{{"cmd", "device.set_mode"}, {"account", "1234"}, {"mode", "retired"}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    EXPECT_EQ(r["result"]["device"]["mode"], "retired");
    EXPECT_FALSE(backend_.registry_.lookup("1234")) << "retired devices are unknown accounts";
    r = call(json{{"cmd", "device.set_mode"}, {"account", "1234"}, {"mode", "test"}});
    EXPECT_EQ(r["result"]["device"]["mode"], "test");
    EXPECT_TRUE(backend_.registry_.lookup("1234"));
    expect_error(call(json{{"cmd", "device.set_mode"}, {"account", "1234"}, {"mode", "off"}}),
                 "invalid");
    expect_error(call(json{{"cmd", "device.set_mode"}, {"account", "5678"}, {"mode", "test"}}),
                 "not_found");
}

TEST_F(admin_api_test, duplicate_is_exists) {
    ASSERT_EQ(call(json{{"cmd", "device.add"}, {"account", "1234"}, {"protocol", "dc09"}})["ok"],
              true);
    expect_error(call(json{{"cmd", "device.add"}, {"account", "1234"}, {"protocol", "dc09"}}),
                 "exists");
}

TEST_F(admin_api_test, bad_account_key_mode_protocol) {
    for (const char* account : {"12", "12345678901234567", "12G4", ""}) {
        const json r =
            call(json{{"cmd", "device.add"}, {"account", account}, {"protocol", "dc09"}});
        expect_error(r, "invalid");
        EXPECT_NE(r["error"]["message"].get<std::string>().find("account"), std::string::npos);
    }
    json r = call(
        json{{"cmd", "device.add"}, {"account", "1234"}, {"protocol", "dc09"}, {"key", "short"}});
    expect_error(r, "invalid");
    EXPECT_NE(r["error"]["message"].get<std::string>().find("key"), std::string::npos);
    expect_error(
        call(json{{"cmd", "device.add"}, {"account", "1234"}, {"protocol", "dc09"}, {"mode", "x"}}),
        "invalid");
    expect_error(call(json{{"cmd", "device.add"}, {"account", "1234"}, {"protocol", "tt92"}}),
                 "invalid");
    // SCAIP devices: the key is their SIP digest password (scaip_receiver.cpp).
    r = call(json{{"cmd", "device.add"},
                  {"account", "678"},
                  {"protocol", "scaip"},
                  {"key", "Pw-678-secret!!x"}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    EXPECT_EQ(r["result"]["device"]["protocol"], "scaip");
    r = call(json{{"cmd", "device.add"}, {"account", 1234}, {"protocol", "dc09"}});
    expect_error(r, "bad_request");
    EXPECT_NE(r["error"]["message"].get<std::string>().find("account"), std::string::npos);
    r = call(json{{"cmd", "device.add"}, {"account", "1234"}});
    expect_error(r, "bad_request");
    EXPECT_NE(r["error"]["message"].get<std::string>().find("protocol"), std::string::npos);
    EXPECT_FALSE(backend_.registry_.find("1234"));
}

TEST_F(admin_api_test, malformed_and_unknown) {
    expect_error(call(std::string("not json")), "bad_request");
    expect_error(call(std::string("[1,2]")), "bad_request");
    expect_error(call(json{{"alarm", 1}}), "bad_request");
    const json r = call(json{{"cmd", "frobnicate"}, {"id", 7}});
    expect_error(r, "unknown_command");
    EXPECT_EQ(r["id"], 7);
}

TEST_F(admin_api_test, busy_when_writer_refuses) {
    backend_.refuse_jobs = true;
    expect_error(call(json{{"cmd", "device.add"}, {"account", "1234"}, {"protocol", "dc09"}}),
                 "busy");
    EXPECT_FALSE(backend_.registry_.find("1234"));
}

TEST_F(admin_api_test, events_newest_first_with_limit) {
    for (int i = 0; i < 5; ++i) {
        storage::event_record ev;
        ev.received_ms = 1722334218000 + i;
        ev.transport = "tcp";
        ev.peer = "127.0.0.1:1";
        ev.raw = "raw";
        ev.account = "1234";
        ev.seq = std::to_string(i);
        ev.decoded_json = "{}";
        ev.reply_kind = "ACK";
        ev.accepted = true;
        storage::insert_event(backend_.db_, ev);
    }
    json r = call(json{{"cmd", "events"}, {"account", "1234"}, {"limit", 3}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    const auto& events = r["result"]["events"];
    ASSERT_EQ(events.size(), 3U);
    EXPECT_EQ(events[0]["seq"], "4");
    EXPECT_EQ(events[1]["seq"], "3");
    EXPECT_EQ(events[2]["seq"], "2");
    EXPECT_EQ(events[0]["transport"], "tcp");
    EXPECT_TRUE(events[0]["decoded"].is_object());

    r = call(json{{"cmd", "events"}, {"account", "1234"}});
    EXPECT_EQ(r["result"]["events"].size(), 5U);
    expect_error(call(json{{"cmd", "events"}, {"account", "1234"}, {"limit", 0}}), "invalid");
    expect_error(call(json{{"cmd", "events"}, {"account", "1234"}, {"limit", 1001}}), "invalid");
    expect_error(call(json{{"cmd", "events"}, {"account", "1234"}, {"limit", "3"}}), "bad_request");
    expect_error(call(json{{"cmd", "events"}}), "bad_request");
}

TEST_F(admin_api_test, alarm_commands_follow_the_lifecycle) {
    backend_.now_ms_ += 1000;
    receive(backend_, "1234", "0001", "#1234|Nri1/QA001");
    json r = call(json{{"cmd", "alarms"}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    ASSERT_EQ(r["result"]["open"], 1);
    const json alarm = r["result"]["alarms"][0];
    EXPECT_EQ(alarm["class"], "critical");
    EXPECT_EQ(alarm["kind"], "personal_emergency");
    EXPECT_EQ(alarm["state"], "new");
    EXPECT_EQ(alarm["code"], "QA");
    EXPECT_EQ(alarm["zone"], "001");
    const auto id = alarm["id"].get<std::int64_t>();

    r = call(json{{"cmd", "alarm.close"}, {"alarm", id}, {"outcome", "ok"}});
    expect_error(r, "invalid");
    EXPECT_NE(r["error"]["message"].get<std::string>().find("new"), std::string::npos) << r;

    r = call(json{{"cmd", "alarm.take"}, {"alarm", id}, {"actor", "anna"}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    EXPECT_EQ(r["result"]["alarm"]["state"], "taken");
    EXPECT_EQ(r["result"]["alarm"]["holder"], "anna");
    ASSERT_EQ(
        call(json{
            {"cmd", "alarm.note"}, {"alarm", id}, {"actor", "anna"}, {"text", "chiamo"}})["ok"],
        true);
    ASSERT_EQ(call(json{{"cmd", "alarm.acknowledge"}, {"alarm", id}, {"actor", "anna"}})["ok"],
              true);
    r = call(json{{"cmd", "alarm.close"}, {"alarm", id}, {"actor", "anna"}, {"outcome", "falso"}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    EXPECT_EQ(r["result"]["alarm"]["state"], "closed");
    EXPECT_EQ(r["result"]["alarm"]["outcome"], "falso");
    EXPECT_EQ(call(json{{"cmd", "alarms"}})["result"]["open"], 0);

    // Closed alarms are shown from storage: every step, attributed, and the event itself.
    r = call(json{{"cmd", "alarm.show"}, {"alarm", id}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    EXPECT_EQ(r["result"]["alarm"]["state"], "closed");
    EXPECT_EQ(r["result"]["alarm"]["outcome"], "falso");
    std::vector<std::string> steps;
    for (const json& entry : r["result"]["timeline"]) {
        steps.push_back(entry["change"].get<std::string>() + ":" +
                        entry["actor"].get<std::string>());
    }
    EXPECT_EQ(steps, (std::vector<std::string>{"opened:system", "transitioned:anna", "noted:anna",
                                               "transitioned:anna", "closed:anna"}));
    ASSERT_EQ(r["result"]["events"].size(), 1U);
    EXPECT_NE(r["result"]["events"][0]["raw"].get<std::string>().find("QA001"), std::string::npos);
}

TEST_F(admin_api_test, alarm_command_errors_name_the_field) {
    receive(backend_, "1234", "0001", "#1234|Nri1/QA001");
    expect_error(call(json{{"cmd", "alarm.take"}}), "bad_request");
    expect_error(call(json{{"cmd", "alarm.take"}, {"alarm", "1"}}), "bad_request");
    expect_error(call(json{{"cmd", "alarm.take"}, {"alarm", 0}}), "invalid");
    expect_error(call(json{{"cmd", "alarm.take"}, {"alarm", 99}}), "not_found");
    expect_error(call(json{{"cmd", "alarm.show"}, {"alarm", 99}}), "not_found");
    expect_error(call(json{{"cmd", "alarm.take"}, {"alarm", 1}, {"actor", "  "}}), "invalid");
    expect_error(call(json{{"cmd", "alarm.close"}, {"alarm", 1}}), "bad_request");
    expect_error(call(json{{"cmd", "alarm.dispatch"}, {"alarm", 1}}), "bad_request");
    expect_error(call(json{{"cmd", "alarms"}, {"limit", 0}}), "invalid");
    // A subscription needs a connection to push to.
    expect_error(call(json{{"cmd", "alarms.subscribe"}}), "invalid");
}

TEST_F(admin_api_test, periodic_tests_go_in_the_routine_lane_and_open_nothing) {
    EXPECT_EQ(receive(backend_, "1234", "0001", "#1234|Nri1/RP000")["lane"], "routine");
    EXPECT_EQ(receive(backend_, "1234", "0002", "", "NULL")["lane"], "routine");
    EXPECT_EQ(receive(backend_, "1234", "0003", "#1234|Nri1/YT001")["lane"], "alarm");
    EXPECT_EQ(receive(backend_, "1234", "0004", "#1234|Nri1/YR001")["lane"], "alarm");
    EXPECT_EQ(call(json{{"cmd", "alarms"}})["result"]["open"], 0);  // YT closed by its restore
    // Every event of a multi-event frame counts, none taken for a retransmission of another.
    const json two = receive(backend_, "1234", "0005", "#1234|Nri1/QA001/MA002");
    EXPECT_EQ(two["events"], 2);
    EXPECT_EQ(call(json{{"cmd", "alarms"}})["result"]["open"], 2);
}

TEST_F(admin_api_test, test_mode_for_a_while) {
    ASSERT_EQ(call(json{{"cmd", "device.add"},
                        {"account", "1234"},
                        {"protocol", "dc09"},
                        {"type", "pendant"}})["ok"],
              true);
    json r = call(
        json{{"cmd", "device.set_mode"}, {"account", "1234"}, {"mode", "test"}, {"for_s", 7200}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    EXPECT_EQ(r["result"]["device"]["mode"], "test");
    EXPECT_EQ(r["result"]["device"]["type"], "pendant");
    EXPECT_FALSE(r["result"]["device"]["test_until"].is_null()) << r.dump();
    // The engine's timer now ends the test mode by itself.
    ASSERT_TRUE(backend_.armed.has_value());
    EXPECT_EQ(arc::engine::to_ms(*backend_.armed), backend_.now_ms_ + 7200 * 1000);
    receive(backend_, "1234", "0001", "#1234|Nri1/QA001");
    EXPECT_EQ(call(json{{"cmd", "alarms"}})["result"]["open"], 0);

    expect_error(
        call(json{
            {"cmd", "device.set_mode"}, {"account", "1234"}, {"mode", "active"}, {"for_s", 60}}),
        "invalid");
    expect_error(
        call(json{{"cmd", "device.set_mode"}, {"account", "1234"}, {"mode", "test"}, {"for_s", 5}}),
        "invalid");
    expect_error(call(json{{"cmd", "device.add"},
                           {"account", "5678"},
                           {"protocol", "dc09"},
                           {"type", "Home Unit"}}),
                 "invalid");
}

// ---- operators and the audit trail --------------------------------------------------------------

// The audit entries as stored, oldest first.
std::vector<arc::security::chained_entry> audit_rows(storage::database& db) {
    return storage::read_audit(db, 1, 1000);
}

TEST_F(admin_api_test, operator_add_stores_an_argon2id_hash_and_never_returns_it) {
    json r = call(json{{"cmd", "operator.add"},
                       {"username", "Anna"},
                       {"role", "supervisor"},
                       {"display_name", "Anna Rossi"},
                       {"password", "correct horse battery"}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    const json op = r["result"]["operator"];
    EXPECT_EQ(op["username"], "Anna");
    EXPECT_EQ(op["role"], "supervisor");
    EXPECT_EQ(op["display_name"], "Anna Rossi");
    EXPECT_EQ(op["disabled"], false);
    EXPECT_TRUE(op["locked_until"].is_null());
    EXPECT_EQ(op["created"], "2024-07-30T10:10:18Z");

    const auto stored = storage::find_operator(backend_.db_, "anna");
    ASSERT_TRUE(stored);
    EXPECT_EQ(stored->password_hash.rfind("$argon2id$", 0), 0U);
    EXPECT_TRUE(arc::security::verify_password(stored->password_hash, "correct horse battery"));

    r = call(json{{"cmd", "operator.list"}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    ASSERT_EQ(r["result"]["operators"].size(), 1U);
    EXPECT_EQ(r["result"]["operators"][0]["username"], "Anna");
    for (const std::string& secret :
         {std::string("argon2"), std::string("correct horse"), stored->password_hash}) {
        EXPECT_EQ(r.dump().find(secret), std::string::npos) << secret;
    }

    const auto rows = audit_rows(backend_.db_);
    ASSERT_EQ(rows.size(), 1U);
    EXPECT_EQ(rows[0].entry.actor, "admin-socket");
    EXPECT_EQ(rows[0].entry.action, "operator.add");
    EXPECT_EQ(rows[0].entry.target, "Anna");
    EXPECT_EQ(rows[0].entry.detail, "role=supervisor");
    EXPECT_EQ(rows[0].entry.at_ms, backend_.now_ms_);
    EXPECT_EQ(rows[0].entry.detail.find("correct"), std::string::npos);
}

TEST_F(admin_api_test, operator_add_refusals_change_nothing) {
    const auto add = [this](const std::string& user, const std::string& role,
                            const std::string& password) {
        return call(json{
            {"cmd", "operator.add"}, {"username", user}, {"role", role}, {"password", password}});
    };
    ASSERT_EQ(add("anna", "admin", "correct horse battery")["ok"], true);
    json r = add("ANNA", "operator", "another password");
    expect_error(r, "exists");
    EXPECT_EQ(r["error"]["message"], "operator ANNA already exists");
    r = add("bruno", "operator", "short");
    expect_error(r, "invalid");
    EXPECT_EQ(r["error"]["message"], "password: at least 10 characters");
    expect_error(add("bruno", "operator", "          "), "invalid");
    r = add("bruno", "root", "correct horse battery");
    expect_error(r, "invalid");
    EXPECT_NE(r["error"]["message"].get<std::string>().find("role"), std::string::npos);
    expect_error(add("bad name", "operator", "correct horse battery"), "invalid");
    expect_error(add("admin-socket", "admin", "correct horse battery"), "invalid");
    expect_error(call(json{{"cmd", "operator.add"}, {"username", "bruno"}, {"role", "team"}}),
                 "bad_request");
    EXPECT_EQ(storage::list_operators(backend_.db_).size(), 1U);
    EXPECT_EQ(audit_rows(backend_.db_).size(), 1U) << "only the one that changed something";
}

TEST_F(admin_api_test, operator_passwd_replaces_the_hash_ends_sessions_and_lifts_a_lockout) {
    ASSERT_EQ(call(json{{"cmd", "operator.add"},
                        {"username", "anna"},
                        {"role", "operator"},
                        {"password", "first password"}})["ok"],
              true);
    const std::int64_t id = storage::find_operator(backend_.db_, "anna")->id;
    storage::insert_session(backend_.db_,
                            storage::session_row{arc::security::new_session_token().hash, id, 1,
                                                 backend_.now_ms_ + 60000, 1, ""});
    for (int i = 0; i < storage::max_failed_logins; ++i) {
        storage::record_failed_login(backend_.db_, id, backend_.now_ms_);
    }
    ASSERT_TRUE(storage::find_operator(backend_.db_, id)->locked(backend_.now_ms_));

    json r = call(
        json{{"cmd", "operator.passwd"}, {"username", "ANNA"}, {"password", "second password"}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    const auto op = storage::find_operator(backend_.db_, id);
    EXPECT_FALSE(arc::security::verify_password(op->password_hash, "first password"));
    EXPECT_TRUE(arc::security::verify_password(op->password_hash, "second password"));
    EXPECT_FALSE(op->locked(backend_.now_ms_));
    EXPECT_EQ(storage::delete_operator_sessions(backend_.db_, id), 0U) << "sessions ended";
    const auto rows = audit_rows(backend_.db_);
    ASSERT_EQ(rows.size(), 2U);
    EXPECT_EQ(rows[1].entry.action, "operator.passwd");
    EXPECT_EQ(rows[1].entry.detail, "password set, 1 session(s) ended");

    expect_error(
        call(json{
            {"cmd", "operator.passwd"}, {"username", "nobody"}, {"password", "second password"}}),
        "not_found");
    expect_error(call(json{{"cmd", "operator.passwd"}, {"username", "anna"}, {"password", "x"}}),
                 "invalid");
    EXPECT_EQ(audit_rows(backend_.db_).size(), 2U);
}

TEST_F(admin_api_test, operator_disable_and_enable) {
    ASSERT_EQ(call(json{{"cmd", "operator.add"},
                        {"username", "anna"},
                        {"role", "operator"},
                        {"password", "correct horse battery"}})["ok"],
              true);
    const std::int64_t id = storage::find_operator(backend_.db_, "anna")->id;
    storage::insert_session(backend_.db_,
                            storage::session_row{arc::security::new_session_token().hash, id, 1,
                                                 backend_.now_ms_ + 60000, 1, ""});
    json r = call(json{{"cmd", "operator.disable"}, {"username", "anna"}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    EXPECT_EQ(r["result"]["operator"]["disabled"], true);
    EXPECT_EQ(r["result"]["changed"], true);
    EXPECT_TRUE(storage::find_operator(backend_.db_, id)->disabled);
    EXPECT_EQ(storage::delete_operator_sessions(backend_.db_, id), 0U) << "sessions ended";

    r = call(json{{"cmd", "operator.disable"}, {"username", "anna"}});
    EXPECT_EQ(r["result"]["changed"], false);
    r = call(json{{"cmd", "operator.enable"}, {"username", "anna"}});
    EXPECT_EQ(r["result"]["operator"]["disabled"], false);
    EXPECT_FALSE(storage::find_operator(backend_.db_, id)->disabled);
    expect_error(call(json{{"cmd", "operator.enable"}, {"username", "nobody"}}), "not_found");

    const auto rows = audit_rows(backend_.db_);
    ASSERT_EQ(rows.size(), 3U) << "add, disable, enable: the no-op disable is not recorded";
    EXPECT_EQ(rows[1].entry.action, "operator.disable");
    EXPECT_EQ(rows[1].entry.detail, "1 session(s) ended");
    EXPECT_EQ(rows[2].entry.action, "operator.enable");
}

TEST_F(admin_api_test, device_changes_are_audited_without_the_key) {
    ASSERT_EQ(call(json{{"cmd", "device.add"},
                        {"account", "abc123"},
                        {"protocol", "dc09"},
                        {"key", "0123456789ABCDEF0123456789ABCDEF"}})["ok"],
              true);
    expect_error(call(json{{"cmd", "device.add"}, {"account", "abc123"}, {"protocol", "dc09"}}),
                 "exists");
    ASSERT_EQ(
        call(json{{"cmd", "device.set_mode"}, {"account", "abc123"}, {"mode", "retired"}})["ok"],
        true);
    ASSERT_EQ(call(json{{"cmd", "device.remove"}, {"account", "abc123"}})["ok"], true);
    expect_error(call(json{{"cmd", "device.remove"}, {"account", "abc123"}}), "not_found");

    const auto rows = audit_rows(backend_.db_);
    ASSERT_EQ(rows.size(), 3U);
    EXPECT_EQ(rows[0].entry.action, "device.add");
    EXPECT_EQ(rows[0].entry.target, "ABC123");
    EXPECT_EQ(rows[0].entry.detail, "protocol=dc09 mode=active type=home_unit key=AES-128");
    EXPECT_EQ(rows[1].entry.action, "device.set_mode");
    EXPECT_EQ(rows[1].entry.detail, "mode=retired");
    EXPECT_EQ(rows[2].entry.action, "device.remove");
    for (const auto& row : rows) {
        EXPECT_EQ(row.entry.actor, "admin-socket");
        EXPECT_EQ(row.entry.detail.find("0123456789"), std::string::npos) << "key leaked";
    }
}

TEST_F(admin_api_test, a_change_whose_audit_fails_is_not_made) {
    backend_.db_.exec("DROP TABLE audit");
    expect_error(call(json{{"cmd", "device.add"}, {"account", "1234"}, {"protocol", "dc09"}}),
                 "internal");
    EXPECT_FALSE(storage::find_device(backend_.db_, "1234"));
    EXPECT_FALSE(backend_.registry_.find("1234"));
}

TEST_F(admin_api_test, audit_list_and_verify) {
    for (const char* account : {"1001", "1002", "1003", "1004"}) {
        ASSERT_EQ(
            call(json{{"cmd", "device.add"}, {"account", account}, {"protocol", "dc09"}})["ok"],
            true);
    }
    json r = call(json{{"cmd", "audit.list"}, {"limit", 2}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    EXPECT_EQ(r["result"]["head_seq"], 4);
    ASSERT_EQ(r["result"]["entries"].size(), 2U);
    EXPECT_EQ(r["result"]["entries"][0]["seq"], 3) << "the newest, oldest first";
    EXPECT_EQ(r["result"]["entries"][1]["target"], "1004");
    EXPECT_EQ(r["result"]["entries"][1]["at"], "2024-07-30T10:10:18.123Z");
    EXPECT_EQ(r["result"]["entries"][1]["hash"].get<std::string>().size(), 64U);
    r = call(json{{"cmd", "audit.list"}, {"from", 2}, {"limit", 1}});
    ASSERT_EQ(r["result"]["entries"].size(), 1U);
    EXPECT_EQ(r["result"]["entries"][0]["target"], "1002");
    expect_error(call(json{{"cmd", "audit.list"}, {"limit", 0}}), "invalid");

    r = call(json{{"cmd", "audit.verify"}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    EXPECT_EQ(r["result"]["intact"], true);
    EXPECT_EQ(r["result"]["entries"], 4);
    EXPECT_TRUE(r["result"]["bad_seq"].is_null());

    backend_.db_.exec("UPDATE audit SET target = '9999' WHERE seq = 2");
    r = call(json{{"cmd", "audit.verify"}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    EXPECT_EQ(r["result"]["intact"], false);
    EXPECT_EQ(r["result"]["bad_seq"], 2);
    EXPECT_EQ(r["result"]["reason"].get<std::string>().rfind("edited:", 0), 0U);
}

}  // namespace

namespace {

// A frame stored as arcd stores it, for diagnostics histories.
storage::event_record stored_frame(const std::string& account, std::int64_t at,
                                   const std::string& reply_kind, const std::string& error,
                                   const std::string& decoded = "{}") {
    storage::event_record ev;
    ev.received_ms = at;
    ev.transport = "tcp";
    ev.peer = "127.0.0.1:1";
    arc::protocol::dc09_message_spec spec;
    spec.seq = "0009";
    spec.acct = account;
    spec.data = "#" + account + "|NRP000";
    ev.raw = arc::protocol::encode_dc09(spec);
    ev.account = account;
    ev.token = "SIA-DCS";
    ev.decoded_json = decoded;
    ev.reply_kind = reply_kind;
    ev.error = error;
    return ev;
}

TEST_F(admin_api_test, device_diag_counts_a_known_history) {
    ASSERT_EQ(call(json{{"cmd", "device.add"},
                        {"account", "1234"},
                        {"protocol", "dc09"},
                        {"interval_s", 3600}})["ok"],
              true);
    backend_.now_ms_ += 1000;
    receive(backend_, "1234", "0001", "#1234|Nri1/QA001");  // ACK, opens an alarm
    // A frame whose CRC is wrong: the header did not parse, so it is stored without account.
    storage::event_record bad_crc = stored_frame("1234", backend_.now_ms_ + 1, "NAK", "");
    bad_crc.raw[1] = bad_crc.raw[1] == '0' ? '1' : '0';
    bad_crc.account.clear();
    bad_crc.token.clear();
    bad_crc.error = "CRC mismatch";
    storage::insert_event(backend_.db_, bad_crc);
    storage::insert_event(backend_.db_,
                          stored_frame("1234", backend_.now_ms_ + 2, "NAK", "decryption failed"));
    storage::insert_event(backend_.db_,
                          stored_frame("1234", backend_.now_ms_ + 3, "DUH", "unknown event code",
                                       R"({"skew_s":-75,"outside_window":false})"));
    storage::insert_event(backend_.db_, stored_frame("1234", backend_.now_ms_ + 4, "NAK",
                                                     "timestamp outside the window",
                                                     R"({"skew_s":900,"outside_window":true})"));
    storage::insert_event(backend_.db_, stored_frame("5678", backend_.now_ms_ + 5, "NAK",
                                                     "CRC mismatch"));  // another device

    json r = call(json{{"cmd", "device.diag"}, {"account", "1234"}, {"limit", 3}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    const json& d = r["result"];
    EXPECT_EQ(d["device"]["account"], "1234");
    EXPECT_EQ(d["mode"], "active");
    EXPECT_EQ(d["type"], "home_unit");
    EXPECT_EQ(d["last_seen"], arc::api::iso8601_utc_ms(backend_.now_ms_));
    EXPECT_EQ(d["supervision"]["interval_s"], 3600);
    EXPECT_TRUE(d["supervision"]["silent_at"].is_string()) << d.dump();
    const json& c = d["counters"];
    EXPECT_EQ(c["frames"], 5) << c.dump();
    EXPECT_EQ(c["accepted"], 1);
    EXPECT_EQ(c["naks"], 3);
    EXPECT_EQ(c["duhs"], 1);
    EXPECT_EQ(c["crc_errors"], 1);
    EXPECT_EQ(c["format_errors"], 0);
    EXPECT_EQ(c["decryption_failures"], 1);
    EXPECT_EQ(c["outside_window"], 1);
    EXPECT_EQ(c["max_skew_s"], 900);
    EXPECT_EQ(c["replies"]["ACK"], 1);
    EXPECT_EQ(c["errors"]["CRC mismatch"], 1);
    ASSERT_EQ(d["alarms"].size(), 1U);
    EXPECT_EQ(d["alarms"][0]["kind"], "personal_emergency");
    ASSERT_EQ(d["frames"].size(), 3U);  // newest first
    EXPECT_EQ(d["frames"][0]["error"], "timestamp outside the window");
    EXPECT_EQ(d["frames"][2]["error"], "decryption failed");

    r = call(json{{"cmd", "device.diag"}, {"account", "1234"}});
    EXPECT_EQ(r["result"]["frames"].size(), 5U);
    EXPECT_EQ(r["result"]["frames"][3]["error"], "CRC mismatch");
    expect_error(call(json{{"cmd", "device.diag"}, {"account", "9999"}}), "not_found");
    expect_error(call(json{{"cmd", "device.diag"}, {"account", "1234"}, {"limit", 0}}), "invalid");
    expect_error(call(json{{"cmd", "device.diag"}}), "bad_request");
}

TEST_F(admin_api_test, backup_copies_the_database_file) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "arc-admin-backup-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    const std::filesystem::path dir = pattern;
    backend_.db_path = dir / "arc.db";
    {
        storage::database db = storage::database::open(backend_.db_path);
        storage::insert_event(db, stored_frame("1234", 1, "ACK", ""));
    }
    const std::string out = (dir / "copy.db").string();
    json r = call(json{{"cmd", "backup"}, {"path", out}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    EXPECT_EQ(r["result"]["path"], out);
    EXPECT_EQ(r["result"]["events"], 1);
    EXPECT_GT(r["result"]["pages"].get<int>(), 0);
    EXPECT_EQ(r["result"]["bytes"], std::filesystem::file_size(out));
    EXPECT_TRUE(r["result"]["ms"].is_number());

    expect_error(call(json{{"cmd", "backup"}, {"path", out}}), "exists");
    EXPECT_EQ(call(json{{"cmd", "backup"}, {"path", out}, {"overwrite", true}})["ok"], true);
    expect_error(call(json{{"cmd", "backup"}, {"path", "copy.db"}}), "invalid");
    expect_error(call(json{{"cmd", "backup"}, {"path", (dir / "no/such/x.db").string()}}),
                 "invalid");
    expect_error(call(json{{"cmd", "backup"}, {"path", out}, {"overwrite", "yes"}}), "bad_request");
    expect_error(call(json{{"cmd", "backup"}}), "bad_request");
    backend_.blocking_busy = true;
    expect_error(call(json{{"cmd", "backup"}, {"path", (dir / "other.db").string()}}), "busy");
    std::filesystem::remove_all(dir);
}

}  // namespace
