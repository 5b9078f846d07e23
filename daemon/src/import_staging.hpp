// Purpose: CSV imports staged in arcd between the requests that carry their rows
// (import.begin, import.rows, import.commit; admin_import.cpp), bounded in count, rows and age.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace arc::daemon {

/// The staged imports of one arcd (caller's thread only).
struct import_staging {
    /// One import: its kind, the file name arcctl read (for the audit) and its rows as sent
    /// ({"row":N,"cells":{column:text}}).
    struct staged {
        std::string kind;
        std::string file;
        std::int64_t touched_ms = 0;
        std::size_t bytes = 0;
        std::vector<nlohmann::json> rows;
    };
    std::map<std::string, staged> imports;
    std::uint64_t next_id = 1;
};

}  // namespace arc::daemon
