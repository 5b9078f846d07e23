#include "arcctl.hpp"

#include <cstdint>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

using nlohmann::json;
namespace ctl = arc::arcctl;

json alarm_json(std::uint64_t id, const std::string& opened) {
    return json{{"id", id},
                {"class", "critical"},
                {"kind", "personal_emergency"},
                {"state", "taken"},
                {"level", 1},
                {"account", "1234"},
                {"code", "QA"},
                {"zone", "001"},
                {"text", "Allarme personale"},
                {"holder", "anna"},
                {"team", ""},
                {"outcome", ""},
                {"opened", opened},
                {"last_event", opened},
                {"event_count", 3},
                {"restored", nullptr},
                {"closed", nullptr},
                {"storm", false},
                {"storm_id", nullptr},
                {"members", 0}};
}

TEST(arcctl_duration, parses_units_largest_first) {
    EXPECT_EQ(ctl::parse_duration("90s"), 90);
    EXPECT_EQ(ctl::parse_duration("30m"), 1'800);
    EXPECT_EQ(ctl::parse_duration("2h"), 7'200);
    EXPECT_EQ(ctl::parse_duration("1h30m"), 5'400);
    EXPECT_EQ(ctl::parse_duration("1d2h3m4s"), 93'784);
    EXPECT_EQ(ctl::parse_duration("0s"), 0);
}

TEST(arcctl_duration, rejects_malformed) {
    for (const char* bad : {"", "90", "h", "2x", "1h1h", "30m1h", "1.5h", "-5m", " 2h", "2h ", "2H",
                            "99999999999999999999s", "100000d"}) {
        EXPECT_FALSE(ctl::parse_duration(bad).has_value()) << bad;
    }
}

TEST(arcctl_duration, formats_what_it_parses) {
    EXPECT_EQ(ctl::format_duration(0), "0s");
    EXPECT_EQ(ctl::format_duration(90), "1m30s");
    EXPECT_EQ(ctl::format_duration(3'600), "1h");
    EXPECT_EQ(ctl::format_duration(5'400), "1h30m");
    EXPECT_EQ(ctl::format_duration(90'000), "1d1h");
    for (const std::int64_t s : {1, 59, 61, 3'599, 86'399, 86'401, 604'800}) {
        EXPECT_EQ(ctl::parse_duration(ctl::format_duration(s)), s) << s;
    }
}

TEST(arcctl_age, units_by_size) {
    EXPECT_EQ(ctl::format_age(-5), "0s");
    EXPECT_EQ(ctl::format_age(45'999), "45s");
    EXPECT_EQ(ctl::format_age(125'000), "2m05s");
    EXPECT_EQ(ctl::format_age(3'600'000 * 3 + 7 * 60'000), "3h07m");
    EXPECT_EQ(ctl::format_age(86'400'000LL * 2 + 4 * 3'600'000), "2d04h");
}

TEST(arcctl_time, iso8601_with_milliseconds) {
    EXPECT_EQ(ctl::parse_iso8601_ms("2024-07-30T10:10:18.123Z"), 1'722'334'218'123);
    EXPECT_EQ(ctl::parse_iso8601_ms("2024-07-30T10:10:18.1Z"), 1'722'334'218'100);
    EXPECT_EQ(ctl::parse_iso8601_ms("2024-07-30T10:10:18.123456Z"), 1'722'334'218'123);
    EXPECT_EQ(ctl::parse_iso8601_ms("2024-07-30T10:10:18Z"), 1'722'334'218'000);
    EXPECT_EQ(ctl::parse_iso8601("2024-07-30T10:10:18.999Z"), 1'722'334'218);
    EXPECT_FALSE(ctl::parse_iso8601_ms("2024-07-30 10:10:18Z").has_value());
}

TEST(arcctl_alarms, queue_table) {
    const std::int64_t now = *ctl::parse_iso8601_ms("2024-07-30T10:12:23.000Z");
    json storm = alarm_json(9, "2024-07-30T10:10:18.000Z");
    storm["class"] = "technical";
    storm["kind"] = "mains_loss";
    storm["state"] = "new";
    storm["account"] = "";
    storm["holder"] = "";
    storm["text"] = "storm: mains_loss";
    storm["storm"] = true;
    storm["members"] = 25;
    const json result{{"open", 2},
                      {"alarms", json::array({alarm_json(4, "2024-07-30T10:10:18.000Z"), storm})}};
    const std::string text = ctl::alarms_to_text(result, now);
    EXPECT_EQ(text,
              "2 open alarms\n"
              "ID  CLASS      LVL  STATE  AGE    ACCOUNT  KIND                N  HOLDER  TEXT\n"
              "4   critical   1    taken  2m05s  1234     personal_emergency  3  anna    "
              "Allarme personale\n"
              "9   technical  1    new    2m05s  -        mains_loss          3  -       "
              "storm (25 members)\n");
}

TEST(arcctl_alarms, empty_and_truncated_queue) {
    EXPECT_EQ(ctl::alarms_to_text(json{{"open", 0}, {"alarms", json::array()}}, 0),
              "0 open alarms\n");
    const json one{{"open", 1}, {"alarms", json::array({alarm_json(4, "x")})}};
    EXPECT_EQ(ctl::alarms_to_text(one, 0).substr(0, 13), "1 open alarm\n");
    const json cut{{"open", 1500}, {"alarms", json::array({alarm_json(4, "x")})}};
    EXPECT_EQ(ctl::alarms_to_text(cut, 0).substr(0, 41),
              "1500 open alarms (the first 1 shown)\nID  ");
}

TEST(arcctl_alarms, show_lists_alarm_timeline_events_and_members) {
    json alarm = alarm_json(4, "2024-07-30T10:10:18.000Z");
    alarm["storm"] = true;
    alarm["members"] = 3;
    const json result{{"alarm", alarm},
                      {"timeline", json::array({json{{"at", "2024-07-30T10:10:18.000Z"},
                                                     {"change", "opened"},
                                                     {"event_id", 7},
                                                     {"actor", "system"},
                                                     {"from", nullptr},
                                                     {"to", nullptr},
                                                     {"detail", ""}},
                                                json{{"at", "2024-07-30T10:11:00.000Z"},
                                                     {"change", "transitioned"},
                                                     {"event_id", 0},
                                                     {"actor", "anna"},
                                                     {"from", "new"},
                                                     {"to", "taken"},
                                                     {"detail", ""}}})},
                      {"events", json::array()},
                      {"members", json::array({11, 12})}};
    const std::string text = ctl::alarm_show_to_text(result);
    EXPECT_NE(text.find("id          4\n"), std::string::npos) << text;
    EXPECT_NE(text.find("state       taken\n"), std::string::npos) << text;
    EXPECT_NE(text.find("holder      anna\n"), std::string::npos) << text;
    EXPECT_NE(text.find("storm       yes, 3 members\n"), std::string::npos) << text;
    EXPECT_NE(text.find("\ntimeline\nAT                        CHANGE        ACTOR   FROM->TO    "
                        "DETAIL\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("2024-07-30T10:11:00.000Z  transitioned  anna    new->taken  -\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("\nevents\nno events\n"), std::string::npos) << text;
    EXPECT_NE(text.find("\nmembers (3, the first 2 listed)\n#11 #12\n"), std::string::npos) << text;
}

TEST(arcctl_alarms, show_prints_the_location_an_event_carried) {
    const json with{{"alarm", alarm_json(4, "2024-07-30T10:10:18.000Z")},
                    {"timeline", json::array()},
                    {"events", json::array()},
                    {"members", json::array()},
                    {"location",
                     {{"geo", "45.0703,7.6869"},
                      {"text", "primo piano"},
                      {"code", 11},
                      {"label", "bagno"},
                      {"event", 7}}}};
    const std::string text = ctl::alarm_show_to_text(with);
    EXPECT_NE(text.find("location    bagno (011), 45.0703,7.6869, primo piano\n"),
              std::string::npos)
        << text;
    json without = with;
    without["location"] = nullptr;
    EXPECT_EQ(ctl::alarm_show_to_text(without).find("location"), std::string::npos);
}

// A SCAIP event's "cid" is the controller id (a string), not a Contact ID object.
TEST(arcctl_events, scaip_event_is_summarised) {
    const json events = json::array({json{{"received", "2024-07-30T10:10:18.000Z"},
                                          {"transport", "scaip_udp"},
                                          {"decoded",
                                           {{"ref", "1243"},
                                            {"mty", "ME"},
                                            {"cid", "678"},
                                            {"dty", 3},
                                            {"stc", 10},
                                            {"lge", {{"geo", "45.07,7.68"}}}}},
                                          {"raw", "<mrq/>"}}});
    const std::string text = ctl::events_to_text(events);
    EXPECT_NE(text.find("SCAIP ME ref 1243 dty 3 stc 10"), std::string::npos) << text;
}

TEST(arcctl_alarms, member_points_at_its_storm) {
    json alarm = alarm_json(12, "2024-07-30T10:10:18.000Z");
    alarm["storm_id"] = 4;
    EXPECT_NE(ctl::alarm_to_text(alarm).find("storm       member of #4\n"), std::string::npos);
}

TEST(arcctl_watch, change_line) {
    const json header{{"id", 4},          {"class", "critical"}, {"kind", "personal_emergency"},
                      {"state", "taken"}, {"level", 0},          {"account", "1234"},
                      {"holder", "anna"}};
    json change{{"seq", 17},
                {"change", "transitioned"},
                {"at", "2024-07-30T10:11:00.042Z"},
                {"event_id", 0},
                {"alarm", header},
                {"account", "1234"},
                {"actor", "anna"},
                {"detail", ""},
                {"from", "new"},
                {"to", "taken"},
                {"members", json::array()},
                {"members_count", 0},
                {"rank", 0},
                {"head", 4}};
    EXPECT_EQ(ctl::change_to_text(change),
              "10:11:00.042 #17 transitioned #4 critical personal_emergency 1234 state=taken "
              "level=0 rank=0 head=#4 actor=anna\n");

    // No alarm: the device; detail quoted so that it stays on its line.
    change["change"] = "mode_changed";
    change["alarm"] = nullptr;
    change["account"] = "5678";
    change["actor"] = "system";
    change["detail"] = "test mode ended\n";
    change["rank"] = nullptr;
    change["head"] = nullptr;
    EXPECT_EQ(ctl::change_to_text(change),
              "10:11:00.042 #17 mode_changed 5678 rank=- head=- actor=system "
              "detail=\"test mode ended\\n\"\n");

    change["change"] = "storm_grouped";
    change["alarm"] = header;
    change["members_count"] = 25;
    change["detail"] = "";
    EXPECT_NE(ctl::change_to_text(change).find(" members=25 "), std::string::npos);
}

TEST(arcctl_devices, type_interval_and_test_end) {
    const json dev{{"account", "1234"},
                   {"protocol", "dc09"},
                   {"encrypted", false},
                   {"key_bits", 0},
                   {"mode", "test"},
                   {"label", ""},
                   {"created", "2024-07-30T10:10:18Z"},
                   {"last_seen", nullptr},
                   {"type", "pendant"},
                   {"interval_s", 5'400},
                   {"test_until", "2024-07-30T12:10:18Z"},
                   {"vendor", "acme"}};
    const std::string one = ctl::device_to_text(dev);
    EXPECT_NE(one.find("test until  2024-07-30T12:10:18Z\n"), std::string::npos) << one;
    EXPECT_NE(one.find("type        pendant\n"), std::string::npos) << one;
    EXPECT_NE(one.find("interval    1h30m\n"), std::string::npos) << one;
    EXPECT_NE(one.find("vendor      acme\n"), std::string::npos) << one;

    json plain = dev;
    plain["mode"] = "active";
    plain["interval_s"] = nullptr;
    plain["test_until"] = nullptr;
    const std::string table = ctl::devices_to_text(json::array({dev, plain}));
    EXPECT_EQ(table,
              "ACCOUNT  PROTOCOL  ENCRYPTION  MODE                             TYPE     "
              "INTERVAL      LAST SEEN  LABEL\n"
              "1234     dc09      none        test until 2024-07-30T12:10:18Z  pendant  "
              "1h30m         -          -\n"
              "1234     dc09      none        active                           pendant  "
              "type default  -          -\n");
}

}  // namespace

namespace {

json operator_json(const std::string& username, bool disabled, const json& locked_until) {
    return json{{"id", 1},
                {"username", username},
                {"display_name", "Anna Rossi"},
                {"role", "supervisor"},
                {"disabled", disabled},
                {"locked_until", locked_until},
                {"failed_logins", 0},
                {"created", "2024-07-30T10:10:18Z"},
                {"updated", "2024-07-31T08:00:00Z"}};
}

TEST(OperatorsText, TableShowsEachOperatorsState) {
    const json ops =
        json::array({operator_json("anna", false, nullptr), operator_json("bruno", true, nullptr),
                     operator_json("carla", false, "2024-07-31T08:15:00Z")});
    const std::string text = ctl::operators_to_text(ops);
    EXPECT_NE(text.find("USERNAME"), std::string::npos) << text;
    EXPECT_NE(text.find("anna      Anna Rossi  supervisor  active"), std::string::npos) << text;
    EXPECT_NE(text.find("bruno     Anna Rossi  supervisor  disabled"), std::string::npos) << text;
    EXPECT_NE(text.find("locked until 2024-07-31T08:15:00Z"), std::string::npos) << text;
    EXPECT_NE(ctl::operators_to_text(json::array()).find("arcctl operator add"), std::string::npos);
    EXPECT_NE(ctl::operator_to_text(operator_json("anna", false, nullptr)).find("state"),
              std::string::npos);
}

TEST(AuditText, EntriesWithControlCharactersNeutralised) {
    const json result{{"entries", json::array({json{{"seq", 7},
                                                    {"at", "2024-07-30T10:10:18.123Z"},
                                                    {"actor", "admin-socket"},
                                                    {"action", "device.add"},
                                                    {"target", "1234"},
                                                    {"peer", ""},
                                                    {"detail", "label=\x1b[2Jgone"},
                                                    {"hash", std::string(64, 'a')}}})},
                      {"head_seq", 7}};
    const std::string text = ctl::audit_to_text(result);
    EXPECT_NE(text.find("7    2024-07-30T10:10:18.123Z  admin-socket  device.add  1234"),
              std::string::npos)
        << text;
    EXPECT_EQ(text.find('\x1b'), std::string::npos) << "escape sequence reached the terminal";
    EXPECT_NE(text.find("label=?[2Jgone"), std::string::npos) << text;
    EXPECT_EQ(ctl::audit_to_text(json{{"entries", json::array()}}), "no audit entries\n");
}

TEST(AuditText, VerifyIntactOrBrokenNamingTheSeq) {
    EXPECT_EQ(ctl::audit_verify_to_text(json{{"intact", true},
                                             {"entries", 4},
                                             {"head_seq", 4},
                                             {"head_hash", "4d46"},
                                             {"bad_seq", nullptr},
                                             {"reason", nullptr}}),
              "audit trail intact: 4 entries, head #4 4d46\n");
    EXPECT_EQ(ctl::audit_verify_to_text(json{{"intact", true}, {"entries", 0}}),
              "audit trail intact: no entries\n");
    EXPECT_EQ(ctl::audit_verify_to_text(
                  json{{"intact", false},
                       {"entries", 2},
                       {"bad_seq", 3},
                       {"reason", "edited: the fields of seq 3 do not match its hash"}}),
              "audit trail BROKEN at seq 3: edited: the fields of seq 3 do not match its hash\n");
}

TEST(PasswordStdin, LineEndingsStripped) {
    EXPECT_EQ(ctl::strip_line_end("secret pass\n"), "secret pass");
    EXPECT_EQ(ctl::strip_line_end("secret pass\r\n"), "secret pass");
    EXPECT_EQ(ctl::strip_line_end("secret pass"), "secret pass");
    EXPECT_EQ(ctl::strip_line_end(" trailing space \n"), " trailing space ");
}

TEST(arcctl_diag, device_state_counters_alarms_and_frames) {
    const json diag = json::parse(R"({
        "device": {"account": "1234", "label": "Rossi"},
        "mode": "test", "test_until": "2026-11-25T20:00:00.000Z", "type": "home_unit",
        "last_seen": "2026-11-25T18:00:00.000Z",
        "supervision": {"interval_s": 90000, "silent_at": "2026-11-27T00:00:00.000Z"},
        "counters": {"frames": 5, "accepted": 1, "naks": 3, "duhs": 1, "crc_errors": 1,
                     "format_errors": 0, "decryption_failures": 1, "outside_window": 1,
                     "max_skew_s": -400},
        "alarms": [{"id": 7, "class": "critical", "kind": "fall", "state": "new",
                    "opened": "2026-11-25T18:00:00.000Z", "event_count": 1}],
        "frames": [{"id": 9, "received": "2026-11-25T18:00:01.000Z", "transport": "tcp",
                    "peer": "127.0.0.1:1", "token": "", "seq": "", "reply_kind": "NAK",
                    "error": "CRC mismatch", "decoded": {}, "raw": "\nBAD\r"}]})");
    const std::string text = ctl::device_diag_to_text(diag);
    for (const char* part :
         {"1234", "test", "1d1h", "2026-11-27T00:00:00.000Z", "CRC errors", "-400 s",
          "1 open alarm\n", "#7", "fall", "CRC mismatch", "\\nBAD\\r"}) {
        EXPECT_NE(text.find(part), std::string::npos) << part << " in\n" << text;
    }
    EXPECT_EQ(ctl::event_to_line(diag["frames"][0]),
              "2026-11-25T18:00:01.000Z tcp 127.0.0.1:1 - - -> NAK [CRC mismatch] - "
              "\\nBAD\\r\n");
}

TEST(arcctl_backup, result_line) {
    EXPECT_EQ(
        ctl::backup_to_text(json{
            {"path", "/srv/b.db"}, {"bytes", 4096}, {"pages", 1}, {"events", 0}, {"ms", 12.4}}),
        "backup /srv/b.db: 4096 bytes, 1 pages, 0 events in 12 ms\n");
}

}  // namespace
