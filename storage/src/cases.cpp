#include "arc/storage/cases.hpp"

#include "field_keys.hpp"
#include "sqlite_util.hpp"
#include <fmt/format.h>
#include <sqlite3.h>

namespace arc::storage {

void insert_case(database& db, const phone_case& c) {
    detail::statement stmt(db,
                           "INSERT INTO cases (alarm_id, category, caller_kind, caller_name, "
                           "caller_phone, subscriber_id, person_name, person_details, comune, "
                           "address, summary, created_by, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, "
                           "?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
    // Bound without a copy: the sealed bytes must outlive step().
    const detail::stored_secret caller_name = detail::secret_to_store(c.caller_name);
    const detail::stored_secret caller_phone = detail::secret_to_store(c.caller_phone);
    const detail::stored_secret person_name = detail::secret_to_store(c.person_name);
    const detail::stored_secret person_details = detail::secret_to_store(c.person_details);
    const detail::stored_secret address = detail::secret_to_store(c.address);
    const detail::stored_secret summary = detail::secret_to_store(c.summary);
    stmt.bind(1, c.alarm_id);
    stmt.bind_text(2, c.category);
    stmt.bind_text(3, c.caller_kind);
    detail::bind_secret(stmt, 4, caller_name);
    detail::bind_secret(stmt, 5, caller_phone);
    if (c.subscriber_id) {
        stmt.bind(6, *c.subscriber_id);
    } else {
        stmt.bind_null(6);
    }
    detail::bind_secret(stmt, 7, person_name);
    detail::bind_secret(stmt, 8, person_details);
    stmt.bind_text(9, c.comune);
    detail::bind_secret(stmt, 10, address);
    detail::bind_secret(stmt, 11, summary);
    stmt.bind_text(12, c.created_by);
    stmt.bind(13, c.created_ms);
    stmt.step();
}

std::optional<phone_case> find_case(database& db, std::int64_t alarm_id) {
    detail::statement stmt(db,
                           "SELECT alarm_id, category, caller_kind, caller_name, caller_phone, "
                           "subscriber_id, person_name, person_details, comune, address, summary, "
                           "created_by, created_ms FROM cases WHERE alarm_id = ?1");
    stmt.bind(1, alarm_id);
    if (!stmt.step()) {
        return std::nullopt;
    }
    const std::string owner = fmt::format("case {}", alarm_id);
    phone_case c;
    c.alarm_id = stmt.column_int64(0);
    c.category = stmt.column_bytes(1);
    c.caller_kind = stmt.column_bytes(2);
    c.caller_name = detail::secret_from_store(stmt, 3, owner, "caller_name");
    c.caller_phone = detail::secret_from_store(stmt, 4, owner, "caller_phone");
    if (stmt.column_type(5) != SQLITE_NULL) {
        c.subscriber_id = stmt.column_int64(5);
    }
    c.person_name = detail::secret_from_store(stmt, 6, owner, "person_name");
    c.person_details = detail::secret_from_store(stmt, 7, owner, "person_details");
    c.comune = stmt.column_bytes(8);
    c.address = detail::secret_from_store(stmt, 9, owner, "address");
    c.summary = detail::secret_from_store(stmt, 10, owner, "summary");
    c.created_by = stmt.column_bytes(11);
    c.created_ms = stmt.column_int64(12);
    return c;
}

}  // namespace arc::storage
