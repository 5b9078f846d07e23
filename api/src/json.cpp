#include "arc/api/json.hpp"

#include <ctime>
#include <string_view>

#include <fmt/format.h>

#include "arc/protocol/contact_id.hpp"
#include "arc/protocol/sia_dcs.hpp"

namespace arc::api {
namespace {

using nlohmann::json;

json sia_to_json(const arc::protocol::sia_block& sia) {
    json out = json::object();
    if (sia.account) {
        out["account"] = *sia.account;
    }
    json events = json::array();
    for (const auto& ev : sia.events) {
        json mods = json::object();
        for (const auto& [name, value] : ev.modifiers) {
            mods[name] = value;
        }
        events.push_back(json{{"function", std::string(1, ev.function)},
                              {"code", ev.code},
                              {"address", ev.address},
                              {"modifiers", std::move(mods)},
                              {"text", ev.text},
                              {"known", ev.known},
                              {"meaning", std::string(arc::protocol::sia_code_meaning(ev.code))}});
    }
    out["events"] = std::move(events);
    out["text"] = sia.ascii_text;
    return out;
}

json cid_to_json(const arc::protocol::cid_block& cid) {
    json out = json::object();
    if (cid.account) {
        out["account"] = *cid.account;
    }
    out["qualifier"] = std::string(1, cid.event.qualifier);
    out["code"] = cid.event.code;
    out["group"] = cid.event.group;
    out["zone"] = cid.event.zone;
    out["known"] = cid.event.known;
    out["meaning"] = std::string(arc::protocol::cid_code_meaning(cid.event.code));
    return out;
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
    json out = json::object();
    if (result.frame) {
        const auto& f = *result.frame;
        out["token"] = f.token;
        out["encrypted"] = f.encrypted;
        out["seq"] = f.seq;
        if (f.rcvr) {
            out["rcvr"] = *f.rcvr;
        }
        out["pref"] = f.pref;
        out["acct"] = f.acct;
    }
    if (result.content) {
        const auto& c = *result.content;
        out["data"] = c.data;
        out["xdata"] = c.xdata;
        if (c.timestamp) {
            out["timestamp"] = *c.timestamp;
        }
    }
    if (result.skew_s) {
        out["skew_s"] = *result.skew_s;
    }
    if (result.skew_s || result.outside_window) {
        out["outside_window"] = result.outside_window;
    }
    if (result.sia) {
        out["sia"] = sia_to_json(*result.sia);
    }
    if (result.cid) {
        out["cid"] = cid_to_json(*result.cid);
    }
    return out;
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
