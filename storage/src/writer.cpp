#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <iterator>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "sqlite_util.hpp"
#include <sqlite3.h>

#include "arc/storage/store.hpp"

namespace arc::storage {

namespace {

// Constructors (not aggregates) so that push() can build items in place under clang 14 too,
// which lacks C++20 parenthesised aggregate initialisation.
struct event_item {
    event_item(event_record&& record, writer::event_done on_done, writer::event_return on_return)
        : ev(std::move(record)), done(std::move(on_done)), give_back(std::move(on_return)) {}

    event_record ev;
    writer::event_done done;
    writer::event_return give_back;  // instead of done, when set
};

struct job_item {
    job_item(writer::job w, writer::job_done d) : work(std::move(w)), done(std::move(d)) {}

    writer::job work;
    writer::job_done done;
    std::string message;  // what() of the exception when the job failed
    bool failed = false;
};

using item = std::variant<event_item, job_item>;

// Emptied chunk vectors kept for their capacity, so that a steady load allocates nothing per
// item but what the producer already built; a few are enough to cover a burst.
constexpr std::size_t max_spare_chunks = 4;

// A completion that throws must not take the writer (and every later ACK) down with it; the
// item is stored either way, so there is nothing left to undo.
template <typename F, typename... Args>
void call_quietly(F& done, Args&&... args) noexcept {
    if (!done) {
        return;
    }
    try {
        done(std::forward<Args>(args)...);
    } catch (...) {  // NOLINT(bugprone-empty-catch): see above
    }
}

// WAL pages after which the checkpointer copies the log back into the database (SQLite's own
// autocheckpoint default).
constexpr int checkpoint_pages = 1000;

// Copies the WAL into the database file on a connection and thread of its own. SQLite's
// autocheckpoint would do it inside COMMIT on the writer thread, adding a database fsync to
// the latency of every ACK that waits on that batch; a PASSIVE checkpoint runs beside the
// writer without taking its lock.
class checkpointer {
public:
    explicit checkpointer(const std::filesystem::path& path)
        : db_(database::open(path)), thread_([this] { run(); }) {}
    checkpointer(const checkpointer&) = delete;
    checkpointer& operator=(const checkpointer&) = delete;
    ~checkpointer() {
        {
            const std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_one();
        thread_.join();
    }

    /// Called by the writer after a commit left the WAL long; cheap and never blocks long.
    void poke() {
        {
            const std::lock_guard lock(mutex_);
            wanted_ = true;
        }
        wake_.notify_one();
    }

private:
    void run() {
        std::unique_lock lock(mutex_);
        for (;;) {
            wake_.wait(lock, [this] { return wanted_ || stopping_; });
            if (stopping_) {
                return;
            }
            wanted_ = false;
            lock.unlock();
            // A failure (busy reader, I/O) only delays the copy: the WAL keeps the data
            // durable and the next poke retries.
            sqlite3_wal_checkpoint_v2(db_.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                      nullptr);
            lock.lock();
        }
    }

    database db_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool wanted_ = false;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace

struct writer::impl {
    impl(const std::filesystem::path& path, options opts)
        : db(database::open(path)),
          max_batch(std::max<std::size_t>(opts.max_batch, 1)),
          queue_limit(opts.queue_limit),
          // Rounded up, so that a queue of one still takes routine items.
          routine_limit(opts.queue_limit - opts.queue_limit / 4) {
        if (opts.checkpoint_thread && path != ":memory:" && !path.empty()) {
            ckpt = std::make_unique<checkpointer>(path);
            // Replaces SQLite's autocheckpoint (itself a WAL hook) on this connection.
            sqlite3_wal_hook(db.handle(), &on_wal_commit, this);
            // Once a checkpoint lets the WAL restart, its file shrinks back to this size.
            db.exec("PRAGMA journal_size_limit = 67108864");
        }
    }

    static int on_wal_commit(void* self, sqlite3* /*db*/, const char* /*name*/, int pages) {
        if (pages >= checkpoint_pages) {
            static_cast<impl*>(self)->ckpt->poke();
        }
        return SQLITE_OK;
    }

    // Builds the item in its chunk from `args` (no temporaries: an event_record is a dozen
    // strings, and each move of it showed in the profile).
    template <class T, class... Args>
    bool push(lane which, Args&&... args);
    void run();
    // Runs one batch in one transaction and then its completions; returns whether it committed.
    bool process(std::vector<item>& batch, double& commit_ms, std::uint64_t& events,
                 std::uint64_t& jobs);
    void touch_devices();

    database db;
    std::unique_ptr<checkpointer> ckpt;  // destroyed before db
    const std::size_t max_batch;
    const std::size_t queue_limit;
    // Routine items (periodic tests, heartbeats) may fill this much of the queue and no more:
    // a flood of them always leaves room for alarms.
    const std::size_t routine_limit;

    // One queue per lane. Producers append to chunks.back(); the writer takes chunks.front().
    // A chunk holds at most max_batch items, so taking one is O(1) and is exactly "everything
    // queued, up to max_batch" while later arrivals wait for the next transaction.
    struct lane_queue {
        std::deque<std::vector<item>> chunks;
        std::size_t head = 0;  // items of chunks.front() already taken (moved out)
        std::size_t queued = 0;
    };
    // Takes the next batch into `batch` (empty on entry); the caller holds `mutex`.
    void take_batch(std::vector<item>& batch);
    // Moves up to `room` items of `q`, oldest first, to the end of `batch`.
    void take_from(lane_queue& q, std::vector<item>& batch, std::size_t room);
    void recycle(std::vector<item>&& chunk);

    mutable std::mutex mutex;
    std::condition_variable wake;
    lane_queue alarms;
    lane_queue routine;
    std::vector<std::vector<item>> spare;
    bool stopping = false;
    stats totals;

    std::mutex stop_mutex;
    std::thread thread;

    // Writer thread only: (account, received_ms) of the batch's accepted events.
    std::vector<std::pair<std::string_view, std::int64_t>> seen;
};

template <class T, class... Args>
bool writer::impl::push(lane which, Args&&... args) {
    {
        const std::lock_guard lock(mutex);
        const bool is_routine = which == lane::routine;
        if (stopping || alarms.queued + routine.queued >= queue_limit ||
            (is_routine && routine.queued >= routine_limit)) {
            return false;
        }
        lane_queue& q = is_routine ? routine : alarms;
        if (q.chunks.empty() || q.chunks.back().size() >= max_batch) {
            if (spare.empty()) {
                // Bounded: max_batch comes from the configuration and may be large.
                q.chunks.emplace_back().reserve(std::min<std::size_t>(max_batch, 1024));
            } else {
                q.chunks.push_back(std::move(spare.back()));
                spare.pop_back();
            }
        }
        q.chunks.back().emplace_back(std::in_place_type<T>, std::forward<Args>(args)...);
        ++q.queued;
    }
    wake.notify_one();
    return true;
}

void writer::impl::recycle(std::vector<item>&& chunk) {
    chunk.clear();
    if (spare.size() < max_spare_chunks) {
        spare.push_back(std::move(chunk));
    }
}

void writer::impl::take_from(lane_queue& q, std::vector<item>& batch, std::size_t room) {
    while (room > 0 && !q.chunks.empty()) {
        std::vector<item>& front = q.chunks.front();
        const std::size_t n = std::min(room, front.size() - q.head);
        if (batch.empty() && q.head == 0 && n == front.size()) {
            batch.swap(front);  // the usual case: one whole chunk, no item moved
        } else {
            // Only when both lanes wait (or after such a batch): a few moves under the lock.
            const auto first = front.begin() + static_cast<std::ptrdiff_t>(q.head);
            batch.insert(batch.end(), std::make_move_iterator(first),
                         std::make_move_iterator(first + static_cast<std::ptrdiff_t>(n)));
            q.head += n;
        }
        q.queued -= n;
        room -= n;
        if (q.head == front.size() || front.empty()) {
            // Fully taken; producers never append to a chunk that is not chunks.back(), and
            // one that is back and fully taken is simply replaced by a fresh one.
            recycle(std::move(front));
            q.chunks.pop_front();
            q.head = 0;
        }
    }
}

void writer::impl::take_batch(std::vector<item>& batch) {
    // Alarms first, oldest first; routine items fill what room is left.
    take_from(alarms, batch, max_batch);
    take_from(routine, batch, max_batch - batch.size());
}

void writer::impl::run() {
    std::vector<item> batch;
    for (;;) {
        {
            std::unique_lock lock(mutex);
            wake.wait(lock, [this] {
                return !alarms.chunks.empty() || !routine.chunks.empty() || stopping;
            });
            if (alarms.chunks.empty() && routine.chunks.empty()) {
                return;  // stopping and drained
            }
            take_batch(batch);
        }
        double commit_ms = 0;
        std::uint64_t events = 0;
        std::uint64_t jobs = 0;
        const bool committed = process(batch, commit_ms, events, jobs);
        const std::size_t size = batch.size();
        batch.clear();  // frees the records here, outside the lock
        const std::lock_guard lock(mutex);
        totals.jobs += jobs;
        if (committed) {
            ++totals.batches;
            totals.events += events;
            totals.max_batch = std::max<std::uint64_t>(totals.max_batch, size);
            totals.last_commit_ms = commit_ms;
        } else {
            ++totals.failed_batches;
        }
    }
}

bool writer::impl::process(std::vector<item>& batch, double& commit_ms, std::uint64_t& events,
                           std::uint64_t& jobs) {
    bool committed = false;
    try {
        detail::transaction tx(db);
        seen.clear();
        for (item& it : batch) {
            if (auto* ev = std::get_if<event_item>(&it)) {
                ev->ev.id = insert_event(db, ev->ev);
                ++events;
                if (ev->ev.accepted && !ev->ev.account.empty()) {
                    seen.emplace_back(ev->ev.account, ev->ev.received_ms);
                }
                continue;
            }
            auto& jb = std::get<job_item>(it);
            ++jobs;
            detail::savepoint sp(db);
            try {
                if (jb.work) {
                    jb.work(db);
                }
                sp.release();
            } catch (const std::exception& e) {
                jb.failed = true;
                jb.message = e.what();
                sp.rollback();
            } catch (...) {
                jb.failed = true;
                jb.message = "job threw a non-standard exception";
                sp.rollback();
            }
        }
        touch_devices();
        const auto start = std::chrono::steady_clock::now();
        tx.commit();
        commit_ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count();
        committed = true;
    } catch (const std::exception&) {
        // The whole transaction is gone (rolled back by ~transaction): nothing of it is stored.
        committed = false;
    }

    // Only now, with COMMIT returned (synchronous=FULL: on disk), may anyone ACK.
    const std::error_code failed = make_error_code(errc::commit_failed);
    for (item& it : batch) {
        if (auto* ev = std::get_if<event_item>(&it)) {
            const std::error_code ec = committed ? std::error_code{} : failed;
            const std::int64_t id = committed ? ev->ev.id : 0;
            if (ev->give_back) {
                call_quietly(ev->give_back, ec, id, std::move(ev->ev));
            } else {
                call_quietly(ev->done, ec, id);
            }
            continue;
        }
        auto& jb = std::get<job_item>(it);
        if (!committed) {
            call_quietly(jb.done, failed, std::string("transaction did not commit"));
        } else if (jb.failed) {
            call_quietly(jb.done, make_error_code(errc::job_failed), std::move(jb.message));
        } else {
            call_quietly(jb.done, std::error_code{}, std::string{});
        }
    }
    return committed;
}

void writer::impl::touch_devices() {
    if (seen.empty()) {
        return;
    }
    // One UPDATE per distinct account, with the newest time of the batch.
    std::sort(seen.begin(), seen.end());
    detail::statement stmt(db,
                           "UPDATE devices SET last_seen_ms = max(coalesce(last_seen_ms, ?2), ?2) "
                           "WHERE account = upper(?1)");
    for (std::size_t i = 0; i < seen.size();) {
        std::size_t next = i + 1;
        while (next < seen.size() && seen[next].first == seen[i].first) {
            ++next;
        }
        // Sorted by (account, time): the group's last entry holds the newest time.
        stmt.bind_text(1, seen[i].first);
        stmt.bind(2, seen[next - 1].second);
        stmt.step();
        stmt.reset();
        i = next;
    }
}

writer::writer(const std::filesystem::path& path, options opts)
    : impl_(std::make_unique<impl>(path, opts)) {
    impl_->thread = std::thread([this] { impl_->run(); });
}

writer::~writer() { stop(); }

bool writer::submit(event_record ev, event_done done, lane which) {
    return impl_->push<event_item>(which, std::move(ev), std::move(done), nullptr);
}

bool writer::submit_and_return(event_record ev, event_return done, lane which) {
    return impl_->push<event_item>(which, std::move(ev), nullptr, std::move(done));
}

bool writer::submit(job work, job_done done, lane which) {
    return impl_->push<job_item>(which, std::move(work), std::move(done));
}

void writer::stop() {
    {
        const std::lock_guard lock(impl_->mutex);
        impl_->stopping = true;
    }
    impl_->wake.notify_all();
    // From a completion (the writer thread itself) there is nothing to join: the loop ends
    // once the queue is drained, and the destructor joins later.
    if (impl_->thread.get_id() == std::this_thread::get_id()) {
        return;
    }
    const std::lock_guard stop_lock(impl_->stop_mutex);
    if (impl_->thread.joinable()) {
        impl_->thread.join();
    }
}

writer::stats writer::snapshot() const {
    const std::lock_guard lock(impl_->mutex);
    stats out = impl_->totals;
    out.queued = impl_->alarms.queued + impl_->routine.queued;
    out.queued_routine = impl_->routine.queued;
    return out;
}

}  // namespace arc::storage
