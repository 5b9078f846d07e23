// Phone reports on the admin API (admin_cases.cpp): case.open makes a call into a queued
// alarm with its case row and audit entry in one job; errors name the field; the case is
// shown with the alarm and the dispatch proposal uses the place the caller gave.
#include <optional>
#include <string>

#include "admin_api.hpp"
#include "fake_backend.hpp"
#include <gtest/gtest.h>

#include "arc/storage/cases.hpp"
#include "arc/storage/security.hpp"
#include "arc/storage/subscribers.hpp"

namespace {

using arc::daemon::handle_admin_line;
using arc_test::fake_backend;
using nlohmann::json;
namespace storage = arc::storage;

class admin_cases_test : public ::testing::Test {
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
    static void expect_error(const json& r, const std::string& code, const std::string& text) {
        EXPECT_EQ(r["ok"], false) << r.dump();
        EXPECT_EQ(r["error"]["code"], code) << r.dump();
        EXPECT_NE(r["error"]["message"].get<std::string>().find(text), std::string::npos)
            << r.dump();
    }
    static json violence_report() {
        return json{
            {"cmd", "case.open"},
            {"actor", "anna"},
            {"category", "domestic_violence"},
            {"urgency", "critical"},
            {"caller",
             {{"kind", "citizen"}, {"name", "Giovanna Esposito"}, {"phone", "333 7654321"}}},
            {"person", {{"name", "Lucia Ferraro"}, {"details", "circa 40 anni"}}},
            {"place", {{"comune", "Forlì"}, {"address", "Via Ravegnana 118"}}},
            {"summary", "urla dall'appartamento accanto"}};
    }
    std::size_t open_alarms() { return call(json{{"cmd", "alarms"}})["result"]["open"]; }

    fake_backend backend_;
};

TEST_F(admin_cases_test, a_call_becomes_a_queued_alarm_taken_by_the_operator_with_its_case) {
    const std::size_t audits = storage::read_audit(backend_.db_, 1, 1000).size();
    json r = call(violence_report());
    ASSERT_EQ(r["ok"], true) << r.dump();
    const json alarm = r["result"]["alarm"];
    EXPECT_EQ(alarm["kind"], "phone_report");
    EXPECT_EQ(alarm["class"], "critical");
    EXPECT_EQ(alarm["state"], "taken");
    EXPECT_EQ(alarm["holder"], "anna");
    EXPECT_EQ(alarm["code"], "domestic_violence");
    const std::string text = alarm["text"];
    EXPECT_NE(text.find("Forlì"), std::string::npos) << text;
    EXPECT_EQ(text.find("Lucia"), std::string::npos) << "no names in the queue: " << text;
    const std::int64_t id = alarm["id"];
    EXPECT_EQ(open_alarms(), 1U);

    const auto stored = storage::find_case(backend_.db_, id);
    ASSERT_TRUE(stored);
    EXPECT_EQ(stored->person_name, "Lucia Ferraro");
    EXPECT_EQ(stored->caller_kind, "citizen");
    EXPECT_EQ(stored->created_by, "anna");

    const json shown = call(json{{"cmd", "alarm.show"}, {"alarm", id}});
    ASSERT_EQ(shown["ok"], true) << shown.dump();
    EXPECT_EQ(shown["result"]["case"]["person"]["name"], "Lucia Ferraro");
    EXPECT_EQ(shown["result"]["case"]["caller"]["phone"], "333 7654321");
    EXPECT_EQ(shown["result"]["case"]["place"]["address"], "Via Ravegnana 118");
    EXPECT_EQ(shown["result"]["case"]["summary"], "urla dall'appartamento accanto");

    const auto audit = storage::read_audit(backend_.db_, 1, 1000);
    ASSERT_EQ(audit.size(), audits + 1);
    EXPECT_EQ(audit.back().entry.action, "case.open");
    EXPECT_EQ(audit.back().entry.actor, "anna");
    EXPECT_EQ(audit.back().entry.target, std::to_string(id));
    EXPECT_EQ(audit.back().entry.detail,
              "category=domestic_violence caller=citizen urgency=critical");

    // The proposal uses the place the caller gave (no device, no subscriber).
    ASSERT_EQ(call(json{{"cmd", "team.add"},
                        {"name", "PIS Forlì"},
                        {"territory", {"Forlì"}},
                        {"schedule", "24x7"}})["ok"],
              true);
    const json proposed = call(json{{"cmd", "team.propose"}, {"alarm", id}});
    ASSERT_EQ(proposed["ok"], true) << proposed.dump();
    EXPECT_EQ(proposed["result"]["comune"], "Forlì");
    ASSERT_EQ(proposed["result"]["teams"].size(), 1U);
    EXPECT_EQ(proposed["result"]["teams"][0]["name"], "PIS Forlì");
}

TEST_F(admin_cases_test, a_subscriber_gives_the_place_and_the_device) {
    json r =
        call(json{{"cmd", "subscriber.add"},
                  {"code", "TS-0042"},
                  {"first_name", "Maria"},
                  {"last_name", "Rossi"},
                  {"address", {{"comune", "Torino"}, {"street", "Via Roma"}, {"number", "12"}}}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    const std::int64_t sid = r["result"]["subscriber"]["id"];
    ASSERT_EQ(call(json{{"cmd", "device.add"},
                        {"account", "4242"},
                        {"protocol", "dc09"},
                        {"subscriber", sid}})["ok"],
              true);
    r = call(json{{"cmd", "case.open"},
                  {"category", "frail_elderly"},
                  {"caller", {{"kind", "social_service"}}},
                  {"person", {{"subscriber", "TS-0042"}}},
                  {"summary", "non risponde al telefono da ieri"},
                  {"take", false}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    EXPECT_EQ(r["result"]["alarm"]["account"], "4242");
    EXPECT_EQ(r["result"]["alarm"]["class"], "urgent");
    EXPECT_EQ(r["result"]["alarm"]["state"], "new");
    EXPECT_EQ(r["result"]["case"]["person"]["name"], "Maria Rossi");
    EXPECT_EQ(r["result"]["case"]["person"]["subscriber"], sid);
    EXPECT_EQ(r["result"]["case"]["place"]["comune"], "Torino");
    EXPECT_EQ(r["result"]["case"]["place"]["address"], "Via Roma 12");
    EXPECT_EQ(r["result"]["case"]["created_by"], "admin");
}

TEST_F(admin_cases_test, bad_reports_are_refused_naming_the_field_and_open_nothing) {
    json req = violence_report();
    req.erase("category");
    expect_error(call(req), "bad_request", "'category'");
    req = violence_report();
    req["category"] = "lost_cat";
    expect_error(call(req), "invalid", "category: 'lost_cat' is not one of");
    req = violence_report();
    req["caller"]["kind"] = "anonymous_letter";
    expect_error(call(req), "invalid", "caller.kind");
    req = violence_report();
    req["urgency"] = "log_only";
    expect_error(call(req), "invalid", "urgency");
    req = violence_report();
    req.erase("summary");
    expect_error(call(req), "bad_request", "'summary'");
    req = violence_report();
    req["place"].erase("comune");
    expect_error(call(req), "bad_request", "'place.comune'");
    req = violence_report();
    req["person"] = json::object();
    expect_error(call(req), "bad_request", "person:");
    req = violence_report();
    req["person"] = {{"subscriber", "TS-404"}};
    expect_error(call(req), "not_found", "no subscriber");
    req = violence_report();
    req["caller"]["name"] = "Giovanna\x1b[2J";
    expect_error(call(req), "invalid", "caller.name: must not contain control characters");
    EXPECT_EQ(open_alarms(), 0U);
}

}  // namespace
