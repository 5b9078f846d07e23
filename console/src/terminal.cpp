// The ncurses side of arc-console: everything here is I/O; what to show and what to send is the
// app's (app.hpp) and the view's (view.hpp).
#define NCURSES_WIDECHAR 1

#include "arc/console/terminal.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <clocale>
#include <csignal>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>

#include <curses.h>
#include <langinfo.h>
#include <poll.h>
#include <unistd.h>
#include <wchar.h>

#include "arc/api/client.hpp"
#include "arc/console/text.hpp"
#include "arc/console/view.hpp"

namespace arc::console {
namespace {

volatile std::sig_atomic_t stop_requested = 0;

extern "C" void on_stop_signal(int /*signo*/) { stop_requested = 1; }

void install_stop_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: poll() returns at once
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGHUP, &sa, nullptr);
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

constexpr std::int64_t backoff_first_ms = 500;
constexpr std::int64_t backoff_max_ms = 10000;
constexpr auto connect_timeout = std::chrono::seconds(5);

short pair_of(color c) {
    switch (c) {
        case color::red:
            return 1;
        case color::yellow:
            return 2;
        case color::cyan:
            return 3;
        case color::green:
            return 4;
        case color::magenta:
            return 5;
        case color::normal:
            break;
    }
    return 0;
}

attr_t attrs_of(const style& st, bool colors) {
    attr_t a = A_NORMAL;
    if (st.bold) {
        a |= A_BOLD;
    }
    if (st.reverse) {
        a |= A_REVERSE;
    }
    if (colors && st.fg != color::normal) {
        a |= static_cast<attr_t>(COLOR_PAIR(pair_of(st.fg)));
    }
    return a;
}

// Paints the grid: runs of one style at a time; ncurses sends only what changed.
void paint(const grid& g, bool colors) {
    erase();
    for (int r = 0; r < g.rows(); ++r) {
        int c = 0;
        while (c < g.cols()) {
            const style st = g.at(r, c).st;
            std::string run;
            const int start = c;
            while (c < g.cols() && g.at(r, c).st == st) {
                // The view gives every character one column: one the terminal would draw
                // wider (CJK, emoji) or not at all (combining marks) would shift the line.
                char32_t ch = g.at(r, c).ch;
                if (ch >= 0x80 && ::wcwidth(static_cast<wchar_t>(ch)) != 1) {
                    ch = U'?';
                }
                append_utf8(run, ch);
                ++c;
            }
            attrset(static_cast<int>(attrs_of(st, colors)));
            // The bottom-right cell makes addstr return ERR (the cursor cannot advance): the
            // character is drawn all the same.
            mvaddstr(r, start, run.c_str());
        }
    }
    attrset(A_NORMAL);
    refresh();
}

// ncurses key → the app's key, or 0 to ignore.
int map_key(int rc, wint_t wch) {
    if (rc == KEY_CODE_YES) {
        switch (wch) {
            case KEY_UP:
                return keys::up;
            case KEY_DOWN:
                return keys::down;
            case KEY_LEFT:
                return keys::left;
            case KEY_RIGHT:
                return keys::right;
            case KEY_PPAGE:
                return keys::page_up;
            case KEY_NPAGE:
                return keys::page_down;
            case KEY_HOME:
                return keys::home;
            case KEY_END:
                return keys::end;
            case KEY_BACKSPACE:
            case KEY_DC:
                return keys::backspace;
            case KEY_ENTER:
                return keys::enter;
            case KEY_F(2):
                return keys::f2;
            case KEY_F(10):
                return keys::f10;
            default:
                return 0;
        }
    }
    if (wch == L'\r' || wch == L'\n') {
        return keys::enter;
    }
    if (wch == 127 || wch == 8) {
        return keys::backspace;
    }
    if (wch == L'\t') {
        return keys::tab;
    }
    if (wch == 27) {
        return keys::escape;
    }
    if (wch < 0x20) {
        return 0;
    }
    return static_cast<int>(wch);
}

class screen_guard {
public:
    screen_guard() {
        initscr();
        cbreak();
        noecho();
        nonl();
        keypad(stdscr, TRUE);
        nodelay(stdscr, TRUE);
        set_escdelay(25);
        curs_set(0);
        if (has_colors()) {
            start_color();
            use_default_colors();
            init_pair(1, COLOR_RED, -1);
            init_pair(2, COLOR_YELLOW, -1);
            init_pair(3, COLOR_CYAN, -1);
            init_pair(4, COLOR_GREEN, -1);
            init_pair(5, COLOR_MAGENTA, -1);
            colors_ = true;
        }
    }
    ~screen_guard() { endwin(); }
    screen_guard(const screen_guard&) = delete;
    screen_guard& operator=(const screen_guard&) = delete;
    bool colors() const noexcept { return colors_; }

private:
    bool colors_ = false;
};

api::client connect_to(const options& opts) {
    if (opts.transport == options::transport_kind::tcp) {
        api::tls_options tls;
        tls.enabled = opts.tls;
        tls.ca_file = opts.ca_file;
        return api::client::connect_tcp(opts.target, tls, connect_timeout);
    }
    return api::client::connect(opts.target, connect_timeout);
}

// "api client: connection closed by arcd" → "connection closed by arcd".
std::string short_reason(std::string text) {
    for (const char* prefix : {"api client: ", "admin client: "}) {
        if (text.rfind(prefix, 0) == 0) {
            text.erase(0, std::strlen(prefix));
        }
    }
    return text;
}

}  // namespace

int run_terminal(options opts) {
    std::setlocale(LC_ALL, "");
    const char* codeset = nl_langinfo(CODESET);
    if (codeset == nullptr || std::strcmp(codeset, "UTF-8") != 0) {
        opts.ascii = true;
    }
    install_stop_handlers();
    app a(opts);
    screen_guard scr;

    std::optional<api::client> conn;
    std::int64_t backoff = backoff_first_ms;
    std::int64_t next_attempt = 0;
    const auto drop = [&](const std::string& reason) {
        conn.reset();
        const std::int64_t now = now_ms();
        next_attempt = now + backoff;
        a.disconnected(short_reason(reason), next_attempt, now);
        backoff = std::min(backoff * 2, backoff_max_ms);
    };

    while (!a.quit() && stop_requested == 0) {
        std::int64_t now = now_ms();
        if (!conn && now >= next_attempt) {
            try {
                conn.emplace(connect_to(opts));
                backoff = backoff_first_ms;
                a.connected(now);
            } catch (const std::exception& e) {
                drop(e.what());
            }
        }
        if (conn && a.take_reconnect()) {
            backoff = backoff_first_ms;
            drop("resync");
        }
        if (conn) {
            try {
                for (const std::string& out : a.take_outbox()) {
                    conn->send_line(out);
                }
            } catch (const std::exception& e) {
                drop(e.what());
            }
        }
        int rows = 0;
        int cols = 0;
        getmaxyx(stdscr, rows, cols);
        paint(render(a, rows, cols, now), scr.colors());
        if (a.take_bell()) {
            beep();
        }

        // Wait for a key, a line from arcd, the next second (ages count) or the next attempt.
        int timeout = static_cast<int>(1000 - now % 1000);
        if (!conn) {
            timeout = static_cast<int>(std::clamp<std::int64_t>(next_attempt - now, 0, timeout));
        }
        pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {-1, POLLIN, 0}};
        nfds_t nfds = 1;
        if (conn) {
            if (conn->has_line()) {
                timeout = 0;
            }
            fds[1].fd = conn->fd();
            nfds = 2;
        }
        const int ready = ::poll(fds, nfds, timeout);
        if (ready < 0 && errno != EINTR) {
            break;
        }
        now = now_ms();
        wint_t wch = 0;
        for (int rc = get_wch(&wch); rc != ERR; rc = get_wch(&wch)) {
            if (rc == KEY_CODE_YES && wch == KEY_RESIZE) {
                a.resized();
                continue;
            }
            if (const int k = map_key(rc, wch); k != 0) {
                a.key(k, now);
            }
        }
        if (conn) {
            try {
                // A bounded number of lines per turn keeps keys answered under a flood.
                for (int i = 0; i < 2000; ++i) {
                    auto msg = conn->try_read_line();
                    if (!msg) {
                        break;
                    }
                    a.line(*msg, now);
                }
            } catch (const std::exception& e) {
                drop(e.what());
            }
        }
        a.tick(now_ms());
    }
    return 0;
}

}  // namespace arc::console
