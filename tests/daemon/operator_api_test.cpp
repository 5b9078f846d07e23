// The operator API's command handling (docs/admin-api.md, "Operator API"): login, lockout,
// sessions, roles, exclusive take, release, reassign, call log, outcomes, floor and the audit
// entries, over the fake backend (no sockets).
#include <optional>
#include <string>
#include <vector>

#include "admin_api.hpp"
#include "fake_backend.hpp"
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "arc/security/passwords.hpp"
#include "arc/storage/security.hpp"

namespace {

using arc::daemon::handle_admin_line;
using arc_test::fake_backend;
using arc_test::receive;
using nlohmann::json;
namespace storage = arc::storage;

// One operator-API connection.
class test_session final : public arc::daemon::admin_session {
public:
    explicit test_session(std::string from) {
        operator_api = true;
        peer = std::move(from);
    }
    json subscribe(std::size_t /*limit*/) override { return json{{"subscribed", true}}; }
};

constexpr const char* password = "correct horse battery";

class operator_api_test : public ::testing::Test {
protected:
    void SetUp() override {
        add("anna", storage::operator_role::operator_);
        add("marco", storage::operator_role::operator_);
        add("sara", storage::operator_role::supervisor);
        add("ivo", storage::operator_role::installer);
        add("pis1", storage::operator_role::team);
    }

    void add(const std::string& username, storage::operator_role role) {
        storage::operator_account op;
        op.username = username;
        op.display_name = username + " display";
        op.role = role;
        op.password_hash = arc::security::hash_password(password);
        op.created_ms = backend_.now_ms_;
        op.updated_ms = backend_.now_ms_;
        storage::insert_operator(backend_.db_, op);
    }

    json call(test_session& s, const json& req) {
        std::optional<json> out;
        handle_admin_line(
            req.dump(), backend_,
            [&](json r) {
                EXPECT_FALSE(out.has_value()) << "respond called twice";
                out = std::move(r);
            },
            &s);
        EXPECT_TRUE(out.has_value()) << "respond not called";
        return out.value_or(json{});
    }

    json login(test_session& s, const std::string& user, const std::string& pw = password) {
        return call(s, json{{"cmd", "login"}, {"username", user}, {"password", pw}});
    }

    static void expect_error(const json& r, const std::string& code, const std::string& text = {}) {
        EXPECT_EQ(r["ok"], false) << r.dump();
        EXPECT_EQ(r["error"]["code"], code) << r.dump();
        if (!text.empty()) {
            EXPECT_NE(r["error"]["message"].get<std::string>().find(text), std::string::npos)
                << r.dump();
        }
    }

    // Audit entries as "actor action target peer", oldest first.
    std::vector<std::string> audit() {
        std::vector<std::string> out;
        for (const auto& e : storage::read_audit(backend_.db_, 1, 1000)) {
            out.push_back(e.entry.actor + " " + e.entry.action + " " + e.entry.target + " " +
                          e.entry.peer);
        }
        return out;
    }

    bool audited(const std::string& line) {
        const auto all = audit();
        return std::find(all.begin(), all.end(), line) != all.end();
    }

    std::int64_t open_pendant_alarm() {
        backend_.now_ms_ += 1000;
        receive(backend_, "1234", "0001", "#1234|Nri1/QA001");
        test_session admin("127.0.0.1:1");
        admin.operator_api = false;
        const json r = call(admin, json{{"cmd", "alarms"}});
        return r["result"]["alarms"][0]["id"].get<std::int64_t>();
    }

    fake_backend backend_;
};

TEST_F(operator_api_test, nothing_but_hello_login_and_resume_before_login) {
    test_session s("127.0.0.1:4000");
    const json hello = call(s, json{{"cmd", "hello"}});
    ASSERT_EQ(hello["ok"], true) << hello;
    EXPECT_EQ(hello["result"]["logged_in"], false);
    for (const char* cmd : {"alarms", "status", "whoami", "logout", "device.list", "alarm.take"}) {
        expect_error(call(s, json{{"cmd", cmd}, {"alarm", 1}}), "unauthorized", "log in");
    }
}

TEST_F(operator_api_test, login_gives_a_token_and_the_operator_acts_as_itself) {
    test_session s("127.0.0.1:4000");
    const json r = login(s, "ANNA");  // usernames match in any case
    ASSERT_EQ(r["ok"], true) << r;
    EXPECT_EQ(r["result"]["operator"]["username"], "anna");
    EXPECT_EQ(r["result"]["operator"]["role"], "operator");
    EXPECT_EQ(r["result"]["token"].get<std::string>().size(), 64U);
    EXPECT_EQ(r.dump().find("argon2"), std::string::npos) << "hash leaked";
    EXPECT_EQ(call(s, json{{"cmd", "whoami"}})["result"]["operator"]["username"], "anna");
    EXPECT_TRUE(audited("anna login anna 127.0.0.1:4000"));

    // An `actor` field cannot speak for someone else.
    const std::int64_t id = open_pendant_alarm();
    const json take = call(s, json{{"cmd", "alarm.take"}, {"alarm", id}, {"actor", "marco"}});
    ASSERT_EQ(take["ok"], true) << take;
    EXPECT_EQ(take["result"]["alarm"]["holder"], "anna");
    EXPECT_TRUE(audited(fmt::format("anna alarm.take alarm {} 127.0.0.1:4000", id)));
}

TEST_F(operator_api_test, wrong_password_unknown_user_and_lockout) {
    test_session s("127.0.0.1:4001");
    const json unknown = login(s, "nobody");
    expect_error(unknown, "login_failed", "wrong username or password");
    const json wrong = login(s, "anna", "wrong password here");
    expect_error(wrong, "login_failed");
    // The same words for both: a client cannot tell which usernames exist.
    EXPECT_EQ(unknown["error"]["message"], wrong["error"]["message"]);
    EXPECT_TRUE(audited("anonymous login.failed nobody 127.0.0.1:4001"));

    json last;
    for (std::int64_t i = 1; i < storage::max_failed_logins; ++i) {
        last = login(s, "anna", "wrong password here");
    }
    expect_error(last, "locked", "account locked until");
    // Locked: even the right password is refused, until the lock passes.
    expect_error(login(s, "anna"), "locked");
    backend_.now_ms_ += storage::lockout_ms + 1;
    EXPECT_EQ(login(s, "anna")["ok"], true);
}

TEST_F(operator_api_test, a_disabled_account_cannot_log_in) {
    auto op = storage::find_operator(backend_.db_, "marco");
    op->disabled = true;
    storage::update_operator(backend_.db_, *op);
    test_session s("127.0.0.1:4002");
    expect_error(login(s, "marco"), "login_failed", "wrong username or password");
}

TEST_F(operator_api_test, roles_decide_what_each_may_run) {
    test_session op("127.0.0.1:1"), inst("127.0.0.1:2"), team("127.0.0.1:3"), sup("127.0.0.1:4");
    ASSERT_EQ(login(op, "anna")["ok"], true);
    ASSERT_EQ(login(inst, "ivo")["ok"], true);
    ASSERT_EQ(login(team, "pis1")["ok"], true);
    ASSERT_EQ(login(sup, "sara")["ok"], true);
    expect_error(call(op, json{{"cmd", "device.add"}, {"account", "1"}, {"protocol", "dc09"}}),
                 "forbidden", "role operator may not run device.add");
    expect_error(call(op, json{{"cmd", "operator.add"}}), "forbidden");
    expect_error(call(op, json{{"cmd", "floor"}}), "forbidden");
    expect_error(call(op, json{{"cmd", "alarm.reassign"}, {"alarm", 1}, {"to", "anna"}}),
                 "forbidden");
    EXPECT_EQ(call(op, json{{"cmd", "alarms"}})["ok"], true);
    expect_error(call(inst, json{{"cmd", "alarm.take"}, {"alarm", 1}}), "forbidden");
    EXPECT_EQ(
        call(inst, json{{"cmd", "device.add"}, {"account", "0777"}, {"protocol", "dc09"}})["ok"],
        true);
    expect_error(call(team, json{{"cmd", "alarms"}}), "forbidden");
    EXPECT_EQ(call(team, json{{"cmd", "whoami"}})["ok"], true);
    EXPECT_EQ(call(sup, json{{"cmd", "floor"}})["ok"], true);
    // The installer's device.add is audited under its name.
    EXPECT_TRUE(audited("ivo device.add 0777 127.0.0.1:2"));
}

TEST_F(operator_api_test, take_is_exclusive_reassign_and_release) {
    test_session anna("127.0.0.1:1"), marco("127.0.0.1:2"), sara("127.0.0.1:3");
    ASSERT_EQ(login(anna, "anna")["ok"], true);
    ASSERT_EQ(login(marco, "marco")["ok"], true);
    ASSERT_EQ(login(sara, "sara")["ok"], true);
    const std::int64_t id = open_pendant_alarm();
    ASSERT_EQ(call(anna, json{{"cmd", "alarm.take"}, {"alarm", id}})["ok"], true);
    expect_error(call(marco, json{{"cmd", "alarm.take"}, {"alarm", id}}), "held", "held by anna");
    expect_error(call(marco, json{{"cmd", "alarm.acknowledge"}, {"alarm", id}}), "held",
                 "held by anna");
    expect_error(call(marco, json{{"cmd", "alarm.release"}, {"alarm", id}}), "held");
    // A colleague may still add a note (the timeline names who wrote it).
    EXPECT_EQ(
        call(marco, json{{"cmd", "alarm.note"}, {"alarm", id}, {"text", "figlia avvisata"}})["ok"],
        true);

    expect_error(call(sara, json{{"cmd", "alarm.reassign"}, {"alarm", id}, {"to", "nobody"}}),
                 "invalid", "nobody");
    json r = call(sara, json{{"cmd", "alarm.reassign"}, {"alarm", id}, {"to", "Marco"}});
    ASSERT_EQ(r["ok"], true) << r;
    EXPECT_EQ(r["result"]["alarm"]["holder"], "marco");
    EXPECT_EQ(r["result"]["alarm"]["state"], "taken");
    expect_error(call(anna, json{{"cmd", "alarm.acknowledge"}, {"alarm", id}}), "held",
                 "held by marco");

    r = call(marco, json{{"cmd", "alarm.release"}, {"alarm", id}});
    ASSERT_EQ(r["ok"], true) << r;
    EXPECT_EQ(r["result"]["alarm"]["state"], "new");
    EXPECT_EQ(r["result"]["alarm"]["holder"], "");
    // Back in the queue: anyone may take it now.
    r = call(anna, json{{"cmd", "alarm.take"}, {"alarm", id}});
    ASSERT_EQ(r["ok"], true) << r;
    EXPECT_EQ(r["result"]["alarm"]["holder"], "anna");
    EXPECT_TRUE(audited(fmt::format("sara alarm.reassign alarm {} 127.0.0.1:3", id)));
    EXPECT_TRUE(audited(fmt::format("marco alarm.release alarm {} 127.0.0.1:2", id)));

    // Stored: the alarm row names the holder, the log has every step.
    const json shown = call(anna, json{{"cmd", "alarm.show"}, {"alarm", id}});
    std::vector<std::string> steps;
    for (const json& entry : shown["result"]["timeline"]) {
        steps.push_back(entry["change"].get<std::string>() + ":" +
                        entry["actor"].get<std::string>());
    }
    EXPECT_EQ(steps, (std::vector<std::string>{"opened:system", "transitioned:anna", "noted:marco",
                                               "transitioned:sara", "transitioned:marco",
                                               "transitioned:anna"}));
}

TEST_F(operator_api_test, call_log_and_configured_outcomes) {
    test_session anna("127.0.0.1:1");
    ASSERT_EQ(login(anna, "anna")["ok"], true);
    const json outcomes = call(anna, json{{"cmd", "outcomes"}});
    ASSERT_EQ(outcomes["ok"], true) << outcomes;
    ASSERT_EQ(outcomes["result"]["outcomes"].size(), 7U);
    EXPECT_EQ(outcomes["result"]["outcomes"][4]["code"], "false_alarm");
    EXPECT_EQ(outcomes["result"]["outcomes"][4]["it"], "Falso allarme");

    const std::int64_t id = open_pendant_alarm();
    ASSERT_EQ(call(anna, json{{"cmd", "alarm.take"}, {"alarm", id}})["ok"], true);
    expect_error(call(anna, json{{"cmd", "alarm.call"},
                                 {"alarm", id},
                                 {"whom", "Anna Neri"},
                                 {"number", "+39 333 1234567"},
                                 {"outcome", "maybe"}}),
                 "invalid", "outcome");
    json r = call(anna, json{{"cmd", "alarm.call"},
                             {"alarm", id},
                             {"whom", "Anna Neri (figlia)"},
                             {"number", "+39 333 1234567"},
                             {"outcome", "no_answer"}});
    ASSERT_EQ(r["ok"], true) << r;
    ASSERT_EQ(call(anna, json{{"cmd", "alarm.acknowledge"}, {"alarm", id}})["ok"], true);
    expect_error(call(anna, json{{"cmd", "alarm.close"}, {"alarm", id}, {"outcome", "whatever"}}),
                 "invalid", "configured outcomes");
    r = call(anna, json{{"cmd", "alarm.close"}, {"alarm", id}, {"outcome", "false_alarm"}});
    ASSERT_EQ(r["ok"], true) << r;
    EXPECT_EQ(r["result"]["alarm"]["outcome"], "false_alarm");
    const json shown = call(anna, json{{"cmd", "alarm.show"}, {"alarm", id}});
    EXPECT_NE(shown.dump().find("call Anna Neri (figlia) +39 333 1234567: no_answer"),
              std::string::npos)
        << shown;
    // The audit trail (clear, hash-chained) says a call was logged and its outcome; the name
    // and number stay in the alarm's sealed log.
    std::vector<std::string> calls;
    for (const auto& e : storage::read_audit(backend_.db_, 1, 1000)) {
        EXPECT_EQ(e.entry.detail.find("333"), std::string::npos) << e.entry.detail;
        EXPECT_EQ(e.entry.detail.find("Neri"), std::string::npos) << e.entry.detail;
        if (e.entry.action == "alarm.call") {
            calls.push_back(e.entry.detail);
        }
    }
    EXPECT_EQ(calls, std::vector<std::string>{"call: no_answer"});
}

TEST_F(operator_api_test, resume_after_reconnect_and_logout_ends_the_session) {
    test_session first("127.0.0.1:1");
    const json r = login(first, "anna");
    const std::string token = r["result"]["token"];
    // A console reconnecting (arcd restarted) resumes with its token.
    test_session second("127.0.0.1:2");
    json resumed = call(second, json{{"cmd", "resume"}, {"token", token}});
    ASSERT_EQ(resumed["ok"], true) << resumed;
    EXPECT_EQ(resumed["result"]["operator"]["username"], "anna");
    EXPECT_TRUE(audited("anna session.resume anna 127.0.0.1:2"));
    expect_error(call(second, json{{"cmd", "resume"}, {"token", std::string(64, '0')}}),
                 "login_failed");
    expect_error(call(second, json{{"cmd", "resume"}, {"token", "short"}}), "login_failed");

    ASSERT_EQ(call(second, json{{"cmd", "logout"}})["ok"], true);
    expect_error(call(second, json{{"cmd", "alarms"}}), "unauthorized");
    test_session third("127.0.0.1:3");
    expect_error(call(third, json{{"cmd", "resume"}, {"token", token}}), "login_failed");

    // A session ends by itself after a shift.
    test_session fourth("127.0.0.1:4");
    ASSERT_EQ(login(fourth, "anna")["ok"], true);
    backend_.now_ms_ += arc::daemon::operator_session_ms + 1;
    expect_error(call(fourth, json{{"cmd", "alarms"}}), "unauthorized", "expired");
}

TEST_F(operator_api_test, floor_shows_who_holds_what_and_untaken_counts) {
    test_session anna("127.0.0.1:1"), sara("127.0.0.1:3");
    ASSERT_EQ(login(anna, "anna")["ok"], true);
    ASSERT_EQ(login(sara, "sara")["ok"], true);
    const std::int64_t id = open_pendant_alarm();
    backend_.now_ms_ += 1000;
    receive(backend_, "5678", "0001", "#5678|Nri1/QA001");
    ASSERT_EQ(call(anna, json{{"cmd", "alarm.take"}, {"alarm", id}})["ok"], true);
    const json r = call(sara, json{{"cmd", "floor"}});
    ASSERT_EQ(r["ok"], true) << r;
    EXPECT_EQ(r["result"]["untaken"]["critical"], 1);
    bool found = false;
    for (const json& op : r["result"]["operators"]) {
        if (op["username"] == "anna") {
            found = true;
            EXPECT_EQ(op["holding"], json::array({id}));
        }
        EXPECT_NE(op["username"], "pis1") << "teams are not on the operators' floor";
    }
    EXPECT_TRUE(found) << r;
}

}  // namespace

TEST_F(operator_api_test, medical_notes_and_key_safe_code_only_while_holding_the_persons_alarm) {
    test_session admin("local");
    admin.operator_api = false;
    ASSERT_EQ(
        call(admin, json{{"cmd", "device.add"}, {"account", "1234"}, {"protocol", "dc09"}})["ok"],
        true);
    json r = call(admin, json{{"cmd", "subscriber.add"},
                              {"code", "TS-0001"},
                              {"first_name", "Maria"},
                              {"last_name", "Rossi"},
                              {"address", {{"comune", "Torino"}}},
                              {"medical_notes", "insulina alle 8"},
                              {"key_safe_code", "4711"}});
    ASSERT_EQ(r["ok"], true) << r;
    const std::int64_t person = r["result"]["subscriber"]["id"].get<std::int64_t>();
    ASSERT_EQ(
        call(admin,
             json{{"cmd", "device.assign"}, {"account", "1234"}, {"subscriber", person}})["ok"],
        true);

    test_session anna("127.0.0.1:1"), marco("127.0.0.1:2"), sara("127.0.0.1:3"), ivo("127.0.0.1:4");
    ASSERT_EQ(login(anna, "anna")["ok"], true);
    ASSERT_EQ(login(marco, "marco")["ok"], true);
    ASSERT_EQ(login(sara, "sara")["ok"], true);
    ASSERT_EQ(login(ivo, "ivo")["ok"], true);
    const json ask{{"cmd", "subscriber.show"}, {"subscriber", person}, {"sensitive", true}};
    // No alarm held: the record yes, the sensitive fields no.
    expect_error(call(anna, ask), "forbidden", "take one of this subscriber's alarms");
    r = call(anna, json{{"cmd", "subscriber.show"}, {"subscriber", person}});
    ASSERT_EQ(r["ok"], true) << r;
    EXPECT_EQ(r["result"]["subscriber"]["sensitive_hidden"], true);

    const std::int64_t id = open_pendant_alarm();
    ASSERT_EQ(call(anna, json{{"cmd", "alarm.take"}, {"alarm", id}})["ok"], true);
    r = call(anna, ask);
    ASSERT_EQ(r["ok"], true) << r;
    EXPECT_EQ(r["result"]["subscriber"]["medical_notes"], "insulina alle 8");
    EXPECT_EQ(r["result"]["subscriber"]["key_safe_code"], "4711");
    EXPECT_TRUE(audited(fmt::format("anna subscriber.view_sensitive {} 127.0.0.1:1", person)));
    // A colleague who does not hold it, and an installer, are refused; a supervisor may look
    // (audited under her name).
    expect_error(call(marco, ask), "forbidden");
    expect_error(call(ivo, ask), "forbidden");
    r = call(sara, ask);
    ASSERT_EQ(r["ok"], true) << r;
    EXPECT_TRUE(audited(fmt::format("sara subscriber.view_sensitive {} 127.0.0.1:3", person)));
    // Released: anna no longer sees them.
    ASSERT_EQ(call(anna, json{{"cmd", "alarm.release"}, {"alarm", id}})["ok"], true);
    expect_error(call(anna, ask), "forbidden");
}
