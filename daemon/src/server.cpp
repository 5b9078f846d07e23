#include "server.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "admin_api.hpp"
#include "alarm_service.hpp"
#include "logging.hpp"
#include "metrics.hpp"
#include "metrics_http.hpp"
#include "registry.hpp"
#include "retention_service.hpp"
#include "scaip_receiver.hpp"
#include "serial_receiver.hpp"
#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl.hpp>
#include <fmt/format.h>
#include <sodium.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include "arc/api/json.hpp"
#include "arc/protocol/dc09.hpp"
#include "arc/protocol/error.hpp"

#ifndef ARC_VERSION
#define ARC_VERSION "0.0.0"
#endif

namespace arc::daemon {

namespace net = boost::asio;
namespace protocol = arc::protocol;
namespace storage = arc::storage;
using tcp = net::ip::tcp;
using udp = net::ip::udp;
using unix_stream = net::local::stream_protocol;
// Admin and operator API sessions share one socket type (Unix or TCP, no TLS).
using api_stream = net::generic::stream_protocol;
using steady = std::chrono::steady_clock;
using namespace net::experimental::awaitable_operators;

namespace {

constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);
constexpr std::size_t api_max_line = 64 * 1024;
constexpr std::chrono::minutes api_idle_timeout{10};
// A subscriber this far behind is told so and disconnected (docs/admin-api.md).
constexpr std::size_t api_max_pending_lines = 10000;
constexpr std::size_t api_max_pending_bytes = 8 * 1024 * 1024;
constexpr std::size_t tcp_read_chunk = 4096;
constexpr std::size_t udp_max_datagram = 65536;
constexpr std::size_t decoded_json_reserve = 512;
// Connections taken per wake-up of the accept loop before it queues behind the sessions again:
// a burst of connects is served at once, yet a connect flood cannot starve established sessions.
constexpr std::size_t accept_burst = 1024;

std::int64_t unix_ms_now() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Floor to seconds, so that the receiver's "now" is never in the future.
std::int64_t ms_to_unix(std::int64_t ms) { return ms >= 0 ? ms / 1000 : (ms - 999) / 1000; }

template <class Endpoint>
std::string format_peer(const Endpoint& ep) {
    const auto addr = ep.address();
    if (addr.is_v6()) {
        return fmt::format("[{}]:{}", addr.to_string(), ep.port());
    }
    return fmt::format("{}:{}", addr.to_string(), ep.port());
}

// At most one warning per second per kind; the rest are counted and reported with the next.
class rate_limited_log {
public:
    template <class... Args>
    void warn(fmt::format_string<Args...> format, Args&&... args) {
        const auto now = steady::now();
        if (now - last_ < std::chrono::seconds(1)) {
            ++suppressed_;
            return;
        }
        last_ = now;
        const std::string msg = fmt::format(format, std::forward<Args>(args)...);
        if (suppressed_ > 0) {
            spdlog::warn("{} ({} similar suppressed)", msg, suppressed_);
        } else {
            spdlog::warn("{}", msg);
        }
        suppressed_ = 0;
    }

private:
    steady::time_point last_{};
    std::uint64_t suppressed_ = 0;
};

// Memory for one pending operation of a session at a time, handed out through the handler's
// associated allocator (Asio's "custom allocation" example). Asio recycles only a couple of
// operation blocks per thread, so with a thousand connections each waiting on a read and then
// on a commit, nearly every operation was a malloc/free pair; a session has at most one read or
// one store pending, and a larger or overlapping request falls back to the heap.
class handler_memory {
public:
    handler_memory() = default;
    handler_memory(const handler_memory&) = delete;
    handler_memory& operator=(const handler_memory&) = delete;

    void* allocate(std::size_t size) {
        if (!in_use_ && size <= storage_.size()) {
            in_use_ = true;
            return storage_.data();
        }
        return ::operator new(size);
    }
    void deallocate(void* pointer) noexcept {
        if (pointer == storage_.data()) {
            in_use_ = false;
        } else {
            ::operator delete(pointer);
        }
    }

private:
    alignas(std::max_align_t) std::array<unsigned char, 256> storage_{};
    bool in_use_ = false;
};

template <class T>
class handler_allocator {
public:
    using value_type = T;
    explicit handler_allocator(handler_memory& memory) noexcept : memory_(&memory) {}
    template <class U>
    handler_allocator(const handler_allocator<U>& other) noexcept  // NOLINT: rebinding
        : memory_(other.memory_) {}
    T* allocate(std::size_t n) { return static_cast<T*>(memory_->allocate(sizeof(T) * n)); }
    void deallocate(T* pointer, std::size_t /*n*/) noexcept { memory_->deallocate(pointer); }
    template <class U>
    bool operator==(const handler_allocator<U>& other) const noexcept {
        return memory_ == other.memory_;
    }

private:
    template <class>
    friend class handler_allocator;
    handler_memory* memory_;
};

// A frame waiting for its commit. The writer's completion (on the writer thread) captures only
// this pointer, so std::function keeps it inline: one allocation per frame for the whole
// round trip instead of a shared handler plus two type-erased closures.
class store_waiter {
public:
    store_waiter(const store_waiter&) = delete;
    store_waiter& operator=(const store_waiter&) = delete;
    /// Called on the io thread once; resumes the waiting frame and frees the waiter.
    virtual void complete(std::error_code ec, std::int64_t id) = 0;
    /// Frees the waiter without resuming it (its result can no longer be delivered).
    virtual void discard() noexcept = 0;

protected:
    store_waiter() = default;
    ~store_waiter() = default;
};

// Commit results handed from the writer thread to the io thread: one post per burst of
// completions (a committed batch) instead of one per event, which saves a scheduler lock, an
// allocation and often a reactor wake-up per frame.
class completion_queue {
public:
    explicit completion_queue(net::any_io_executor ex) : ex_(std::move(ex)) {}
    completion_queue(const completion_queue&) = delete;
    completion_queue& operator=(const completion_queue&) = delete;
    // Results never drained (the io_context went away first) still own their frames.
    ~completion_queue() {
        for (const item& it : items_) {
            it.waiter->discard();
        }
    }

    /// Called on the writer thread.
    void push(const std::shared_ptr<completion_queue>& self, store_waiter* waiter,
              std::error_code ec, std::int64_t id, storage::event_record&& rec) {
        bool was_empty = false;
        {
            const std::lock_guard lock(mutex_);
            was_empty = items_.empty();
            items_.emplace_back(waiter, ec, id, std::move(rec));
        }
        if (was_empty) {
            net::post(ex_, [self]() { self->drain(); });
        }
    }

    /// An empty record for the next frame (io thread), with the buffers of a committed one when
    /// there is one: the writer thread then neither frees what the io thread allocated (glibc
    /// takes the io thread's arena lock for that) nor does the io thread allocate anew.
    storage::event_record take_record() {
        if (spare_.empty()) {
            return {};
        }
        storage::event_record rec = std::move(spare_.back());
        spare_.pop_back();
        return rec;
    }

private:
    struct item {
        item(store_waiter* w, std::error_code e, std::int64_t i, storage::event_record&& r)
            : waiter(w), ec(e), id(i), rec(std::move(r)) {}

        store_waiter* waiter;
        std::error_code ec;
        std::int64_t id;
        storage::event_record rec;
    };

    void drain() {
        {
            const std::lock_guard lock(mutex_);
            ready_.swap(items_);
        }
        for (item& it : ready_) {
            it.waiter->complete(it.ec, it.id);
            recycle(std::move(it.rec));
        }
        ready_.clear();
    }

    void recycle(storage::event_record&& rec) {
        if (spare_.size() >= max_spare_records || rec.raw.capacity() > max_spare_capacity ||
            rec.decoded_json.capacity() > max_spare_capacity) {
            return;  // enough kept, or kept memory would be out of proportion
        }
        rec.id = 0;
        rec.received_ms = 0;
        rec.transport.clear();
        rec.peer.clear();
        rec.raw.clear();
        rec.protocol = "dc09";
        rec.account.clear();
        rec.token.clear();
        rec.seq.clear();
        rec.decoded_json.clear();
        rec.reply_kind.clear();
        rec.reply.clear();
        rec.error.clear();
        rec.accepted = false;
        spare_.push_back(std::move(rec));
    }

    // A committed batch's worth of records at 1000 connections and more, a few hundred KiB.
    static constexpr std::size_t max_spare_records = 2048;
    static constexpr std::size_t max_spare_capacity = 4096;

    net::any_io_executor ex_;
    std::mutex mutex_;
    std::vector<item> items_;
    std::vector<item> ready_;                   // touched by the io thread only
    std::vector<storage::event_record> spare_;  // touched by the io thread only
};

// The handler of one async_store; the tracked executor keeps io.run() alive meanwhile.
template <class Handler>
class store_op final : public store_waiter {
public:
    store_op(Handler handler, std::shared_ptr<completion_queue> queue)
        : handler_(std::move(handler)),
          work_(net::prefer(net::get_associated_executor(handler_),
                            net::execution::outstanding_work.tracked)),
          queue_(std::move(queue)) {}

    /// The writer's completion for this frame (writer thread).
    storage::writer::event_return done() {
        return [this](std::error_code ec, std::int64_t id, storage::event_record&& rec) {
            // The queue now owns this waiter; dropping the reference avoids a cycle with it.
            const std::shared_ptr<completion_queue> queue = std::move(queue_);
            queue->push(queue, this, ec, id, std::move(rec));
        };
    }

    /// A new operation in the memory the handler is associated with (see handler_memory).
    static store_op* create(Handler handler, std::shared_ptr<completion_queue> queue) {
        allocator_type alloc(net::get_associated_allocator(handler));
        store_op* op = std::allocator_traits<allocator_type>::allocate(alloc, 1);
        try {
            return ::new (static_cast<void*>(op)) store_op(std::move(handler), std::move(queue));
        } catch (...) {
            std::allocator_traits<allocator_type>::deallocate(alloc, op, 1);
            throw;
        }
    }

    void complete(std::error_code ec, std::int64_t id) override {
        // Free the operation before resuming the coroutine, as Asio's own operations do.
        Handler handler(std::move(handler_));
        const net::any_io_executor work(std::move(work_));
        destroy();
        std::move(handler)(ec, id);
    }

    void discard() noexcept override { destroy(); }

    /// Refused by the writer: completes through the executor, never inline.
    void refuse() {
        const net::any_io_executor ex = work_;
        net::post(ex, [op = owned(this)]() mutable {
            op.release()->complete(make_error_code(storage::errc::queue_full), 0);
        });
    }

private:
    struct discarder {
        void operator()(store_op* op) const noexcept { op->discard(); }
    };
    using owned = std::unique_ptr<store_op, discarder>;

    ~store_op() = default;

    using allocator_type = typename std::allocator_traits<
        net::associated_allocator_t<Handler>>::template rebind_alloc<store_op>;

    void destroy() noexcept {
        allocator_type alloc(net::get_associated_allocator(handler_));
        this->~store_op();
        std::allocator_traits<allocator_type>::deallocate(alloc, this, 1);
    }

    Handler handler_;
    net::any_io_executor work_;
    std::shared_ptr<completion_queue> queue_;
};

// Submits an event to the writer and completes on the caller's executor once it is committed
// (or refused: errc::queue_full). The writer calls completions on its own thread, so the result
// goes back through the completion queue. `record` is moved from during the call, which keeps
// it out of the operation's coroutine frame.
template <class Token>
auto async_store(storage::writer& writer, const std::shared_ptr<completion_queue>& queue,
                 storage::event_record& record, storage::lane lane, Token&& token) {
    return net::async_initiate<Token, void(std::error_code, std::int64_t)>(
        [&writer, &queue, &record, lane](auto handler) {
            using op_type = store_op<std::decay_t<decltype(handler)>>;
            op_type* op = op_type::create(std::move(handler), queue);  // freed by complete()
            if (!writer.submit_and_return(std::move(record), op->done(), lane)) {
                op->refuse();
            }
        },
        token);
}

// Runs one admin request; completes with the response (posted, never inline).
template <class Token>
auto async_admin(admin_backend& backend, std::string line, admin_session* session, Token&& token) {
    return net::async_initiate<Token, void(nlohmann::json)>(
        [&backend, session](auto handler, std::string request) {
            auto ex = net::prefer(net::get_associated_executor(handler),
                                  net::execution::outstanding_work.tracked);
            using handler_type = std::decay_t<decltype(handler)>;
            auto shared = std::make_shared<handler_type>(std::move(handler));
            handle_admin_line(
                request, backend,
                [shared, ex](nlohmann::json response) {
                    net::post(ex, [shared, r = std::move(response)]() mutable {
                        std::move (*shared)(std::move(r));
                    });
                },
                session);
        },
        token, std::move(line));
}

// What a connection is doing, for its watchdog.
enum class phase { reading, storing, writing };

}  // namespace

struct server::impl final : admin_backend {
    struct tcp_session {
        tcp::socket socket;
        std::string peer;
        std::string address;
        steady::time_point deadline{};
        phase state = phase::reading;
        bool idle_closed = false;
        handler_memory op_memory;  // the pending read or store (one at a time)
    };
    // An admin client. Responses and subscription pushes share one outgoing queue, written by
    // the session's writer; the reader handles one request at a time.
    struct api_session final : admin_session {
        api_session(impl& owner_, api_stream::socket s)
            : owner(owner_), socket(std::move(s)), wake(socket.get_executor()) {}

        nlohmann::json subscribe(std::size_t limit) override {
            if (subscription) {
                owner.alarms_.unsubscribe(*subscription);
            }
            auto [token, result] = owner.alarms_.subscribe(
                [this](const std::shared_ptr<const std::string>& line) { return push(line); },
                limit);
            subscription = token;
            return std::move(result);
        }

        bool subscribe_missions(const std::string& team) override {
            if (subscription) {
                owner.alarms_.unsubscribe(*subscription);
            }
            subscription = owner.alarms_.subscribe_team(
                team,
                [this](const std::shared_ptr<const std::string>& line) { return push(line); });
            return true;
        }

        // A push line; false (and the session ends) when the client is too far behind.
        bool push(const std::shared_ptr<const std::string>& line) {
            if (closing) {
                return false;
            }
            if (out.size() >= api_max_pending_lines || out_bytes >= api_max_pending_bytes) {
                owner.api_log_.warn("api: subscriber {} lines behind, disconnected", out.size());
                enqueue(std::make_shared<const std::string>("{\"push\":\"overflow\"}\n"));
                closing = true;
                subscription.reset();
                return false;
            }
            enqueue(line);
            return true;
        }

        void enqueue(std::shared_ptr<const std::string> line) {
            out_bytes += line->size();
            out.push_back(std::move(line));
            wake.cancel();
        }

        // The socket, under TLS or not.
        api_stream::socket& raw() { return tls ? tls->next_layer() : socket; }

        impl& owner;
        api_stream::socket socket;  // moved into `tls` when the session speaks TLS
        std::unique_ptr<net::ssl::stream<api_stream::socket>> tls;
        net::steady_timer wake;  // the writer sleeps on it; cancel() wakes it
        std::deque<std::shared_ptr<const std::string>> out;
        std::size_t out_bytes = 0;
        std::optional<std::uint64_t> subscription;
        bool busy = false;     // a request is being handled
        bool writing = false;  // a write is in progress since write_started
        bool closing = false;  // send what is queued, then close
        steady::time_point write_started{};
        steady::time_point last_request{};
    };

    impl(net::io_context& io, const config::daemon_config& cfg, storage::writer& writer,
         server_options opts)
        : io_(io),
          cfg_(cfg),
          writer_(writer),
          completions_(std::make_shared<completion_queue>(io.get_executor())),
          opts_(std::move(opts)),
          read_db_(storage::database::open(cfg.storage_path)),
          tcp_acceptor_(io),
          udp_socket_(io),
          api_acceptor_(io),
          operator_acceptor_(io),
          signals_(io),
          alarm_timer_(io),
          alarms_(to_engine_config(cfg), std::move(opts_.event_codes), alarm_hooks()),
          receivers_(io, cfg_, receiver_hooks_for()),
          scaip_(io, cfg_, scaip_hooks_for()),
          metrics_(io, [this] { return render_metrics_now(); }),
          started_ms_(unix_ms_now()),
          started_(steady::now()) {
        registry_.load(storage::list_devices(read_db_));
        alarms_.rebuild(read_db_, std::chrono::system_clock::now());
        policy_.ack_unknown_account = cfg.dc09.ack_unknown_account;
        policy_.accept_clear_text = cfg.dc09.accept_clear_text;
        policy_.ack_unknown_code = cfg.dc09.ack_unknown_code;
        policy_.window_for_clear_text = cfg.dc09.window_for_clear_text;
        policy_.window_past_s = cfg.dc09.window_past_s;
        policy_.window_future_s = cfg.dc09.window_future_s;
        ctx_.policy = &policy_;
        ctx_.lookup = [this](std::string_view acct) { return registry_.lookup(acct); };
        ctx_.random = [](std::span<std::uint8_t> out) { randombytes_buf(out.data(), out.size()); };
        spdlog::info("device registry: {} devices", registry_.size());
    }

    // ---- admin_backend -------------------------------------------------------------------
    std::vector<std::string> outcomes() override { return cfg_.outcomes; }

    std::vector<std::string> online_operators() override {
        std::vector<std::string> out;
        for (const api_session* c : api_sessions_) {
            if (c->who) {
                out.push_back(c->who->username);
            }
        }
        return out;
    }

    bool run_auth(std::function<void()> work, std::function<void()> done) override {
        constexpr std::size_t max_auth_pending = 8;
        if (stopping_ || auth_pending_ >= max_auth_pending) {
            return false;
        }
        ++auth_pending_;
        net::post(auth_pool_, [this, work = std::move(work), done = std::move(done)]() mutable {
            work();
            net::post(io_, [this, done = std::move(done)] {
                --auth_pending_;
                done();
            });
        });
        return true;
    }

    nlohmann::json status() override {
        nlohmann::json listeners = nlohmann::json::array();
        if (tcp_acceptor_.is_open()) {
            const auto ep = tcp_acceptor_.local_endpoint();
            listeners.push_back(
                {{"name", "dc09_tcp"}, {"address", ep.address().to_string()}, {"port", ep.port()}});
        }
        if (udp_socket_.is_open()) {
            const auto ep = udp_socket_.local_endpoint();
            listeners.push_back(
                {{"name", "dc09_udp"}, {"address", ep.address().to_string()}, {"port", ep.port()}});
        }
        if (api_acceptor_.is_open()) {
            listeners.push_back({{"name", "api"}, {"path", cfg_.api_socket.string()}});
        }
        if (operator_acceptor_.is_open()) {
            const auto ep = operator_acceptor_.local_endpoint();
            listeners.push_back({{"name", "operator"},
                                 {"address", ep.address().to_string()},
                                 {"port", ep.port()},
                                 {"tls", tls_ctx_.has_value()}});
        }
        if (receivers_.tcp_port() != 0) {
            listeners.push_back({{"name", "receiver_tcp"},
                                 {"address", cfg_.receiver_tcp.host},
                                 {"port", receivers_.tcp_port()}});
        }
        if (scaip_.udp_port() != 0) {
            listeners.push_back({{"name", "scaip_udp"},
                                 {"address", cfg_.scaip_udp.host},
                                 {"port", scaip_.udp_port()}});
        }
        if (scaip_.tcp_port() != 0) {
            listeners.push_back({{"name", "scaip_tcp"},
                                 {"address", cfg_.scaip_tcp.host},
                                 {"port", scaip_.tcp_port()}});
        }
        if (metrics_.is_open()) {
            listeners.push_back(
                {{"name", "metrics"}, {"address", cfg_.metrics.host}, {"port", metrics_.port()}});
        }
        const auto s = writer_.snapshot();
        const double mean_batch = s.batches == 0 ? 0.0
                                                 : static_cast<double>(s.events + s.jobs) /
                                                       static_cast<double>(s.batches);
        return nlohmann::json{
            {"version", ARC_VERSION},
            {"started", arc::api::iso8601_utc(started_ms_)},
            {"uptime_s",
             std::chrono::duration_cast<std::chrono::seconds>(steady::now() - started_).count()},
            {"listeners", std::move(listeners)},
            {"counters", to_json(counters_)},
            {"alarms", alarms_.stats()},
            {"receivers", receivers_.status()},
            {"scaip", scaip_.status()},
            {"retention", retention_.status()},
            {"storage",
             {{"batches", s.batches},
              {"events", s.events},
              {"jobs", s.jobs},
              {"failed_batches", s.failed_batches},
              {"max_batch", s.max_batch},
              {"queued", s.queued},
              {"last_commit_ms", s.last_commit_ms},
              {"mean_batch", mean_batch}}}};
    }

    std::string render_metrics_now() {
        return render_metrics(status(), store_latency_, alarms_.alarm_engine().open_alarms(),
                              std::chrono::system_clock::now());
    }

    storage::database& read_db() override { return read_db_; }
    retention_service* retention() override { return &retention_; }
    device_registry& registry() override { return registry_; }
    alarm_service& alarms() override { return alarms_; }
    std::int64_t now_ms() override { return unix_ms_now(); }

    void run_job(storage::writer::job work, storage::writer::job_done done) override {
        auto ex = net::prefer(io_.get_executor(), net::execution::outstanding_work.tracked);
        auto shared = std::make_shared<storage::writer::job_done>(std::move(done));
        const bool queued =
            writer_.submit(std::move(work), [shared, ex](std::error_code ec, std::string message) {
                net::post(ex, [shared, ec, m = std::move(message)]() { (*shared)(ec, m); });
            });
        if (!queued) {
            net::post(ex, [shared]() { (*shared)(storage::errc::queue_full, {}); });
        }
    }

    // A backup runs on a thread of its own: it reads the whole database, which must not hold
    // up the io thread's frames and replies. One at a time; joined before the next and at exit.
    bool run_blocking(blocking_work work, std::function<void()> done) override {
        if (blocking_busy_) {
            return false;
        }
        if (blocking_thread_.joinable()) {
            blocking_thread_.join();
        }
        blocking_busy_ = true;
        blocking_cancel_.store(false);
        auto ex = net::prefer(io_.get_executor(), net::execution::outstanding_work.tracked);
        blocking_thread_ =
            std::thread([this, ex, work = std::move(work), done = std::move(done)]() mutable {
                work(blocking_cancel_);
                net::post(ex, [this, done = std::move(done)]() {
                    blocking_busy_ = false;
                    done();
                });
            });
        return true;
    }

    std::filesystem::path database_path() override { return cfg_.storage_path; }

    ~impl() override {
        auth_pool_.join();
        blocking_cancel_.store(true);
        if (blocking_thread_.joinable()) {
            blocking_thread_.join();
        }
    }
    impl(const impl&) = delete;
    impl& operator=(const impl&) = delete;

    // ---- alarm engine --------------------------------------------------------------------
    alarm_service_hooks alarm_hooks() {
        alarm_service_hooks hooks;
        hooks.run_job = [this](storage::writer::job work, storage::writer::job_done done) {
            run_job(std::move(work), std::move(done));
        };
        hooks.arm_timer = [this](std::optional<engine::time_point> deadline) {
            arm_alarm_timer(deadline);
        };
        hooks.call_later = [this](std::chrono::milliseconds delay, std::function<void()> fn) {
            auto timer = std::make_shared<net::steady_timer>(io_, delay);
            timer->async_wait([timer, fn = std::move(fn)](const boost::system::error_code& ec) {
                if (!ec) {
                    fn();
                }
            });
        };
        return hooks;
    }

    // A stored serial receiver line parsed again, for the engine's replay at start.
    static std::optional<protocol::receiver_result> redecode_receiver_line(
        const storage::event_record& rec) {
        protocol::receiver_format format = protocol::receiver_format::surgard;
        if (rec.protocol == "ademco685") {
            format = protocol::receiver_format::ademco685;
        } else if (rec.protocol != "surgard") {
            return std::nullopt;
        }
        protocol::receiver_framer framer;
        framer.feed(rec.raw);
        auto frame = framer.next();
        if (!frame) {
            return std::nullopt;  // the silence events of serial_receiver.cpp have no line
        }
        return protocol::handle_receiver_frame(*frame, format);
    }

    // Serial and TCP alarm receivers (serial_receiver.cpp): lines go through the same writer and
    // engine as DC-09 frames, counted in in_flight_ so that shutdown waits for their commit.
    receiver_hooks receiver_hooks_for() {
        receiver_hooks hooks;
        hooks.store = [this](storage::event_record rec, storage::lane lane,
                             receiver_hooks::stored done) {
            ++in_flight_;
            auto ex = net::prefer(io_.get_executor(), net::execution::outstanding_work.tracked);
            auto shared = std::make_shared<receiver_hooks::stored>(std::move(done));
            const bool queued = writer_.submit(
                std::move(rec),
                [this, shared, ex](std::error_code ec, std::int64_t id) {
                    net::post(ex, [this, shared, ec, id]() {
                        --in_flight_;
                        (*shared)(ec, id);
                    });
                },
                lane);
            if (!queued) {
                net::post(ex, [this, shared]() {
                    --in_flight_;
                    (*shared)(storage::errc::queue_full, 0);
                });
            }
        };
        hooks.normalise = [this](const protocol::receiver_result& result, std::int64_t received_ms,
                                 std::vector<engine::event>& out) {
            alarms_.normalise(result, received_ms, out);
        };
        hooks.ingest = [this](std::int64_t id, std::vector<engine::event>& events) {
            alarms_.ingest(id, events, std::chrono::system_clock::now());
        };
        return hooks;
    }

    // SCAIP (scaip_receiver.cpp): the receivers' writer path and engine; the digest password
    // comes from the device's key in the registry.
    scaip_hooks scaip_hooks_for() {
        receiver_hooks common = receiver_hooks_for();
        scaip_hooks hooks;
        hooks.store = std::move(common.store);
        hooks.ingest = std::move(common.ingest);
        hooks.normalise = [this](const protocol::scaip_request& request, std::int64_t received_ms,
                                 std::vector<engine::event>& out) {
            alarms_.normalise(request, received_ms, out);
        };
        hooks.password = [this](std::string_view cid) -> std::optional<std::string> {
            const auto info = registry_.lookup(cid);
            if (!info || !info->key) {
                return std::nullopt;
            }
            return scaip_password_of_key(*info->key);
        };
        hooks.open_alarm = [this](std::string_view account, engine::event_kind kind) {
            return alarms_.alarm_engine().open_alarm_of(account, kind);
        };
        hooks.untaken = [this](engine::alarm_id id) {
            const engine::engine& e = alarms_.alarm_engine();
            const engine::alarm* a = e.find(id);
            if (a != nullptr && a->storm_id) {
                a = e.find(*a->storm_id);  // a storm member is handled through its storm
            }
            return a != nullptr && a->state == engine::alarm_state::new_alarm;
        };
        return hooks;
    }

    // Purge batches go on the writer's routine lane: alarm items always go first.
    retention_hooks retention_hooks_for() {
        retention_hooks hooks;
        hooks.run_job = [this](storage::writer::job work, storage::writer::job_done done) {
            auto ex = net::prefer(io_.get_executor(), net::execution::outstanding_work.tracked);
            auto shared = std::make_shared<storage::writer::job_done>(std::move(done));
            const bool queued = writer_.submit(
                std::move(work),
                [shared, ex](std::error_code ec, std::string message) {
                    net::post(ex, [shared, ec, m = std::move(message)]() { (*shared)(ec, m); });
                },
                storage::lane::routine);
            if (!queued) {
                net::post(ex, [shared]() { (*shared)(storage::errc::queue_full, {}); });
            }
        };
        hooks.arm = [this](std::chrono::milliseconds delay, std::function<void()> fn) {
            retention_timer_.expires_after(delay);
            retention_timer_.async_wait(
                [this, fn = std::move(fn)](const boost::system::error_code& ec) {
                    if (!ec && !stopping_) {
                        fn();
                    }
                });
        };
        hooks.now = [] { return std::chrono::system_clock::now(); };
        return hooks;
    }

    // One timer for the whole engine, on its next deadline (escalation, supervision, test end).
    void arm_alarm_timer(std::optional<engine::time_point> deadline) {
        if (stopping_) {
            deadline.reset();  // nothing may keep io.run() going once the writer is stopped
        }
        if (deadline == alarm_deadline_) {
            return;
        }
        alarm_deadline_ = deadline;
        const std::uint64_t generation = ++alarm_timer_generation_;
        if (!deadline) {
            alarm_timer_.cancel();
            return;
        }
        const auto delay = std::max(std::chrono::system_clock::duration::zero(),
                                    *deadline - std::chrono::system_clock::now());
        alarm_timer_.expires_after(std::chrono::duration_cast<steady::duration>(delay));
        alarm_timer_.async_wait([this, generation](const boost::system::error_code& ec) {
            if (ec || generation != alarm_timer_generation_ || stopping_) {
                return;  // re-armed or cancelled meanwhile
            }
            alarm_deadline_.reset();
            alarms_.on_timer(std::chrono::system_clock::now());
        });
    }

    // ---- start / stop --------------------------------------------------------------------
    void start() {
        alarms_.replay(
            read_db_,
            [this](const storage::event_record& rec) -> std::optional<protocol::dc09_result> {
                protocol::receive_context ctx = ctx_;
                ctx.now_unix = ms_to_unix(rec.received_ms);
                return protocol::handle_dc09_frame(rec.raw, ctx);
            },
            redecode_receiver_line, std::chrono::system_clock::now());
        if (cfg_.dc09_tcp.enabled) {
            const tcp::endpoint ep = resolve<tcp>(cfg_.dc09_tcp, "listen.dc09_tcp");
            try {
                tcp_acceptor_.open(ep.protocol());
                tcp_acceptor_.set_option(tcp::acceptor::reuse_address(true));
                tcp_acceptor_.bind(ep);
                tcp_acceptor_.listen(net::socket_base::max_listen_connections);
            } catch (const boost::system::system_error& e) {
                throw std::runtime_error(
                    fmt::format("listen.dc09_tcp {}: {}", format_peer(ep), e.code().message()));
            }
            spdlog::info("DC-09 TCP listening on {}", format_peer(tcp_acceptor_.local_endpoint()));
            spawn("tcp accept loop", accept_loop());
        }
        if (cfg_.dc09_udp.enabled) {
            const udp::endpoint ep = resolve<udp>(cfg_.dc09_udp, "listen.dc09_udp");
            try {
                udp_socket_.open(ep.protocol());
                udp_socket_.bind(ep);
            } catch (const boost::system::system_error& e) {
                throw std::runtime_error(
                    fmt::format("listen.dc09_udp {}: {}", format_peer(ep), e.code().message()));
            }
            spdlog::info("DC-09 UDP listening on {}", format_peer(udp_socket_.local_endpoint()));
            spawn("udp receive loop", udp_loop());
        }
        if (!cfg_.api_socket.empty()) {
            open_api_socket();
            spawn("api accept loop", api_accept_loop());
        }
        if (cfg_.operator_api.enabled && !cfg_.operator_tls_cert.empty()) {
            tls_ctx_ = make_tls_context();
        }
        if (cfg_.operator_api.enabled) {
            const tcp::endpoint ep = resolve<tcp>(cfg_.operator_api, "listen.operator");
            try {
                operator_acceptor_.open(ep.protocol());
                operator_acceptor_.set_option(tcp::acceptor::reuse_address(true));
                operator_acceptor_.bind(ep);
                operator_acceptor_.listen(net::socket_base::max_listen_connections);
            } catch (const boost::system::system_error& e) {
                throw std::runtime_error(
                    fmt::format("listen.operator {}: {}", format_peer(ep), e.code().message()));
            }
            spdlog::info("operator API listening on {}",
                         format_peer(operator_acceptor_.local_endpoint()));
            spawn("operator accept loop", operator_accept_loop());
        }
        if (cfg_.metrics.enabled) {
            const tcp::endpoint ep = resolve<tcp>(cfg_.metrics, "listen.metrics");
            metrics_.start(ep.address().to_string(), ep.port());
        }
        receivers_.start();
        scaip_.start();
        retention_.start();
        if (opts_.handle_signals) {
            signals_.add(SIGINT);
            signals_.add(SIGTERM);
            signals_.add(SIGHUP);
            spawn("signal handler", signal_loop());
        }
    }

    void stop() {
        if (stopping_) {
            return;
        }
        stopping_ = true;
        if (opts_.on_stop) {
            opts_.on_stop();
        }
        spawn("shutdown", shutdown());
    }

    // ---- helpers -------------------------------------------------------------------------
    template <class Awaitable>
    void spawn(std::string what, Awaitable&& task) {
        net::co_spawn(
            io_, std::forward<Awaitable>(task),
            [what = std::move(what)](const std::exception_ptr& e) { log_exception(what, e); });
    }

    template <class Protocol>
    typename Protocol::endpoint resolve(const config::endpoint& ep, std::string_view key) {
        boost::system::error_code ec;
        const auto addr = net::ip::make_address(ep.host, ec);
        if (!ec) {
            return {addr, ep.port};
        }
        typename Protocol::resolver resolver(io_);
        const auto results = resolver.resolve(ep.host, std::to_string(ep.port), ec);
        if (ec || results.empty()) {
            throw std::runtime_error(
                fmt::format("{}: cannot resolve '{}': {}", key, ep.host, ec.message()));
        }
        return results.begin()->endpoint();
    }

    void open_api_socket() {
        const std::string path = cfg_.api_socket.string();
        // Remove a stale socket file, but not the socket of an arcd that is still running.
        if (std::filesystem::exists(std::filesystem::symlink_status(cfg_.api_socket))) {
            unix_stream::socket probe(io_);
            boost::system::error_code ec;
            probe.connect(unix_stream::endpoint(path), ec);
            if (!ec) {
                throw std::runtime_error(
                    fmt::format("listen.api {}: another arcd is listening there", path));
            }
            std::filesystem::remove(cfg_.api_socket);
        }
        try {
            api_acceptor_.open(unix_stream());
            api_acceptor_.bind(unix_stream::endpoint(path));
            api_acceptor_.listen(net::socket_base::max_listen_connections);
        } catch (const boost::system::system_error& e) {
            throw std::runtime_error(fmt::format("listen.api {}: {}", path, e.code().message()));
        }
        if (::chmod(path.c_str(), 0660) != 0) {
            spdlog::warn("listen.api {}: chmod 0660 failed", path);
        }
        api_bound_ = true;
        spdlog::info("admin API listening on {}", path);
    }

    // ---- frames --------------------------------------------------------------------------
    void count_reply(protocol::reply_kind kind) {
        switch (kind) {
            case protocol::reply_kind::ack:
                ++counters_.ack;
                break;
            case protocol::reply_kind::ack_encrypted:
                ++counters_.ack_encrypted;
                break;
            case protocol::reply_kind::nak:
                ++counters_.nak;
                break;
            case protocol::reply_kind::duh:
                ++counters_.duh;
                break;
            case protocol::reply_kind::none:
                ++counters_.no_reply;
                break;
        }
    }

    // The reply chosen for a frame, to be sent once its record is committed.
    struct pending_reply {
        protocol::reply_kind kind = protocol::reply_kind::none;
        std::string bytes;
        std::int64_t now_unix = 0;
        std::vector<engine::event> events;  // for the alarm engine once stored
        storage::lane lane = storage::lane::routine;
    };

    // After the commit: the alarm engine gets the frame's events (before the reply is sent:
    // a pendant press reaches the queue as early as it can).
    void after_store(std::error_code ec, std::int64_t id, pending_reply& pending) {
        if (!ec && !pending.events.empty()) {
            alarms_.ingest(id, pending.events, std::chrono::system_clock::now());
        }
    }

    // The bytes to send once the record was stored (or not). A frame that could not be stored
    // is never ACKed (PROTOCOLS.md §1.14: persist, then ACK): NAK, the device retries.
    std::string reply_after_store(std::error_code ec, pending_reply& pending) {
        if (ec) {
            ++counters_.store_rejected;
            store_log_.warn("event not stored ({}): answering NAK", ec.message());
            if (pending.kind == protocol::reply_kind::none) {
                ++counters_.no_reply;
                return {};
            }
            ++counters_.nak;
            return protocol::build_nak(pending.now_unix);
        }
        count_reply(pending.kind);
        return std::move(pending.bytes);
    }

    // Decides the reply to a frame and fills its record. A plain function, not a coroutine:
    // its locals (the decoding) would otherwise make a coroutine frame too large for Asio's
    // recycling allocator, one malloc/free of over 1 KiB per frame.
    pending_reply prepare_frame(std::string_view raw, const char* transport,
                                const std::string& peer, storage::event_record& rec) {
        const std::int64_t now_ms = unix_ms_now();
        ctx_.now_unix = ms_to_unix(now_ms);
        ++counters_.frames;
        protocol::dc09_result result = protocol::handle_dc09_frame(raw, ctx_);
        rec.received_ms = now_ms;
        rec.transport = transport;
        rec.peer = peer;
        if (result.frame) {
            rec.account = device_registry::normalise(result.frame->acct);
            if (result.frame->encrypted) {
                // As on the wire (docs/admin-api.md: EVENT.token keeps the '*').
                rec.token.push_back('*');
            }
            rec.token.append(result.frame->token);
            rec.seq = result.frame->seq;
        }
        // Room for a typical SIA event, so the text is written without regrowing.
        rec.decoded_json.reserve(decoded_json_reserve);
        arc::api::append_decoded_json(rec.decoded_json, result);
        rec.reply_kind = protocol::to_string(result.reply);
        rec.reply = result.reply_bytes;  // copied: the reply is sent after the commit
        if (result.error) {
            rec.error = result.error.message();
        }
        rec.accepted = result.accepted;
        rec.raw = raw;  // copied into a recycled buffer, see take_record
        if (spdlog::should_log(spdlog::level::debug)) {
            spdlog::debug("{} {} acct={} frame \"{}\" -> {} {}", transport, peer, rec.account,
                          protocol::escape_frame(raw), rec.reply_kind, rec.error);
        }
        pending_reply pending{
            result.reply, std::move(result.reply_bytes), ctx_.now_unix, {}, storage::lane::routine};
        alarms_.normalise(result, now_ms, pending.events);
        pending.lane = alarm_service::lane_of(pending.events);
        return pending;
    }

    pending_reply prepare_oversize(const char* transport, const std::string& peer,
                                   storage::event_record& rec) {
        const std::int64_t now_ms = unix_ms_now();
        const std::int64_t now_unix = ms_to_unix(now_ms);
        ++counters_.frames;
        ++counters_.oversize_frames;
        oversize_log_.warn("{} {}: frame longer than limits.max_frame ({} bytes) discarded",
                           transport, peer, cfg_.max_frame);
        rec.received_ms = now_ms;
        rec.transport = transport;
        rec.peer = peer;
        rec.decoded_json = "{}";
        rec.reply_kind = protocol::to_string(protocol::reply_kind::nak);
        rec.reply = protocol::build_nak(now_unix);
        rec.error = make_error_code(protocol::error::frame_too_large).message();
        return {protocol::reply_kind::nak, rec.reply, now_unix, {}, storage::lane::routine};
    }

    // ---- TCP -----------------------------------------------------------------------------
    net::awaitable<void> accept_loop() {
        // Each async_accept completion goes through the io_context queue behind all session
        // traffic, so one connection per pass left a burst of connects waiting seconds for their
        // first read. After each wake-up, take what the backlog holds without blocking.
        boost::system::error_code nb_ec;
        tcp_acceptor_.non_blocking(true, nb_ec);
        for (;;) {
            auto [ec, socket] = co_await tcp_acceptor_.async_accept(use_nothrow);
            if (stopping_ || ec == net::error::operation_aborted) {
                co_return;
            }
            if (ec) {
                // EMFILE and friends: back off instead of spinning on the error.
                accept_log_.warn("dc09_tcp accept: {}", ec.message());
                net::steady_timer pause(io_, std::chrono::milliseconds(50));
                co_await pause.async_wait(use_nothrow);
                continue;
            }
            on_accept(std::move(socket));
            if (nb_ec) {
                continue;
            }
            for (std::size_t i = 1; i < accept_burst; ++i) {
                tcp::socket more(io_);
                boost::system::error_code more_ec;
                tcp_acceptor_.accept(more, more_ec);
                if (more_ec) {
                    // would_block: the backlog is empty; other errors are met (and logged) by
                    // the next async_accept.
                    break;
                }
                on_accept(std::move(more));
            }
        }
    }

    void on_accept(tcp::socket socket) {
        boost::system::error_code ec;
        const auto remote = socket.remote_endpoint(ec);
        if (ec) {
            return;  // already gone
        }
        std::string address = remote.address().to_string();
        auto& per_peer = per_peer_[address];
        if (counters_.tcp_connections_open >= cfg_.max_connections ||
            per_peer >= cfg_.max_connections_per_peer) {
            ++counters_.tcp_rejected;
            if (per_peer == 0) {
                per_peer_.erase(address);
            }
            reject_log_.warn("dc09_tcp: connection from {} refused: {} open, {} from this peer",
                             format_peer(remote), counters_.tcp_connections_open, per_peer);
            socket.close(ec);
            return;
        }
        ++per_peer;
        ++counters_.tcp_connections_open;
        ++counters_.tcp_connections_total;
        socket.set_option(tcp::no_delay(true), ec);
        spawn("tcp session",
              run_session(std::move(socket), std::move(address), format_peer(remote)));
    }

    net::awaitable<void> run_session(tcp::socket socket, std::string address, std::string peer) {
        tcp_session s{
            std::move(socket), std::move(peer), std::move(address), {}, phase::reading, false, {}};
        sessions_.insert(&s);
        struct cleanup {
            impl& self;
            tcp_session& s;
            ~cleanup() {
                self.sessions_.erase(&s);
                --self.counters_.tcp_connections_open;
                const auto it = self.per_peer_.find(s.address);
                if (it != self.per_peer_.end() && --it->second == 0) {
                    self.per_peer_.erase(it);
                }
            }
        } guard{*this, s};
        spdlog::debug("tcp {} connected", s.peer);
        co_await (session_reader(s) || watchdog(s, cfg_.idle_timeout));
        spdlog::debug("tcp {} closed", s.peer);
    }

    net::awaitable<void> session_reader(tcp_session& s) {
        // Non-blocking so that the reply can be written in place (see below).
        boost::system::error_code nb_ec;
        s.socket.non_blocking(true, nb_ec);
        if (nb_ec) {
            co_return;
        }
        protocol::dc09_framer framer(cfg_.max_frame);
        std::array<char, tcp_read_chunk> buf{};
        std::uint64_t discarded = 0;
        // The read and the store take their operation from op_memory; the tokens are built at
        // each call since Asio's binders are consumed as rvalues. A read ends by its socket
        // closing (watchdog, shutdown), never by cancellation: without a cancellation slot Asio
        // installs no cancellation handler per read, and the `||` in run_session waits for that
        // close.
        const handler_allocator<void> op_alloc(s.op_memory);
        for (;;) {
            if (stopping_) {
                co_return;
            }
            s.state = phase::reading;
            s.deadline = steady::now() + cfg_.idle_timeout;
            const auto [ec, n] = co_await s.socket.async_read_some(
                net::buffer(buf),
                net::bind_allocator(
                    op_alloc, net::bind_cancellation_slot(net::cancellation_slot(), use_nothrow)));
            if (ec) {
                co_return;  // eof, reset, closed by the watchdog or by shutdown
            }
            counters_.bytes_in += n;
            framer.feed(std::string_view(buf.data(), n));
            for (;;) {
                auto frame = framer.next();
                if (!frame && frame.error() != protocol::error::frame_too_large) {
                    break;
                }
                s.state = phase::storing;
                storage::event_record rec = completions_->take_record();
                pending_reply pending = frame ? prepare_frame(*frame, "tcp", s.peer, rec)
                                              : prepare_oversize("tcp", s.peer, rec);
                ++in_flight_;
                const auto store_start = steady::now();
                const auto [sec, id] =
                    co_await async_store(writer_, completions_, rec, pending.lane,
                                         net::bind_allocator(op_alloc, use_nothrow));
                store_latency_.observe(
                    std::chrono::duration<double>(steady::now() - store_start).count());
                --in_flight_;
                after_store(sec, id, pending);
                const std::string reply = reply_after_store(sec, pending);
                if (reply.empty()) {
                    continue;
                }
                // A reply nearly always fits the socket buffer: write it now, without a pass
                // through the io_context queue; only the rest of a partial write waits.
                boost::system::error_code wec;
                const std::size_t sent = s.socket.write_some(net::buffer(reply), wec);
                if (wec && wec != net::error::would_block && wec != net::error::try_again) {
                    co_return;
                }
                counters_.bytes_out += sent;
                if (sent < reply.size()) {
                    s.state = phase::writing;
                    s.deadline = steady::now() + opts_.write_timeout;
                    const auto [aec, an] =
                        co_await net::async_write(s.socket, net::buffer(reply) + sent, use_nothrow);
                    if (aec) {
                        co_return;
                    }
                    counters_.bytes_out += an;
                }
            }
            counters_.framer_discarded_bytes += framer.discarded() - discarded;
            discarded = framer.discarded();
        }
    }

    // Closes the connection when its deadline passes: idle reads and stuck writes. A connection
    // waiting for its commit has no deadline (the commit is ours, not the peer's).
    template <class Session>
    net::awaitable<void> watchdog(Session& s, std::chrono::steady_clock::duration idle) {
        net::steady_timer timer(io_);
        for (;;) {
            timer.expires_at(s.deadline);
            const auto [ec] = co_await timer.async_wait(use_nothrow);
            if (ec) {
                co_return;  // the reader finished first
            }
            const auto now = steady::now();
            if (s.state == phase::storing) {
                s.deadline = now + idle;
                continue;
            }
            if (s.deadline <= now) {
                s.idle_closed = s.state == phase::reading;
                if (s.idle_closed) {
                    count_idle(s);
                }
                boost::system::error_code ignored;
                s.socket.close(ignored);
                co_return;
            }
        }
    }

    void count_idle(tcp_session& s) {
        ++counters_.tcp_idle_closed;
        spdlog::debug("tcp {} idle for {} s: closed", s.peer, cfg_.idle_timeout.count());
    }
    static void count_idle(const api_session& /*c*/) { spdlog::debug("api client idle: closed"); }

    // ---- UDP -----------------------------------------------------------------------------
    net::awaitable<void> udp_loop() {
        std::vector<char> buf(udp_max_datagram);
        for (;;) {
            udp::endpoint from;
            const auto [ec, n] = co_await udp_socket_.async_receive_from(
                net::buffer(buf), from,
                net::bind_cancellation_slot(udp_cancel_.slot(), use_nothrow));
            if (stopping_ || ec == net::error::operation_aborted) {
                co_return;
            }
            if (ec) {
                continue;  // e.g. ICMP port unreachable reported for an earlier reply
            }
            ++counters_.udp_datagrams;
            counters_.bytes_in += n;
            if (udp_in_flight_ >= cfg_.max_udp_in_flight) {
                // The device retries; a full pipeline must not grow without bound.
                ++counters_.udp_dropped;
                udp_log_.warn("dc09_udp: {} frames awaiting commit, datagram from {} dropped",
                              udp_in_flight_, format_peer(from));
                continue;
            }
            ++udp_in_flight_;
            spawn("udp frame", udp_frame(std::string(buf.data(), n), from));
        }
    }

    net::awaitable<void> udp_frame(std::string datagram, udp::endpoint from) {
        struct cleanup {
            impl& self;
            ~cleanup() { --self.udp_in_flight_; }
        } guard{*this};
        const std::string peer = format_peer(from);
        // One datagram is one frame; the framer tolerates NUL padding and a missing LF.
        protocol::dc09_framer framer(cfg_.max_frame);
        framer.feed(datagram);
        for (;;) {
            auto frame = framer.next();
            if (!frame && frame.error() != protocol::error::frame_too_large) {
                break;
            }
            storage::event_record rec = completions_->take_record();
            pending_reply pending = frame ? prepare_frame(*frame, "udp", peer, rec)
                                          : prepare_oversize("udp", peer, rec);
            ++in_flight_;
            const auto store_start = steady::now();
            const auto [sec, id] =
                co_await async_store(writer_, completions_, rec, pending.lane, use_nothrow);
            store_latency_.observe(
                std::chrono::duration<double>(steady::now() - store_start).count());
            --in_flight_;
            after_store(sec, id, pending);
            const std::string reply = reply_after_store(sec, pending);
            if (!reply.empty() && udp_socket_.is_open()) {
                const auto [ec, n] =
                    co_await udp_socket_.async_send_to(net::buffer(reply), from, use_nothrow);
                if (!ec) {
                    counters_.bytes_out += n;
                }
            }
        }
        counters_.framer_discarded_bytes += framer.discarded() + framer.buffered();
    }

    // ---- admin API -----------------------------------------------------------------------
    net::awaitable<void> api_accept_loop() {
        for (;;) {
            auto [ec, socket] = co_await api_acceptor_.async_accept(use_nothrow);
            if (stopping_ || ec == net::error::operation_aborted) {
                co_return;
            }
            if (ec) {
                accept_log_.warn("api accept: {}", ec.message());
                net::steady_timer pause(io_, std::chrono::milliseconds(50));
                co_await pause.async_wait(use_nothrow);
                continue;
            }
            if (api_sessions_.size() >= cfg_.max_api_clients) {
                api_log_.warn("api: client refused, {} clients connected", api_sessions_.size());
                boost::system::error_code ignored;
                socket.close(ignored);
                continue;
            }
            api_stream::socket generic(io_, api_stream(AF_UNIX, 0), socket.release());
            spawn("api session", run_api_session(std::move(generic), false, {}));
        }
    }

    // The operator API's TLS: TLS 1.2 or later, the PEM certificate chain and key of
    // [operator_tls]; an unreadable file stops the start with its name.
    net::ssl::context make_tls_context() {
        net::ssl::context ctx(net::ssl::context::tls_server);
        ctx.set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                        net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                        net::ssl::context::no_tlsv1_1 | net::ssl::context::single_dh_use);
        boost::system::error_code ec;
        ctx.use_certificate_chain_file(cfg_.operator_tls_cert.string(), ec);
        if (ec) {
            throw std::runtime_error(fmt::format("operator_tls.cert {}: {}",
                                                 cfg_.operator_tls_cert.string(), ec.message()));
        }
        ctx.use_private_key_file(cfg_.operator_tls_key.string(), net::ssl::context::pem, ec);
        if (ec) {
            throw std::runtime_error(fmt::format("operator_tls.key {}: {}",
                                                 cfg_.operator_tls_key.string(), ec.message()));
        }
        return ctx;
    }

    // The operator API: the same sessions over TCP, with login and roles (admin_api.cpp).
    net::awaitable<void> operator_accept_loop() {
        for (;;) {
            auto [ec, socket] = co_await operator_acceptor_.async_accept(use_nothrow);
            if (stopping_ || ec == net::error::operation_aborted) {
                co_return;
            }
            if (ec) {
                accept_log_.warn("operator accept: {}", ec.message());
                net::steady_timer pause(io_, std::chrono::milliseconds(50));
                co_await pause.async_wait(use_nothrow);
                continue;
            }
            boost::system::error_code peer_ec;
            const auto remote = socket.remote_endpoint(peer_ec);
            if (peer_ec) {
                continue;  // gone before we looked
            }
            if (api_sessions_.size() >= cfg_.max_api_clients) {
                api_log_.warn("operator: client {} refused, {} clients connected",
                              format_peer(remote), api_sessions_.size());
                boost::system::error_code ignored;
                socket.close(ignored);
                continue;
            }
            boost::system::error_code nd_ec;
            socket.set_option(tcp::no_delay(true), nd_ec);
            const int family = remote.address().is_v6() ? AF_INET6 : AF_INET;
            api_stream::socket generic(io_, api_stream(family, IPPROTO_TCP), socket.release());
            spawn("operator session",
                  run_api_session(std::move(generic), true, format_peer(remote)));
        }
    }

    net::awaitable<void> run_api_session(api_stream::socket socket, bool operator_api,
                                         std::string peer) {
        api_session c(*this, std::move(socket));
        c.operator_api = operator_api;
        c.peer = std::move(peer);
        if (operator_api && tls_ctx_) {
            c.tls = std::make_unique<net::ssl::stream<api_stream::socket>>(std::move(c.socket),
                                                                           *tls_ctx_);
            net::steady_timer limit(io_, opts_.write_timeout);
            limit.async_wait([&c](const boost::system::error_code& ec) {
                if (!ec) {
                    boost::system::error_code ignored;
                    c.raw().close(ignored);  // no handshake in time
                }
            });
            const auto [ec] =
                co_await c.tls->async_handshake(net::ssl::stream_base::server, use_nothrow);
            limit.cancel();
            if (ec) {
                api_log_.warn("operator: TLS handshake with {} failed: {}", c.peer, ec.message());
                boost::system::error_code ignored;
                c.raw().close(ignored);
                co_return;
            }
            c.tls_on = true;
        }
        api_sessions_.insert(&c);
        struct cleanup {
            impl& self;
            api_session& c;
            ~cleanup() {
                if (c.subscription) {
                    self.alarms_.unsubscribe(*c.subscription);
                }
                self.api_sessions_.erase(&c);
            }
        } guard{*this, c};
        c.last_request = steady::now();
        co_await (api_reader(c) || api_writer(c) || api_watchdog(c));
        boost::system::error_code ignored;
        c.raw().close(ignored);
    }

    net::awaitable<void> api_reader(api_session& c) {
        std::string buf;
        for (;;) {
            if (stopping_ || c.closing) {
                break;
            }
            auto read_buffer = net::dynamic_buffer(buf, api_max_line + 1);
            boost::system::error_code ec;
            std::size_t n = 0;
            if (c.tls) {
                std::tie(ec, n) =
                    co_await net::async_read_until(*c.tls, read_buffer, '\n', use_nothrow);
            } else {
                std::tie(ec, n) =
                    co_await net::async_read_until(c.socket, read_buffer, '\n', use_nothrow);
            }
            if (ec == net::error::not_found) {
                c.enqueue(std::make_shared<const std::string>(dump_line(
                    admin_error(nullptr, "bad_request",
                                fmt::format("request line longer than {} bytes", api_max_line)))));
                break;
            }
            if (ec) {
                break;  // end of stream: answer what was asked, then close
            }
            std::string line = buf.substr(0, n - 1);
            buf.erase(0, n);
            if (!line.empty() && line.back() == '\r') {
                line.pop_back();
            }
            if (line.find_first_not_of(" \t") == std::string::npos) {
                continue;
            }
            c.last_request = steady::now();
            c.busy = true;
            const nlohmann::json response =
                co_await async_admin(*this, std::move(line), &c, net::use_awaitable);
            c.busy = false;
            c.last_request = steady::now();
            c.enqueue(std::make_shared<const std::string>(dump_line(response)));
        }
        // Let the writer send what is queued; the session ends when it is done.
        c.closing = true;
        c.wake.cancel();
        net::steady_timer forever(io_, steady::time_point::max());
        co_await forever.async_wait(use_nothrow);
    }

    net::awaitable<void> api_writer(api_session& c) {
        for (;;) {
            if (c.out.empty()) {
                if (c.closing) {
                    co_return;
                }
                c.wake.expires_at(steady::time_point::max());
                co_await c.wake.async_wait(use_nothrow);
                continue;
            }
            const std::shared_ptr<const std::string> line = c.out.front();
            c.writing = true;
            c.write_started = steady::now();
            boost::system::error_code ec;
            if (c.tls) {
                std::tie(ec, std::ignore) =
                    co_await net::async_write(*c.tls, net::buffer(*line), use_nothrow);
            } else {
                std::tie(ec, std::ignore) =
                    co_await net::async_write(c.socket, net::buffer(*line), use_nothrow);
            }
            c.writing = false;
            if (ec) {
                co_return;
            }
            c.out.pop_front();
            c.out_bytes -= line->size();
        }
    }

    // Closes a client whose write is stuck, or that sent nothing for api_idle_timeout (a
    // subscriber waits for pushes: it is not idle).
    net::awaitable<void> api_watchdog(api_session& c) {
        net::steady_timer timer(io_);
        for (;;) {
            timer.expires_after(std::chrono::seconds(1));
            const auto [ec] = co_await timer.async_wait(use_nothrow);
            if (ec) {
                co_return;
            }
            const auto now = steady::now();
            if (c.writing && now - c.write_started > opts_.write_timeout) {
                api_log_.warn("api: client not reading for {} ms: closed",
                              opts_.write_timeout.count());
                co_return;
            }
            if (!c.subscription && !c.busy && !c.writing && c.out.empty() &&
                now - c.last_request > api_idle_timeout) {
                count_idle(c);
                co_return;
            }
        }
    }

    // ---- signals and shutdown ------------------------------------------------------------
    net::awaitable<void> signal_loop() {
        for (;;) {
            const auto [ec, signo] = co_await signals_.async_wait(use_nothrow);
            if (ec) {
                co_return;
            }
            if (signo == SIGHUP) {
                spdlog::info("SIGHUP: reopening log");
                if (opts_.on_sighup) {
                    opts_.on_sighup();
                }
                continue;
            }
            spdlog::info("signal {}: shutting down", signo);
            stop();
            co_return;
        }
    }

    net::awaitable<void> shutdown() {
        boost::system::error_code ignored;
        blocking_cancel_.store(true);  // a backup in progress gives up (its client gets busy)
        tcp_acceptor_.close(ignored);
        api_acceptor_.close(ignored);
        operator_acceptor_.close(ignored);
        metrics_.stop();
        udp_cancel_.emit(net::cancellation_type::all);
        receivers_.stop();
        scaip_.stop();
        // Idle connections go now; those with a frame in flight finish it (commit + reply).
        for (tcp_session* s : sessions_) {
            if (s->state == phase::reading) {
                s->socket.close(ignored);
            }
        }
        for (api_session* c : api_sessions_) {
            if (!c->busy) {
                c->raw().close(ignored);
            }
        }
        const auto grace_end = steady::now() + opts_.shutdown_grace;
        net::steady_timer timer(io_);
        // Alarm changes of the last frames are persisted before the writer stops.
        while (
            (in_flight_ > 0 || !sessions_.empty() || !api_sessions_.empty() || !alarms_.idle()) &&
            steady::now() < grace_end) {
            timer.expires_after(std::chrono::milliseconds(10));
            co_await timer.async_wait(use_nothrow);
            // Sessions that finished their frame and went back to reading close now.
            for (tcp_session* s : sessions_) {
                if (s->state == phase::reading) {
                    s->socket.close(ignored);
                }
            }
            for (api_session* c : api_sessions_) {
                if (!c->busy) {
                    c->raw().close(ignored);
                }
            }
        }
        if (in_flight_ > 0) {
            spdlog::warn("shutdown: {} frames still awaiting their commit after the grace period",
                         in_flight_);
        }
        // The writer drains its queue and runs every completion (posted back to us).
        writer_.stop();
        arm_alarm_timer(std::nullopt);
        retention_.stop();
        retention_timer_.cancel();
        for (tcp_session* s : sessions_) {
            s->socket.close(ignored);
        }
        for (api_session* c : api_sessions_) {
            c->raw().close(ignored);
        }
        udp_socket_.close(ignored);
        signals_.cancel(ignored);
        if (api_bound_) {
            std::error_code fs_ec;
            std::filesystem::remove(cfg_.api_socket, fs_ec);
        }
        spdlog::info("shutdown complete: {} frames, {} ACK, {} *ACK, {} NAK", counters_.frames,
                     counters_.ack, counters_.ack_encrypted, counters_.nak);
    }

    net::io_context& io_;
    config::daemon_config cfg_;
    storage::writer& writer_;
    std::shared_ptr<completion_queue> completions_;
    server_options opts_;
    storage::database read_db_;
    device_registry registry_;
    protocol::receiver_policy policy_;
    protocol::receive_context ctx_;
    counters counters_;

    tcp::acceptor tcp_acceptor_;
    udp::socket udp_socket_;
    net::cancellation_signal udp_cancel_;
    unix_stream::acceptor api_acceptor_;
    tcp::acceptor operator_acceptor_;
    std::optional<net::ssl::context> tls_ctx_;
    // Password checks (argon2id) run here, never on the io thread; bounded.
    net::thread_pool auth_pool_{1};
    std::size_t auth_pending_ = 0;
    net::signal_set signals_;
    net::steady_timer alarm_timer_;
    std::optional<engine::time_point> alarm_deadline_;
    std::uint64_t alarm_timer_generation_ = 0;
    alarm_service alarms_;
    receiver_ports receivers_;
    scaip_receiver scaip_;
    latency_histogram store_latency_;
    metrics_http metrics_;
    bool api_bound_ = false;

    std::unordered_set<tcp_session*> sessions_;
    std::unordered_set<api_session*> api_sessions_;
    std::unordered_map<std::string, std::size_t> per_peer_;
    std::size_t in_flight_ = 0;
    std::size_t udp_in_flight_ = 0;
    bool stopping_ = false;

    rate_limited_log accept_log_;
    rate_limited_log reject_log_;
    rate_limited_log store_log_;
    rate_limited_log oversize_log_;
    rate_limited_log udp_log_;
    rate_limited_log api_log_;

    std::int64_t started_ms_;
    steady::time_point started_;

    std::thread blocking_thread_;
    std::atomic<bool> blocking_cancel_{false};
    bool blocking_busy_ = false;  // io thread only

    // The daily retention purge (retention_service.cpp) and its one timer.
    net::steady_timer retention_timer_{io_};
    retention_service retention_{cfg_.retention, retention_hooks_for()};
};

server::server(net::io_context& io, const config::daemon_config& cfg, storage::writer& writer,
               server_options opts)
    : impl_(std::make_unique<impl>(io, cfg, writer, std::move(opts))) {}

server::~server() = default;

void server::start() { impl_->start(); }

void server::stop() { impl_->stop(); }

std::uint16_t server::tcp_port() const noexcept {
    boost::system::error_code ec;
    return impl_->tcp_acceptor_.is_open() ? impl_->tcp_acceptor_.local_endpoint(ec).port() : 0;
}

std::uint16_t server::udp_port() const noexcept {
    boost::system::error_code ec;
    return impl_->udp_socket_.is_open() ? impl_->udp_socket_.local_endpoint(ec).port() : 0;
}

const counters& server::stats() const noexcept { return impl_->counters_; }

}  // namespace arc::daemon
