#include "arc/api/csv.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <utility>

namespace arc::api::csv {
namespace {

constexpr std::array<char, 3> bom{'\xEF', '\xBB', '\xBF'};

}  // namespace

reader::reader(char separator, limits lim) : sep_(separator), lim_(lim) {}

bool reader::fail(std::string message) {
    error_ = error{rows_ + 1, record_line_, std::move(message)};
    return false;
}

bool reader::end_cell() {
    if (!current_.bad_utf8 && !valid_utf8(cell_)) {
        current_.bad_utf8 = current_.cells.size();
    }
    if (current_.cells.size() >= lim_.max_fields) {
        return fail("more than " + std::to_string(lim_.max_fields) + " cells in one row");
    }
    current_.cells.push_back(std::move(cell_));
    cell_.clear();
    return true;
}

bool reader::end_record(std::vector<record>& out) {
    const bool has_data = record_has_data_;
    record done = std::move(current_);
    current_ = record{};
    record_has_data_ = false;
    if (has_data) {  // a line with nothing on it (not even "") is skipped
        if (rows_ + 1 > lim_.max_records) {
            return fail("more than " + std::to_string(lim_.max_records - 1) +
                        " rows after the header");
        }
        ++rows_;
        done.row = rows_;
        out.push_back(std::move(done));
    }
    record_line_ = line_;
    return true;
}

bool reader::put(char c) {
    if (cell_.size() >= lim_.max_cell) {
        return fail("a cell longer than " + std::to_string(lim_.max_cell) + " bytes");
    }
    cell_.push_back(c);
    return true;
}

bool reader::feed(std::string_view bytes, std::vector<record>& out) {
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (error_) {
            return false;
        }
        const char c = bytes[i];
        if (bom_seen_ < bom.size()) {
            if (c == bom.at(bom_seen_)) {
                ++bom_seen_;
                continue;
            }
            // Not a BOM after all: the bytes matched so far are data.
            const std::size_t matched = bom_seen_;
            bom_seen_ = bom.size();
            if (matched > 0 && !feed(std::string_view(bom.data(), matched), out)) {
                return false;
            }
        }
        switch (state_) {
            case state::after_cr:
                state_ = state::start_cell;
                if (c == '\n') {
                    continue;  // the LF of a CRLF
                }
                [[fallthrough]];
            case state::start_cell:
            case state::unquoted:
                if (c == sep_) {
                    record_has_data_ = true;
                    if (!end_cell()) {
                        return false;
                    }
                    state_ = state::start_cell;
                } else if (c == '\n' || c == '\r') {
                    ++line_;
                    if (record_has_data_ && !end_cell()) {
                        return false;
                    }
                    if (!end_record(out)) {
                        return false;
                    }
                    state_ = c == '\r' ? state::after_cr : state::start_cell;
                } else if (c == '"' && state_ == state::start_cell) {
                    record_has_data_ = true;
                    quote_line_ = line_;
                    state_ = state::quoted;
                } else {
                    // A quote inside an unquoted cell is kept as it is (spreadsheets write
                    // such cells: 12" monitor).
                    record_has_data_ = true;
                    if (!put(c)) {
                        return false;
                    }
                    state_ = state::unquoted;
                }
                break;
            case state::quoted:
                if (c == '"') {
                    quoted_cr_ = false;
                    state_ = state::quote_in_quoted;
                } else if (c == '\n' && quoted_cr_) {
                    quoted_cr_ = false;  // CRLF inside quotes: one LF, already stored
                } else if (c == '\r' || c == '\n') {
                    ++line_;
                    quoted_cr_ = c == '\r';
                    if (!put('\n')) {
                        return false;
                    }
                } else {
                    quoted_cr_ = false;
                    if (!put(c)) {
                        return false;
                    }
                }
                break;
            case state::quote_in_quoted:
                if (c == '"') {
                    state_ = state::quoted;
                    if (!put('"')) {
                        return false;
                    }
                } else if (c == sep_) {
                    if (!end_cell()) {
                        return false;
                    }
                    state_ = state::start_cell;
                } else if (c == '\n' || c == '\r') {
                    ++line_;
                    if (!end_cell() || !end_record(out)) {
                        return false;
                    }
                    state_ = c == '\r' ? state::after_cr : state::start_cell;
                } else {
                    return fail(
                        std::string("a character after the closing quote of a cell "
                                    "(a quote inside a quoted cell is written \"\")"));
                }
                break;
        }
    }
    return !error_;
}

bool reader::finish(std::vector<record>& out) {
    if (error_) {
        return false;
    }
    if (bom_seen_ < bom.size()) {
        const std::size_t matched = bom_seen_;
        bom_seen_ = bom.size();
        if (matched > 0 && !feed(std::string_view(bom.data(), matched), out)) {
            return false;
        }
    }
    if (state_ == state::quoted) {
        error_ =
            error{rows_ + 1, quote_line_,
                  "a quote opened on line " + std::to_string(quote_line_) + " is never closed"};
        return false;
    }
    if (record_has_data_) {
        if (!end_cell() || !end_record(out)) {
            return false;
        }
    }
    state_ = state::start_cell;
    return true;
}

char detect_separator(std::string_view text) {
    std::size_t semicolons = 0;
    std::size_t commas = 0;
    bool quoted = false;
    for (const char c : text) {
        if (c == '"') {
            quoted = !quoted;
        } else if (!quoted && (c == '\n' || c == '\r')) {
            break;
        } else if (!quoted && c == ';') {
            ++semicolons;
        } else if (!quoted && c == ',') {
            ++commas;
        }
    }
    return semicolons > commas ? ';' : ',';
}

bool valid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto b = static_cast<unsigned char>(s[i]);
        if (b < 0x80) {
            ++i;
            continue;
        }
        std::size_t n = 0;
        std::uint32_t cp = 0;
        if (b >= 0xC2 && b <= 0xDF) {
            n = 1;
            cp = b & 0x1FU;
        } else if (b >= 0xE0 && b <= 0xEF) {
            n = 2;
            cp = b & 0x0FU;
        } else if (b >= 0xF0 && b <= 0xF4) {
            n = 3;
            cp = b & 0x07U;
        } else {
            return false;
        }
        if (i + n >= s.size()) {
            return false;  // cut short
        }
        for (std::size_t k = 1; k <= n; ++k) {
            const auto cb = static_cast<unsigned char>(s[i + k]);
            if ((cb & 0xC0U) != 0x80U) {
                return false;
            }
            cp = (cp << 6U) | (cb & 0x3FU);
        }
        const bool overlong = (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000);
        if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        i += n + 1;
    }
    return true;
}

std::string write_record(const std::vector<std::string>& cells, char separator) {
    std::string out;
    for (std::size_t i = 0; i < cells.size(); ++i) {
        if (i > 0) {
            out.push_back(separator);
        }
        const std::string& c = cells[i];
        const bool quote =
            c.find_first_of(std::string{separator, '"', '\r', '\n'}) != std::string::npos ||
            (!c.empty() && (c.front() == ' ' || c.back() == ' '));
        if (!quote) {
            out += c;
            continue;
        }
        out.push_back('"');
        for (const char ch : c) {
            if (ch == '"') {
                out.push_back('"');
            }
            out.push_back(ch);
        }
        out.push_back('"');
    }
    out += "\r\n";
    return out;
}

namespace {

bool needs_guard(std::string_view cell) {
    if (cell.empty()) {
        return false;
    }
    const char c = cell.front();
    if (c == '=' || c == '@' || c == '\t' || c == '\r') {
        return true;
    }
    if (c == '+' || c == '-') {
        const char next = cell.size() > 1 ? cell[1] : ' ';
        return !(next == ' ' || (next >= '0' && next <= '9'));
    }
    return false;
}

// A cell the guard must mark: one a spreadsheet would run, or one that already reads as a guarded
// cell (apostrophes before such a cell), so that unguard_formula gives back exactly what was
// written: "'=1" is exported as "''=1" and imported as "'=1", not as "=1".
bool ambiguous(std::string_view cell) {
    while (!cell.empty() && cell.front() == '\'') {
        cell.remove_prefix(1);
    }
    return needs_guard(cell);
}

}  // namespace

std::string guard_formula(std::string cell) {
    if (ambiguous(cell)) {
        cell.insert(cell.begin(), '\'');
    }
    return cell;
}

std::string unguard_formula(std::string cell) {
    if (cell.size() > 1 && cell.front() == '\'' && ambiguous(std::string_view(cell).substr(1))) {
        cell.erase(cell.begin());
    }
    return cell;
}

}  // namespace arc::api::csv
