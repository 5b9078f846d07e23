// Purpose: CSV as spreadsheets export it (RFC 4180): an incremental reader (bytes in, records
// out, no I/O) and a writer, for arcctl's import/export of subscribers, contacts and devices.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace arc::api::csv {

/// What the reader refuses beyond (each a clear error, never a truncation).
struct limits {
    std::size_t max_cell = 8192;      ///< bytes in one cell
    std::size_t max_fields = 64;      ///< cells in one record
    std::size_t max_records = 50001;  ///< records including the header
};

/// One record: its number (1 = the first record, the header; a spreadsheet's row number) and
/// its cells. `bad_utf8` is the first cell (0-based) that is not valid UTF-8, if any.
struct record {
    std::size_t row = 0;
    std::vector<std::string> cells;
    std::optional<std::size_t> bad_utf8;
};

/// A fatal error: where (record number and 1-based physical line) and why.
struct error {
    std::size_t row = 0;
    std::size_t line = 0;
    std::string message;
};

/// RFC 4180 reader: quoted cells may hold the separator, doubled quotes and line breaks (CRLF
/// inside quotes becomes LF); records end with LF or CRLF; a UTF-8 BOM at the very start is
/// skipped; empty lines are skipped. Feed bytes in any chunks: the records are the same.
class reader {
public:
    explicit reader(char separator, limits lim = {});

    /// Parses `bytes`; appends the completed records to `out`. False once an error happened
    /// (then error() says why and further input is ignored).
    bool feed(std::string_view bytes, std::vector<record>& out);

    /// The end of the input: completes the last record (with or without a final line break).
    /// False on an error (a quote left open, ...).
    bool finish(std::vector<record>& out);

    /// The error, once feed() or finish() returned false.
    const std::optional<error>& failure() const noexcept { return error_; }

private:
    enum class state { start_cell, unquoted, quoted, quote_in_quoted, after_cr };
    bool fail(std::string message);
    bool end_cell();
    bool end_record(std::vector<record>& out);
    bool put(char c);

    char sep_;
    limits lim_;
    state state_ = state::start_cell;
    std::size_t bom_seen_ = 0;  // BOM bytes matched at the start (3: done or none)
    std::size_t line_ = 1;
    std::size_t record_line_ = 1;  // the line the current record started on
    std::size_t quote_line_ = 1;   // the line the open quote is on
    bool quoted_cr_ = false;       // the last byte was a CR inside quotes
    std::size_t rows_ = 0;
    std::string cell_;
    record current_;
    bool record_has_data_ = false;
    std::optional<error> error_;
};

/// The separator of a file from its first line (outside quotes): ';' when it has more ';' than
/// ',', else ','.
char detect_separator(std::string_view text);

/// Whether `s` is valid UTF-8 (no overlongs, no surrogates, at most U+10FFFF).
bool valid_utf8(std::string_view s);

/// A cell as a spreadsheet must not run it: one starting with '=', '@', a tab or a CR, or with
/// '+' or '-' not followed by a digit or a space (a formula, not "+39 335…" or "-5"), gets a
/// leading apostrophe, which spreadsheets show as text; so does a cell of apostrophes before such a
/// cell ("'=1" is written "''=1"). unguard_formula undoes exactly that: unguard(guard(x)) == x.
std::string guard_formula(std::string cell);
/// The cell as written before guard_formula (an apostrophe followed by what it guards is
/// dropped; anything else is left alone).
std::string unguard_formula(std::string cell);

/// One record as a line ending in CRLF; cells holding the separator, a quote, CR or LF (or
/// starting/ending with a space) are quoted, quotes doubled.
std::string write_record(const std::vector<std::string>& cells, char separator);

}  // namespace arc::api::csv
