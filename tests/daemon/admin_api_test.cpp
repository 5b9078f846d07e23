#include "admin_api.hpp"

#include <exception>
#include <optional>

#include <gtest/gtest.h>

#include "arc/storage/store.hpp"

namespace {

using arc::daemon::admin_backend;
using arc::daemon::device_registry;
using arc::daemon::handle_admin_line;
using nlohmann::json;
namespace storage = arc::storage;

// Runs jobs inline on an in-memory database shared with the reads.
class fake_backend final : public admin_backend {
public:
    json status() override { return json{{"version", "test"}}; }
    storage::database& read_db() override { return db_; }
    device_registry& registry() override { return registry_; }
    void run_job(storage::writer::job work, storage::writer::job_done done) override {
        if (refuse_jobs) {
            done(storage::errc::queue_full, {});
            return;
        }
        try {
            work(db_);
        } catch (const std::exception& e) {
            done(storage::errc::job_failed, e.what());
            return;
        }
        done({}, {});
    }
    std::int64_t now_ms() override { return 1722334218123; }

    storage::database db_ = storage::database::open(":memory:");
    device_registry registry_;
    bool refuse_jobs = false;
};

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
    expect_error(call(json{{"cmd", "device.add"}, {"account", "1234"}, {"protocol", "scaip"}}),
                 "invalid");
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
    expect_error(call(json{{"id", 1}}), "bad_request");
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

}  // namespace
