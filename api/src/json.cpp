#include "arc/api/json.hpp"

#include <algorithm>
#include <array>
#include <ctime>
#include <iterator>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "arc/protocol/contact_id.hpp"
#include "arc/protocol/sia_dcs.hpp"

namespace arc::api {
namespace {

using nlohmann::json;

// Modifiers as a JSON object: sorted by name and, for a name given twice, the last value (what
// a std::map-backed nlohmann object made of them). Few per event: an insertion sort of indexes.
void append_modifiers(std::string& out,
                      const std::vector<std::pair<std::string, std::string>>& mods) {
    constexpr std::size_t inline_count = 16;
    std::array<std::size_t, inline_count> small{};
    std::vector<std::size_t> large;
    std::span<std::size_t> order;
    if (mods.size() <= inline_count) {
        order = std::span<std::size_t>(small.data(), mods.size());
    } else {
        large.resize(mods.size());
        order = std::span<std::size_t>(large);
    }
    for (std::size_t i = 0; i < mods.size(); ++i) {
        order[i] = i;
    }
    // Stable: equal names keep their input order, so the last of a run is the last given.
    std::stable_sort(order.begin(), order.end(), [&mods](std::size_t a, std::size_t b) {
        return mods[a].first < mods[b].first;
    });
    bool first = true;
    for (std::size_t i = 0; i < order.size(); ++i) {
        if (i + 1 < order.size() && mods[order[i + 1]].first == mods[order[i]].first) {
            continue;
        }
        if (!first) {
            out.push_back(',');
        }
        first = false;
        append_json_string(out, mods[order[i]].first);
        out.push_back(':');
        append_json_string(out, mods[order[i]].second);
    }
}

// "sia":{...}, with its trailing comma (see append_decoded_json).
void append_sia(std::string& out, const arc::protocol::sia_block& sia) {
    const auto str = [&out](std::string_view name, std::string_view value) {
        out.push_back('"');
        out.append(name);
        out.append("\":");
        append_json_string(out, value);
        out.push_back(',');
    };
    out.append("\"sia\":{");
    if (sia.account) {
        str("account", *sia.account);
    }
    out.append("\"events\":[");
    for (const auto& ev : sia.events) {
        out.push_back('{');
        str("address", ev.address);
        str("code", ev.code);
        str("function", std::string_view(&ev.function, 1));
        out.append(ev.known ? "\"known\":true," : "\"known\":false,");
        str("meaning", arc::protocol::sia_code_meaning(ev.code));
        out.append("\"modifiers\":{");
        append_modifiers(out, ev.modifiers);
        out.append("},");
        str("text", ev.text);
        out.back() = '}';
        out.push_back(',');
    }
    if (sia.events.empty()) {
        out.push_back(']');
    } else {
        out.back() = ']';
    }
    out.push_back(',');
    str("text", sia.ascii_text);
    out.back() = '}';
    out.push_back(',');
}

// Floor division so that times before 1970 still render (never expected, never wrong).
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) {
        --q;
    }
    return q;
}

std::string format_utc(std::int64_t ms, bool with_ms) {
    const std::int64_t secs = floor_div(ms, 1000);
    const std::int64_t frac = ms - secs * 1000;
    const auto t = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    if (with_ms) {
        return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900,
                           tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
    }
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                       tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

}  // namespace

nlohmann::json to_json(const arc::protocol::dc09_result& result) {
    // One rendering only: the tools see exactly the text arcd stores.
    std::string text;
    append_decoded_json(text, result);
    return json::parse(text);
}

void append_json_string(std::string& out, std::string_view text) {
    static constexpr std::string_view replacement = "\xEF\xBF\xBD";  // U+FFFD
    static constexpr std::string_view hex = "0123456789abcdef";
    out.push_back('"');
    const std::size_t n = text.size();
    std::size_t i = 0;
    while (i < n) {
        // Bytes that need no escaping are copied as one run.
        std::size_t run = i;
        while (run < n) {
            const auto u = static_cast<unsigned char>(text[run]);
            if (u < 0x20 || u >= 0x80 || u == '"' || u == '\\') {
                break;
            }
            ++run;
        }
        out.append(text.data() + i, run - i);
        i = run;
        if (i >= n) {
            break;
        }
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x80) {
            switch (c) {
                case '"':
                    out.append("\\\"");
                    break;
                case '\\':
                    out.append("\\\\");
                    break;
                case '\b':
                    out.append("\\b");
                    break;
                case '\t':
                    out.append("\\t");
                    break;
                case '\n':
                    out.append("\\n");
                    break;
                case '\f':
                    out.append("\\f");
                    break;
                case '\r':
                    out.append("\\r");
                    break;
                default:
                    out.append("\\u00");
                    out.push_back(hex[c >> 4U]);
                    out.push_back(hex[c & 0x0FU]);
                    break;
            }
            ++i;
            continue;
        }
        // Well-formed UTF-8 (Unicode Table 3-7), checked byte by byte as nlohmann's decoder
        // does: a lead byte that cannot start a sequence is replaced alone; a sequence cut short
        // is replaced by one U+FFFD and the byte that broke it is read again as a new start.
        std::size_t need = 0;
        unsigned lo = 0x80;
        unsigned hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
        } else if (c == 0xE0) {
            need = 2;
            lo = 0xA0;
        } else if (c == 0xED) {
            need = 2;
            hi = 0x9F;
        } else if (c >= 0xE1 && c <= 0xEF) {
            need = 2;
        } else if (c == 0xF0) {
            need = 3;
            lo = 0x90;
        } else if (c == 0xF4) {
            need = 3;
            hi = 0x8F;
        } else if (c >= 0xF1 && c <= 0xF3) {
            need = 3;
        } else {
            out.append(replacement);
            ++i;
            continue;
        }
        std::size_t j = i + 1;
        bool valid = true;
        for (std::size_t k = 0; k < need; ++k, ++j) {
            if (j >= n) {
                valid = false;
                break;
            }
            const auto b = static_cast<unsigned char>(text[j]);
            if (b < (k == 0 ? lo : 0x80U) || b > (k == 0 ? hi : 0xBFU)) {
                valid = false;
                break;
            }
        }
        if (valid) {
            out.append(text.data() + i, j - i);
        } else {
            out.append(replacement);
        }
        i = j;
    }
    out.push_back('"');
}

void append_decoded_json(std::string& out, const arc::protocol::dc09_result& result) {
    // Keys in sorted order: the order nlohmann::json (std::map objects) dumped them in, so the
    // stored text is the same as before this writer existed.
    const auto key = [&out](std::string_view name) {
        out.push_back('"');
        out.append(name);
        out.append("\":");
    };
    const auto str = [&out, &key](std::string_view name, std::string_view value) {
        key(name);
        append_json_string(out, value);
        out.push_back(',');
    };
    const auto boolean = [&out, &key](std::string_view name, bool value) {
        key(name);
        out.append(value ? "true," : "false,");
    };
    const auto* f = result.frame ? &*result.frame : nullptr;
    const auto* c = result.content ? &*result.content : nullptr;

    out.push_back('{');
    const std::size_t start = out.size();
    if (f != nullptr) {
        str("acct", f->acct);
    }
    if (result.cid) {
        const auto& cid = *result.cid;
        key("cid");
        out.push_back('{');
        if (cid.account) {
            str("account", *cid.account);
        }
        str("code", cid.event.code);
        str("group", cid.event.group);
        boolean("known", cid.event.known);
        str("meaning", arc::protocol::cid_code_meaning(cid.event.code));
        str("qualifier", std::string_view(&cid.event.qualifier, 1));
        str("zone", cid.event.zone);
        out.back() = '}';
        out.push_back(',');
    }
    if (c != nullptr) {
        str("data", c->data);
    }
    if (f != nullptr) {
        boolean("encrypted", f->encrypted);
    }
    if (result.skew_s || result.outside_window) {
        boolean("outside_window", result.outside_window);
    }
    if (f != nullptr) {
        str("pref", f->pref);
        if (f->rcvr) {
            str("rcvr", *f->rcvr);
        }
        str("seq", f->seq);
    }
    if (result.sia) {
        append_sia(out, *result.sia);
    }
    if (result.skew_s) {
        key("skew_s");
        fmt::format_to(std::back_inserter(out), "{},", *result.skew_s);
    }
    if (c != nullptr && c->timestamp) {
        str("timestamp", *c->timestamp);
    }
    if (f != nullptr) {
        str("token", f->token);
    }
    if (c != nullptr) {
        key("xdata");
        out.push_back('[');
        for (const auto& x : c->xdata) {
            append_json_string(out, x);
            out.push_back(',');
        }
        if (c->xdata.empty()) {
            out.push_back(']');
        } else {
            out.back() = ']';
        }
        out.push_back(',');
    }
    if (out.size() == start) {
        out.push_back('}');
    } else {
        out.back() = '}';
    }
}

nlohmann::json device_to_json(const arc::storage::device& dev) {
    const std::size_t key_bytes = dev.key ? dev.key->size() : 0;
    json out{{"account", dev.account},
             {"protocol", dev.protocol},
             {"encrypted", dev.key.has_value()},
             {"key_bits", key_bytes * 8},
             {"mode", std::string(arc::storage::to_string(dev.mode))},
             {"label", dev.label},
             {"created", iso8601_utc(dev.created_ms)}};
    if (dev.last_seen_ms) {
        out["last_seen"] = iso8601_utc(*dev.last_seen_ms);
    } else {
        out["last_seen"] = nullptr;
    }
    out["type"] = dev.device_type;
    out["interval_s"] = dev.interval_s ? json(*dev.interval_s) : json(nullptr);
    // Only a device in test mode has an automatic end; a stale value is not shown.
    if (dev.test_until_ms && dev.mode == arc::storage::device_mode::test) {
        out["test_until"] = iso8601_utc(*dev.test_until_ms);
    } else {
        out["test_until"] = nullptr;
    }
    out["vendor"] = dev.vendor;
    out["subscriber"] = dev.subscriber_id ? json(*dev.subscriber_id) : json(nullptr);
    return out;
}

nlohmann::json event_to_json(const arc::storage::event_record& ev) {
    json decoded = json::parse(ev.decoded_json, nullptr, false);
    if (decoded.is_discarded() || !decoded.is_object()) {
        decoded = json::object();
    }
    return json{{"id", ev.id},
                {"received", iso8601_utc_ms(ev.received_ms)},
                {"transport", ev.transport},
                {"peer", ev.peer},
                {"account", ev.account},
                {"raw", ev.raw},
                {"token", ev.token},
                {"seq", ev.seq},
                {"decoded", std::move(decoded)},
                {"reply_kind", ev.reply_kind},
                {"reply", ev.reply},
                {"error", ev.error},
                {"accepted", ev.accepted}};
}

std::string iso8601_utc_ms(std::int64_t ms) { return format_utc(ms, true); }

std::string iso8601_utc(std::int64_t ms) { return format_utc(ms, false); }

}  // namespace arc::api
