#include "arc/api/security_json.hpp"

#include <string>

#include "arc/api/json.hpp"

namespace arc::api {

using nlohmann::json;

std::string hash_hex(const arc::security::hash32& hash) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(hash.size() * 2);
    for (const std::uint8_t b : hash) {
        out.push_back(digits[b >> 4U]);
        out.push_back(digits[b & 0x0fU]);
    }
    return out;
}

json operator_to_json(const arc::storage::operator_account& op, std::int64_t now_ms) {
    return json{
        {"id", op.id},
        {"username", op.username},
        {"display_name", op.display_name},
        {"role", std::string(arc::storage::to_string(op.role))},
        {"disabled", op.disabled},
        {"locked_until", op.locked(now_ms) ? json(iso8601_utc(op.locked_until_ms)) : json(nullptr)},
        {"failed_logins", op.failed_logins},
        {"team_id", op.team_id ? json(*op.team_id) : json(nullptr)},
        {"created", iso8601_utc(op.created_ms)},
        {"updated", iso8601_utc(op.updated_ms)}};
}

json audit_to_json(const arc::security::chained_entry& e) {
    return json{{"seq", e.entry.seq},       {"at", iso8601_utc_ms(e.entry.at_ms)},
                {"actor", e.entry.actor},   {"action", e.entry.action},
                {"target", e.entry.target}, {"peer", e.entry.peer},
                {"detail", e.entry.detail}, {"hash", hash_hex(e.hash)}};
}

json audit_verify_to_json(const arc::security::chain_result& result,
                          const arc::storage::audit_head& head) {
    return json{{"intact", result.ok},
                {"entries", result.last_seq},
                {"head_seq", head.seq},
                {"head_hash", hash_hex(head.hash)},
                {"bad_seq", result.ok ? json(nullptr) : json(result.bad_seq)},
                {"reason", result.ok ? json(nullptr) : json(result.reason)}};
}

}  // namespace arc::api
