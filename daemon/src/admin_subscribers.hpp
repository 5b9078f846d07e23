// Purpose: the admin API's subscriber (assistito) and contact commands (docs/admin-api.md,
// "Subscribers"), kept apart from admin_api.cpp's device, alarm and operator commands.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "admin_api.hpp"
#include <nlohmann/json.hpp>

#include "arc/storage/subscribers.hpp"

namespace arc::daemon {

/// A refused field: the error code ("invalid", "bad_request") and a message starting with the
/// field's path ("address.comune: at most 100 bytes").
struct field_error {
    std::string code;
    std::string message;
};

/// A subscriber.add request's fields as a subscriber (contacts not read); the rules of
/// subscriber.add. Throws field_error.
arc::storage::subscriber subscriber_from_request(const nlohmann::json& req);

/// A contact.add request's fields as a contact (priority 0 when absent); the rules of
/// contact.add. Throws field_error.
arc::storage::contact contact_from_request(const nlohmann::json& req);

/// Answers of one request: exactly one of them is called, once.
struct admin_reply {
    std::function<void(nlohmann::json result)> ok;
    std::function<void(std::string_view code, std::string_view message)> fail;
    /// Whom the audit entries of this request name.
    audit_source source = {};
    /// When set (an operator of the operator API), subscriber.show with sensitive:true is
    /// refused ("forbidden") unless this says the requester may see subscriber ID's medical
    /// notes and key-safe code now (it holds one of the subscriber's open alarms).
    std::function<bool(std::int64_t subscriber_id)> may_view_sensitive;
};

/// Handles `cmd` when it is a subscriber.*, contact.* or device.assign command and returns true
/// (the reply comes inline for reads, after the commit for writes); false for other commands
/// (nothing called). Never throws.
bool handle_subscriber_command(const std::string& cmd, const nlohmann::json& req,
                               admin_backend& backend, const admin_reply& reply);

/// SUBSCRIBER as docs/admin-api.md describes it; `sensitive` includes medical_notes and
/// key_safe_code (else "sensitive_hidden":true); `devices` null leaves the key out.
nlohmann::json subscriber_to_json(const arc::storage::subscriber& s, bool sensitive,
                                  const std::vector<arc::storage::device>* devices,
                                  std::int64_t now_ms);

/// Validates the `subscriber` field of device.add: a positive integer id, or null/absent.
/// Throws std::invalid_argument with a message naming the field.
std::optional<std::int64_t> subscriber_id_field(const nlohmann::json& req);

}  // namespace arc::daemon
