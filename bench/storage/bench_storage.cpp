// bench_storage: N producer threads submit realistic DC-09 events to one writer on a temp-dir
// database (WAL, synchronous=FULL) and the figures are printed: events/s, batches, batch
// sizes, submit-to-completion latency. Bounded in time; not a test (machines are noisy).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include "arc/storage/store.hpp"

namespace {

using clock_type = std::chrono::steady_clock;
using arc::storage::event_record;
using arc::storage::writer;

constexpr std::size_t total_events = 200000;
constexpr int accounts = 1000;
// A run that cannot finish in this time stops producing and reports what it did.
constexpr auto run_limit = std::chrono::seconds(60);

std::string account_of(std::size_t n) {
    return fmt::format("{:04X}", static_cast<unsigned>(n % accounts) + 0x1000U);
}

// ~80-byte frame and ~300-byte decoding, as the DC-09 receiver records them.
event_record make_event(std::size_t n) {
    event_record ev;
    const std::string account = account_of(n);
    ev.received_ms = 1764000000000 + static_cast<std::int64_t>(n);
    ev.transport = "tcp";
    ev.peer = "192.168.10.23:50412";
    ev.raw =
        fmt::format("\n5A3F0052\"SIA-DCS\"{:04}L0#{}[#{}|Nri1/MA01^CADUTA^]_14:12:03,11-25-2026\r",
                    n % 10000, account, account);
    ev.account = account;
    ev.token = "SIA-DCS";
    ev.seq = fmt::format("{:04}", n % 10000);
    ev.decoded_json = fmt::format(
        R"({{"token":"SIA-DCS","encrypted":false,"seq":"{:04}","rcvr":"","pref":"L0",)"
        R"("acct":"{}","data":"#{}|Nri1/MA01","xdata":[],"timestamp":"2026-11-25T14:12:03Z",)"
        R"("skew_s":0,"outside_window":false,"sia":{{"account":"{}","events":[{{"function":"N",)"
        R"("code":"MA","address":"01","modifiers":{{"ri":"1"}},"text":"","known":true,)"
        R"("meaning":"Medical Alarm"}}],"text":""}}}})",
        n % 10000, account, account, account);
    ev.reply_kind = "ACK";
    ev.reply =
        fmt::format("\n8E1B0034\"ACK\"{:04}L0#{}[]_14:12:03,11-25-2026\r", n % 10000, account);
    ev.accepted = true;
    return ev;
}

struct run_result {
    double seconds = 0;
    std::size_t completed = 0;
    std::size_t failed = 0;
    std::size_t queue_full_retries = 0;
    writer::stats stats;
    double p50_ms = 0;
    double p99_ms = 0;
    double max_ms = 0;
    std::size_t raw_bytes = 0;
    std::size_t json_bytes = 0;
};

// rate == 0: producers submit as fast as they can (throughput; latency is then queueing).
// rate > 0: events are offered at that aggregate rate (latency at the daemon's target load).
run_result run(const std::filesystem::path& path, int producers, double rate) {
    run_result result;
    std::vector<clock_type::time_point> submitted(total_events);
    std::vector<double> latency_ms(total_events, -1);
    std::atomic<std::size_t> completed{0};
    std::atomic<std::size_t> failed{0};
    std::atomic<std::size_t> retries{0};
    {
        writer w(path, {});
        // Registered devices, so the last_seen UPDATEs find their rows as in production.
        w.submit(
            [](arc::storage::database& db) {
                for (int i = 0; i < accounts; ++i) {
                    arc::storage::device dev;
                    dev.account = account_of(static_cast<std::size_t>(i));
                    dev.label = "bench";
                    arc::storage::insert_device(db, dev);
                }
            },
            nullptr);
        const auto make = make_event(0);
        result.raw_bytes = make.raw.size();
        result.json_bytes = make.decoded_json.size();

        const auto start = clock_type::now();
        const auto deadline = start + run_limit;
        std::vector<std::thread> threads;
        for (int t = 0; t < producers; ++t) {
            threads.emplace_back([&, t] {
                for (std::size_t n = static_cast<std::size_t>(t); n < total_events;
                     n += static_cast<std::size_t>(producers)) {
                    event_record ev = make_event(n);
                    if (rate > 0) {
                        std::this_thread::sleep_until(
                            start +
                            std::chrono::duration_cast<clock_type::duration>(
                                std::chrono::duration<double>(static_cast<double>(n) / rate)));
                    }
                    for (;;) {
                        submitted[n] = clock_type::now();
                        // Captures 16 bytes: std::function keeps them inline, no allocation.
                        auto* slots = latency_ms.data();
                        const bool queued =
                            w.submit(std::move(ev), [slots, n, &submitted, &completed, &failed](
                                                        std::error_code ec, std::int64_t) {
                                if (ec) {
                                    ++failed;
                                    return;
                                }
                                slots[n] = std::chrono::duration<double, std::milli>(
                                               clock_type::now() - submitted[n])
                                               .count();
                                ++completed;
                            });
                        if (queued) {
                            break;
                        }
                        // Refused: the record was moved into the refused item; rebuild it.
                        ++retries;
                        ev = make_event(n);
                        std::this_thread::sleep_for(std::chrono::microseconds(100));
                        if (clock_type::now() > deadline) {
                            return;
                        }
                    }
                    if (clock_type::now() > deadline) {
                        return;
                    }
                }
            });
        }
        for (auto& t : threads) {
            t.join();
        }
        w.stop();
        result.seconds = std::chrono::duration<double>(clock_type::now() - start).count();
        result.stats = w.snapshot();
    }
    result.completed = completed.load();
    result.failed = failed.load();
    result.queue_full_retries = retries.load();
    std::vector<double> done;
    done.reserve(result.completed);
    for (const double ms : latency_ms) {
        if (ms >= 0) {
            done.push_back(ms);
        }
    }
    std::sort(done.begin(), done.end());
    if (!done.empty()) {
        result.p50_ms = done[done.size() / 2];
        result.p99_ms = done[std::min(done.size() - 1, done.size() * 99 / 100)];
        result.max_ms = done.back();
    }
    return result;
}

double cpu_seconds() {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval& tv) {
        return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
    };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// The writer alone: the events wait behind a job until all are queued, then the writer drains
// them. Process CPU per event over the drain is the writer's (and checkpointer's) cost, which
// a loaded machine distorts less than wall time.
void run_drain(const std::filesystem::path& path, bool checkpoint_thread) {
    std::atomic<std::size_t> completed{0};
    std::vector<event_record> events;
    events.reserve(total_events);
    for (std::size_t n = 0; n < total_events; ++n) {
        events.push_back(make_event(n));
    }
    writer w(path, {.queue_limit = total_events + 1,
                    .max_batch = 8192,
                    .checkpoint_thread = checkpoint_thread});
    std::atomic<bool> release{false};
    w.submit(
        [&](arc::storage::database&) {
            while (!release.load()) {
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            }
        },
        nullptr);
    for (auto& ev : events) {
        w.submit(std::move(ev), [&completed](std::error_code ec, std::int64_t) {
            if (!ec) {
                ++completed;
            }
        });
    }
    const double cpu_start = cpu_seconds();
    const auto start = clock_type::now();
    release = true;
    w.stop();
    const double wall = std::chrono::duration<double>(clock_type::now() - start).count();
    const double cpu = cpu_seconds() - cpu_start;
    const auto s = w.snapshot();
    fmt::print(
        "drain ({}): {} events in {:.2f}s = {:.0f} events/s; CPU {:.2f}s = {:.1f} us/event; "
        "batches={} max_batch={}\n",
        checkpoint_thread ? "checkpoint thread" : "autocheckpoint", completed.load(), wall,
        static_cast<double>(completed.load()) / wall, cpu,
        cpu * 1e6 / static_cast<double>(std::max<std::size_t>(completed.load(), 1)), s.batches,
        s.max_batch);
}

}  // namespace

int main() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "bench-storage-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        fmt::print(stderr, "bench_storage: mkdtemp failed\n");
        return 1;
    }
    const std::filesystem::path dir = pattern;
    fmt::print("bench_storage: {} events per run, SQLite WAL synchronous=FULL, dir {}\n",
               total_events, dir.string());
    int status = 0;
    struct config {
        int producers;
        double rate;
    };
    for (const config c : {config{1, 0}, config{4, 0}, config{1, 50000}, config{4, 50000}}) {
        const int producers = c.producers;
        const auto path = dir / fmt::format("bench-{}-{}.db", producers, c.rate);
        try {
            const run_result r = run(path, producers, c.rate);
            const double events = static_cast<double>(r.stats.events);
            const double batches = static_cast<double>(std::max<std::uint64_t>(r.stats.batches, 1));
            fmt::print(
                "producers={} offered={} events={} ({} B raw, {} B json) time={:.2f}s  "
                "{:.0f} events/s\n"
                "  batches={} mean_batch={:.1f} max_batch={} failed_batches={} "
                "queue_full_retries={}\n"
                "  submit->completion latency ms: p50={:.2f} p99={:.2f} max={:.2f}  "
                "last_commit_ms={:.2f}\n",
                producers, c.rate > 0 ? fmt::format("{:.0f}/s", c.rate) : "max", r.completed,
                r.raw_bytes, r.json_bytes, r.seconds, static_cast<double>(r.completed) / r.seconds,
                r.stats.batches, events / batches, r.stats.max_batch, r.stats.failed_batches,
                r.queue_full_retries, r.p50_ms, r.p99_ms, r.max_ms, r.stats.last_commit_ms);
            if (r.failed != 0 || r.completed != total_events) {
                fmt::print("  WARNING: {} failed, {} of {} completed\n", r.failed, r.completed,
                           total_events);
            }
        } catch (const std::exception& e) {
            fmt::print(stderr, "bench_storage: {}\n", e.what());
            status = 1;
        }
    }
    try {
        run_drain(dir / "bench-drain-1.db", true);
        run_drain(dir / "bench-drain-0.db", false);
    } catch (const std::exception& e) {
        fmt::print(stderr, "bench_storage: {}\n", e.what());
        status = 1;
    }
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    return status;
}
