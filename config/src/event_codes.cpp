#include "arc/config/event_codes.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <tuple>
#include <utility>

#include <fmt/format.h>
#include <toml++/toml.h>

namespace arc::config {

namespace {

constexpr std::string_view class_names[] = {"critical", "urgent", "technical", "log_only"};

constexpr std::string_view kind_names[] = {
    "personal_emergency",
    "fall",
    "medical",
    "fire",
    "smoke",
    "heat",
    "co",
    "gas",
    "panic",
    "duress",
    "inactivity",
    "door_exit",
    "flood",
    "temperature",
    "low_battery",
    "mains_loss",
    "tamper",
    "comms_fail",
    "supervision_fail",
    "rf_jamming",
    "device_silent",
    "trouble",
    "periodic_test",
    "manual_test",
    "restore",
    "open_close",
    "system",
    "phone_report",
    "unknown",
};
static_assert(std::size(kind_names) == static_cast<std::size_t>(event_kind::unknown) + 1);

constexpr std::string_view family_names[] = {"sia", "cid", "scaip"};

std::size_t index_of(code_family family) { return static_cast<std::size_t>(family); }

// Codes are compared in one canonical spelling: SIA upper case; SCAIP numerically (PROTOCOLS.md
// §4.7: `stc` may come as "16" or "0016").
std::string canonical(code_family family, std::string_view code) {
    std::string out(code);
    if (family == code_family::sia) {
        std::transform(out.begin(), out.end(), out.begin(),
                       [](char c) { return static_cast<char>(std::toupper(c)); });
    } else if (family == code_family::scaip) {
        const auto first = out.find_first_not_of('0');
        out = first == std::string::npos ? (out.empty() ? out : "0") : out.substr(first);
    }
    return out;
}

template <typename Enum, std::size_t N>
std::optional<Enum> parse_name(const std::string_view (&names)[N], std::string_view text) {
    for (std::size_t i = 0; i < N; ++i) {
        if (names[i] == text) {
            return static_cast<Enum>(i);
        }
    }
    return std::nullopt;
}

template <std::size_t N>
std::string joined(const std::string_view (&names)[N]) {
    std::string out;
    for (const auto name : names) {
        out += out.empty() ? "" : ", ";
        out += name;
    }
    return out;
}

int line_of(const toml::node& node) { return static_cast<int>(node.source().begin.line); }

// Where an entry came from, to name it when a later check (restore pairing) fails.
struct origin {
    std::string file;
    int line = 0;
    std::string key;
};

class loader {
public:
    explicit loader(event_code_map& map) : map_(map) {}

    void load(const std::filesystem::path& path) {
        const std::string file = path.string();
        if (!std::ifstream(path)) {
            throw config_error(file, 0, "file", "cannot open the event-code map");
        }
        toml::table root;
        try {
            root = toml::parse_file(file);
        } catch (const toml::parse_error& e) {
            throw config_error(file, static_cast<int>(e.source().begin.line), "syntax",
                               std::string(e.description()));
        }
        for (const auto& [key, node] : root) {
            const std::string_view section = key.str();
            if (section == "vendor") {
                const auto* vendors = table_of(file, std::string(section), node);
                for (const auto& [vendor, vendor_node] : *vendors) {
                    const std::string prefix = fmt::format("vendor.{}", vendor.str());
                    const auto* families = table_of(file, prefix, vendor_node);
                    for (const auto& [fam, fam_node] : *families) {
                        load_family(file, prefix, fam.str(), fam_node, std::string(vendor.str()),
                                    line_of(fam_node));
                    }
                }
                continue;
            }
            load_family(file, "", section, node, {}, static_cast<int>(key.source().begin.line));
        }
    }

    // Every `restores` must name a code of the same family that the map knows.
    void check_pairs() const {
        for (const auto& [id, where] : origins_) {
            const auto& [family, vendor, code] = id;
            const event_code_entry* entry = map_.find(family, code, vendor);
            if (entry != nullptr && !entry->restores.empty() &&
                map_.find(family, entry->restores, vendor) == nullptr) {
                throw config_error(where.file, where.line, where.key + ".restores",
                                   fmt::format("restores unknown {} code '{}'", to_string(family),
                                               entry->restores));
            }
        }
    }

private:
    static const toml::table* table_of(const std::string& file, const std::string& key,
                                       const toml::node& node) {
        const auto* table = node.as_table();
        if (table == nullptr) {
            throw config_error(file, line_of(node), key, "expected a table");
        }
        return table;
    }

    void load_family(const std::string& file, const std::string& prefix,
                     std::string_view family_name, const toml::node& node,
                     const std::string& vendor, int line) {
        const std::string key =
            prefix.empty() ? std::string(family_name) : fmt::format("{}.{}", prefix, family_name);
        const auto family = parse_name<code_family>(family_names, family_name);
        if (!family) {
            throw config_error(file, line, key,
                               fmt::format("unknown section (sia, cid, scaip, vendor)"));
        }
        for (const auto& [code, entry_node] : *table_of(file, key, node)) {
            const std::string entry_key = fmt::format("{}.{}", key, code.str());
            std::string canon = canonical(*family, code.str());
            event_code_entry entry =
                read_entry(file, entry_key, *table_of(file, entry_key, entry_node));
            if (!entry.restores.empty()) {
                entry.restores = canonical(*family, entry.restores);
            }
            origins_[{*family, vendor, canon}] = origin{file, line_of(entry_node), entry_key};
            map_.set(*family, std::move(canon), std::move(entry), vendor);
        }
    }

    static std::string string_at(const std::string& file, const std::string& key,
                                 const toml::node& node) {
        const auto* value = node.as_string();
        if (value == nullptr) {
            throw config_error(file, line_of(node), key, "expected a string");
        }
        return value->get();
    }

    static event_code_entry read_entry(const std::string& file, const std::string& key,
                                       const toml::table& table) {
        event_code_entry entry;
        bool has_class = false;
        bool has_kind = false;
        for (const auto& [name_key, node] : table) {
            const std::string_view name = name_key.str();
            const std::string full = fmt::format("{}.{}", key, name);
            std::string value = string_at(file, full, node);
            if (name == "class") {
                const auto cls = parse_name<alarm_class>(class_names, value);
                if (!cls) {
                    throw config_error(
                        file, line_of(node), full,
                        fmt::format("unknown class '{}' ({})", value, joined(class_names)));
                }
                entry.cls = *cls;
                has_class = true;
            } else if (name == "kind") {
                const auto kind = parse_name<event_kind>(kind_names, value);
                if (!kind) {
                    throw config_error(file, line_of(node), full,
                                       fmt::format("unknown kind '{}'", value));
                }
                entry.kind = *kind;
                has_kind = true;
            } else if (name == "restores") {
                entry.restores = std::move(value);
            } else if (name == "it") {
                entry.label_it = std::move(value);
            } else if (name == "en") {
                entry.label_en = std::move(value);
            } else if (name == "restore_it") {
                entry.restore_label_it = std::move(value);
            } else if (name == "restore_en") {
                entry.restore_label_en = std::move(value);
            } else {
                throw config_error(
                    file, line_of(node), full,
                    "unknown key (class, kind, restores, it, en, restore_it, restore_en)");
            }
        }
        // A restore code's class is log_only and its kind "restore" unless written otherwise.
        if (!entry.restores.empty()) {
            entry.cls = has_class ? entry.cls : alarm_class::log_only;
            entry.kind = has_kind ? entry.kind : event_kind::restore;
        } else if (!has_class || !has_kind) {
            const auto line = static_cast<int>(table.source().begin.line);
            throw config_error(file, line, fmt::format("{}.{}", key, has_class ? "kind" : "class"),
                               "missing (every code needs a class and a kind, or restores)");
        }
        if (entry.label_it.empty() || entry.label_en.empty()) {
            throw config_error(file, static_cast<int>(table.source().begin.line),
                               fmt::format("{}.{}", key, entry.label_it.empty() ? "it" : "en"),
                               "missing label (every code has an Italian and an English label)");
        }
        return entry;
    }

    event_code_map& map_;
    std::map<std::tuple<code_family, std::string, std::string>, origin> origins_;
};

}  // namespace

std::string_view to_string(alarm_class value) noexcept {
    return class_names[static_cast<std::size_t>(value)];
}

std::string_view to_string(event_kind value) noexcept {
    return kind_names[static_cast<std::size_t>(value)];
}

std::string_view to_string(code_family value) noexcept {
    return family_names[static_cast<std::size_t>(value)];
}

std::optional<alarm_class> parse_alarm_class(std::string_view text) noexcept {
    return parse_name<alarm_class>(class_names, text);
}

std::optional<event_kind> parse_event_kind(std::string_view text) noexcept {
    return parse_name<event_kind>(kind_names, text);
}

void event_code_map::set(code_family family, std::string code, event_code_entry entry,
                         std::string vendor) {
    std::string canon = canonical(family, code);
    if (vendor.empty()) {
        base_[index_of(family)].insert_or_assign(std::move(canon), std::move(entry));
    } else {
        vendors_[vendor][index_of(family)].insert_or_assign(std::move(canon), std::move(entry));
    }
}

const event_code_entry* event_code_map::find(code_family family, std::string_view code,
                                             std::string_view vendor) const {
    const std::string canon = canonical(family, code);
    if (!vendor.empty()) {
        if (const auto v = vendors_.find(vendor); v != vendors_.end()) {
            const auto& table = v->second[index_of(family)];
            if (const auto it = table.find(canon); it != table.end()) {
                return &it->second;
            }
        }
    }
    const auto& table = base_[index_of(family)];
    const auto it = table.find(canon);
    return it == table.end() ? nullptr : &it->second;
}

std::size_t event_code_map::size(code_family family) const noexcept {
    return base_[index_of(family)].size();
}

classification event_code_map::classify(code_family family, std::string_view code, char qualifier,
                                        std::string_view vendor) const {
    classification out;
    const event_code_entry* entry = find(family, code, vendor);
    if (entry == nullptr) {
        // A telecare alarm must reach an operator: an unknown code is urgent, never dropped.
        out.cls = alarm_class::urgent;
        out.kind = event_kind::unknown;
        out.is_restore = family == code_family::cid && qualifier == '3';
        out.label_it = fmt::format("Evento sconosciuto ({} {})", to_string(family), code);
        out.label_en = fmt::format("Unknown event ({} {})", to_string(family), code);
        if (out.is_restore) {
            out.cls = alarm_class::log_only;
        }
        return out;
    }
    out.known = true;
    out.cls = entry->cls;
    out.kind = entry->kind;
    out.label_it = entry->label_it;
    out.label_en = entry->label_en;
    if (!entry->restores.empty()) {
        const event_code_entry* restored = find(family, entry->restores, vendor);
        out.is_restore = true;
        out.kind = restored != nullptr ? restored->kind : event_kind::unknown;
        return out;
    }
    if (family == code_family::cid && qualifier == '3') {
        // Contact ID qualifier 3 restores the condition its own code raised (§3.1).
        out.is_restore = true;
        out.cls = alarm_class::log_only;
        out.label_it = entry->restore_label_it.empty() ? "Ripristino: " + entry->label_it
                                                       : entry->restore_label_it;
        out.label_en = entry->restore_label_en.empty() ? "Restore: " + entry->label_en
                                                       : entry->restore_label_en;
    } else if (family == code_family::cid && qualifier == '6') {
        out.is_status = true;
    }
    return out;
}

event_code_map load_event_codes(const std::filesystem::path& defaults,
                                const std::vector<std::filesystem::path>& overrides) {
    event_code_map map;
    loader load(map);
    load.load(defaults);
    for (const auto& path : overrides) {
        load.load(path);
    }
    load.check_pairs();
    return map;
}

}  // namespace arc::config
