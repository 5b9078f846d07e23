// Purpose: JSON renderings of operators and the audit trail for the admin API (docs/admin-api.md:
// OPERATOR, AUDIT, the audit.verify result), shared by arcd and arcctl's offline verify.
#pragma once

#include <nlohmann/json.hpp>

#include "arc/security/audit_chain.hpp"
#include "arc/storage/security.hpp"

namespace arc::api {

/// OPERATOR: {"id","username","display_name","role","disabled","locked_until":ISO-8601|null,
/// "failed_logins","created","updated"}. Never the password hash.
nlohmann::json operator_to_json(const arc::storage::operator_account& op, std::int64_t now_ms);

/// AUDIT: {"seq","at":ISO-8601 with ms,"actor","action","target","peer","detail","hash":hex}.
nlohmann::json audit_to_json(const arc::security::chained_entry& entry);

/// The audit.verify result: {"intact":bool,"entries":N (last seq checked),"head_seq",
/// "head_hash":hex,"bad_seq":seq|null,"reason":text|null}.
nlohmann::json audit_verify_to_json(const arc::security::chain_result& result,
                                    const arc::storage::audit_head& head);

/// Lower-case hex of a hash.
std::string hash_hex(const arc::security::hash32& hash);

}  // namespace arc::api
