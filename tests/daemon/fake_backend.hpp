// Purpose: a fake admin_backend for the daemon's command tests: writer jobs run inline on an
// in-memory database shared with the reads, the alarm service is real, time is set by the test.
#pragma once

#include <atomic>
#include <chrono>
#include <exception>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "admin_api.hpp"
#include "alarm_service.hpp"
#include <nlohmann/json.hpp>

#include "arc/config/event_codes.hpp"
#include "arc/protocol/dc09.hpp"
#include "arc/storage/store.hpp"

namespace arc_test {

using arc::daemon::admin_backend;
using arc::daemon::device_registry;
using nlohmann::json;
namespace storage = arc::storage;

// Runs jobs inline on an in-memory database shared with the reads.
class fake_backend : public admin_backend {
public:
    json status() override { return json{{"version", "test"}}; }
    storage::database& read_db() override { return db_; }
    device_registry& registry() override { return registry_; }
    void run_job(storage::writer::job work, storage::writer::job_done done) override {
        if (refuse_jobs) {
            done(storage::errc::queue_full, {});
            return;
        }
        // As the writer does: the job under a savepoint of its own, rolled back if it throws.
        db_.exec("SAVEPOINT fake_job");
        try {
            work(db_);
        } catch (const std::exception& e) {
            db_.exec("ROLLBACK TO fake_job; RELEASE fake_job");
            done(storage::errc::job_failed, e.what());
            return;
        }
        db_.exec("RELEASE fake_job");
        done({}, {});
    }
    std::int64_t now_ms() override { return now_ms_; }
    arc::daemon::alarm_service& alarms() override { return alarms_; }
    // Inline, as if the worker thread had run at once.
    bool run_blocking(blocking_work work, std::function<void()> done) override {
        if (blocking_busy) {
            return false;
        }
        const std::atomic<bool> cancelled{false};
        work(cancelled);
        done();
        return true;
    }
    std::filesystem::path database_path() override { return db_path; }

    std::int64_t now_ms_ = 1722334218123;
    storage::database db_ = storage::database::open(":memory:");
    device_registry registry_;
    bool refuse_jobs = false;
    bool blocking_busy = false;                    // run_blocking refuses, as while a backup runs
    std::filesystem::path db_path;                 // what a backup copies (db_ is in memory)
    std::optional<arc::engine::time_point> armed;  // the engine timer as the service armed it
    arc::daemon::alarm_service alarms_{
        arc::engine::engine_config{},
        arc::config::load_event_codes(ARC_SOURCE_DIR "/config/event-codes.toml"),
        arc::daemon::alarm_service_hooks{
            [this](storage::writer::job work, storage::writer::job_done done) {
                run_job(std::move(work), std::move(done));
            },
            [this](std::optional<arc::engine::time_point> deadline) { armed = deadline; },
            [](std::chrono::milliseconds, std::function<void()>) {}}};
};

// A frame from a device as arcd handles it: decided, stored, then fed to the alarm engine.
inline json receive(fake_backend& backend, const std::string& account, const std::string& seq,
                    const std::string& data, const std::string& token = "SIA-DCS") {
    arc::protocol::dc09_message_spec spec;
    spec.token = token;
    spec.seq = seq;
    spec.acct = account;
    spec.data = data;
    const std::string raw = arc::protocol::encode_dc09(spec);
    const arc::protocol::receiver_policy policy;
    arc::protocol::receive_context ctx;
    ctx.now_unix = backend.now_ms_ / 1000;
    ctx.policy = &policy;
    ctx.lookup = [](std::string_view) { return arc::protocol::account_info{}; };
    const arc::protocol::dc09_result result = arc::protocol::handle_dc09_frame(raw, ctx);
    storage::event_record rec;
    rec.received_ms = backend.now_ms_;
    rec.transport = "tcp";
    rec.peer = "127.0.0.1:1";
    rec.raw = raw;
    rec.account = account;
    rec.decoded_json = "{}";
    rec.reply_kind = "ACK";
    rec.accepted = result.accepted;
    const std::int64_t id = storage::insert_event(backend.db_, rec);
    std::vector<arc::engine::event> events;
    backend.alarms_.normalise(result, backend.now_ms_, events);
    const auto lane = arc::daemon::alarm_service::lane_of(events);
    backend.alarms_.ingest(id, events, arc::engine::from_ms(backend.now_ms_));
    return json{{"events", events.size()},
                {"lane", lane == storage::lane::alarm ? "alarm" : "routine"}};
}

}  // namespace arc_test
