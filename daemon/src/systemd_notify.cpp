#include "systemd_notify.hpp"

#include <cstring>
#include <string>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

namespace arc::daemon::systemd {

bool notify(std::string_view state) {
    const std::string text(state);
    // 0: keep NOTIFY_SOCKET in the environment (the watchdog and STOPPING=1 still need it).
    const int r = ::sd_notify(0, text.c_str());
    if (r < 0) {
        spdlog::debug("sd_notify failed: {}", std::string(std::strerror(-r)));
    }
    return r > 0;
}

void notify_ready(std::string_view status) {
    if (notify(fmt::format("READY=1\nSTATUS={}", status))) {
        spdlog::info("systemd: READY=1 ({})", status);
    }
}

void post_ready(boost::asio::io_context& io, std::string status) {
    boost::asio::post(io, [status = std::move(status)] { notify_ready(status); });
}

void notify_stopping() { notify("STOPPING=1\nSTATUS=stopping"); }

bool writer_progress::update(const arc::storage::writer::stats& now) noexcept {
    const std::uint64_t done = now.batches + now.jobs + now.failed_batches;
    const bool waiting = now.queued > 0;
    const bool healthy = first_ || !waiting || !waiting_ || done != done_;
    first_ = false;
    done_ = done;
    waiting_ = waiting;
    return healthy;
}

struct watchdog::impl {
    impl(boost::asio::io_context& io, std::function<bool()> check)
        : timer(io), healthy(std::move(check)) {
        std::uint64_t usec = 0;
        // 0: keep WATCHDOG_USEC/WATCHDOG_PID; > 0 only when they are set and name this process.
        if (::sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
            interval = std::chrono::microseconds(usec);
        }
    }

    void tick() {
        if (stopped) {
            return;
        }
        if (!healthy || healthy()) {
            notify("WATCHDOG=1");
        } else {
            spdlog::warn(
                "systemd watchdog: the storage writer made no progress with items queued "
                "for {} ms; ping skipped",
                std::chrono::duration_cast<std::chrono::milliseconds>(interval / 2).count());
        }
        timer.expires_after(interval / 2);
        timer.async_wait([this](const boost::system::error_code& ec) {
            if (!ec) {
                tick();
            }
        });
    }

    boost::asio::steady_timer timer;
    std::function<bool()> healthy;
    std::chrono::microseconds interval{0};
    bool stopped = false;
};

watchdog::watchdog(boost::asio::io_context& io, std::function<bool()> healthy)
    : impl_(std::make_unique<impl>(io, std::move(healthy))) {}

watchdog::~watchdog() = default;

std::chrono::microseconds watchdog::interval() const noexcept { return impl_->interval; }

void watchdog::start() {
    if (impl_->interval.count() <= 0) {
        return;
    }
    spdlog::info(
        "systemd watchdog: {} ms, pinging every {} ms",
        std::chrono::duration_cast<std::chrono::milliseconds>(impl_->interval).count(),
        std::chrono::duration_cast<std::chrono::milliseconds>(impl_->interval / 2).count());
    // The first ping too comes from the io thread, once io.run() runs.
    impl_->timer.expires_after(std::chrono::microseconds(0));
    impl_->timer.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) {
            impl_->tick();
        }
    });
}

void watchdog::stop() {
    impl_->stopped = true;
    impl_->timer.cancel();
}

}  // namespace arc::daemon::systemd
