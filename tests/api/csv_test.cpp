// The CSV reader and writer of arcctl import/export: quoting, both separators, BOM, CRLF,
// accents, invalid UTF-8, limits; every input split at every offset and fed byte by byte.
#include "arc/api/csv.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

namespace csv = arc::api::csv;

struct parsed {
    std::vector<csv::record> records;
    std::optional<csv::error> err;
};

parsed parse_chunks(const std::vector<std::string_view>& chunks, char sep, csv::limits lim = {}) {
    csv::reader r(sep, lim);
    parsed p;
    bool ok = true;
    for (const auto chunk : chunks) {
        ok = ok && r.feed(chunk, p.records);
    }
    ok = ok && r.finish(p.records);
    if (!ok) {
        p.err = r.failure();
    }
    return p;
}

parsed parse(std::string_view text, char sep, csv::limits lim = {}) {
    return parse_chunks({text}, sep, lim);
}

std::vector<std::vector<std::string>> cells(const parsed& p) {
    std::vector<std::vector<std::string>> out;
    for (const auto& r : p.records) {
        out.push_back(r.cells);
    }
    return out;
}

// The same records (or the same error) whatever the split: at every offset and byte by byte.
void expect_split_invariant(std::string_view text, char sep) {
    const parsed whole = parse(text, sep);
    for (std::size_t at = 0; at <= text.size(); ++at) {
        const parsed split = parse_chunks({text.substr(0, at), text.substr(at)}, sep);
        EXPECT_EQ(cells(split), cells(whole)) << "split at " << at;
        EXPECT_EQ(split.err.has_value(), whole.err.has_value()) << "split at " << at;
        ASSERT_EQ(split.records.size(), whole.records.size());
        for (std::size_t i = 0; i < split.records.size(); ++i) {
            EXPECT_EQ(split.records[i].row, whole.records[i].row);
            EXPECT_EQ(split.records[i].bad_utf8, whole.records[i].bad_utf8);
        }
    }
    std::vector<std::string_view> bytes;
    for (std::size_t i = 0; i < text.size(); ++i) {
        bytes.push_back(text.substr(i, 1));
    }
    const parsed one = parse_chunks(bytes, sep);
    EXPECT_EQ(cells(one), cells(whole)) << "byte by byte";
    EXPECT_EQ(one.err.has_value(), whole.err.has_value()) << "byte by byte";
}

using rows = std::vector<std::vector<std::string>>;

TEST(csv, semicolon_file_with_accents_and_quotes) {
    const std::string text =
        "code;last_name;first_name;comune\r\n"
        "TS-1;Rossi;Nicolò;Forlì\r\n"
        "TS-2;\"D'Amico; Bianchi\";\"Anna \"\"Nina\"\"\";Sant'Antonino di Susa\r\n";
    const parsed p = parse(text, ';');
    ASSERT_FALSE(p.err);
    EXPECT_EQ(cells(p),
              (rows{{"code", "last_name", "first_name", "comune"},
                    {"TS-1", "Rossi", "Nicolò", "Forlì"},
                    {"TS-2", "D'Amico; Bianchi", "Anna \"Nina\"", "Sant'Antonino di Susa"}}));
    EXPECT_EQ(p.records[2].row, 3U);
    EXPECT_FALSE(p.records[1].bad_utf8);
    expect_split_invariant(text, ';');
}

TEST(csv, comma_file_lf_no_final_newline) {
    const std::string text = "code,comune\nTS-1,\"Torino, centro\"\nTS-2,Forlì";
    const parsed p = parse(text, ',');
    ASSERT_FALSE(p.err);
    EXPECT_EQ(cells(p), (rows{{"code", "comune"}, {"TS-1", "Torino, centro"}, {"TS-2", "Forlì"}}));
    expect_split_invariant(text, ',');
}

TEST(csv, bom_is_skipped_only_at_the_start) {
    const std::string text =
        "\xEF\xBB\xBF"
        "code;nome\nTS-1;\xEF\xBB\xBFx\n";
    const parsed p = parse(text, ';');
    ASSERT_FALSE(p.err);
    EXPECT_EQ(cells(p), (rows{{"code", "nome"}, {"TS-1", "\xEF\xBB\xBFx"}}));
    expect_split_invariant(text, ';');
}

TEST(csv, a_partial_bom_is_data) {
    const std::string text = "\xEF\xBC\x81;b\n";  // U+FF01, starts like a BOM
    const parsed p = parse(text, ';');
    ASSERT_FALSE(p.err);
    EXPECT_EQ(cells(p), (rows{{"\xEF\xBC\x81", "b"}}));
    expect_split_invariant(text, ';');
}

TEST(csv, newlines_inside_quotes_become_lf_and_rows_count_records) {
    const std::string text = "a;b\r\n\"line 1\r\nline 2\";x\r\n\"l1\nl2\";y\r\nlast;z\r\n";
    const parsed p = parse(text, ';');
    ASSERT_FALSE(p.err);
    EXPECT_EQ(cells(p),
              (rows{{"a", "b"}, {"line 1\nline 2", "x"}, {"l1\nl2", "y"}, {"last", "z"}}));
    EXPECT_EQ(p.records[3].row, 4U);
    expect_split_invariant(text, ';');
}

TEST(csv, empty_cells_and_empty_lines) {
    const std::string text = "a;b;c\n;;\n\n\"\";x;\n";
    const parsed p = parse(text, ';');
    ASSERT_FALSE(p.err);
    EXPECT_EQ(cells(p), (rows{{"a", "b", "c"}, {"", "", ""}, {"", "x", ""}}));
    expect_split_invariant(text, ';');
}

TEST(csv, invalid_utf8_names_the_cell) {
    const std::string text = "a;b;c\nok;Forl\xEC;x\n";  // Latin-1 'ì'
    const parsed p = parse(text, ';');
    ASSERT_FALSE(p.err);
    ASSERT_EQ(p.records.size(), 2U);
    EXPECT_EQ(p.records[1].bad_utf8, std::optional<std::size_t>(1));
    EXPECT_FALSE(p.records[0].bad_utf8);
    expect_split_invariant(text, ';');
}

TEST(csv, quote_left_open_is_an_error_naming_its_line) {
    const std::string text = "a;b\nx;\"never closed\nmore;stuff\n";
    const parsed p = parse(text, ';');
    ASSERT_TRUE(p.err);
    EXPECT_EQ(p.err->line, 2U);
    EXPECT_NE(p.err->message.find("never closed"), std::string::npos) << p.err->message;
    expect_split_invariant(text, ';');
}

TEST(csv, text_after_a_closing_quote_is_an_error) {
    const parsed p = parse("a;b\n\"x\"y;z\n", ';');
    ASSERT_TRUE(p.err);
    EXPECT_EQ(p.err->row, 2U);
    expect_split_invariant("a;b\n\"x\"y;z\n", ';');
}

TEST(csv, a_quote_inside_an_unquoted_cell_is_kept) {
    const parsed p = parse("12\" monitor;b\n", ';');
    ASSERT_FALSE(p.err);
    EXPECT_EQ(cells(p), (rows{{"12\" monitor", "b"}}));
}

TEST(csv, limits_are_refused_with_a_message) {
    csv::limits lim;
    lim.max_cell = 4;
    parsed p = parse("abcd;abcde\n", ';', lim);
    ASSERT_TRUE(p.err);
    EXPECT_NE(p.err->message.find("longer than 4 bytes"), std::string::npos);

    lim = {};
    lim.max_records = 3;  // header + 2
    p = parse("h\n1\n2\n", ';', lim);
    EXPECT_FALSE(p.err);
    p = parse("h\n1\n2\n3\n", ';', lim);
    ASSERT_TRUE(p.err);
    EXPECT_NE(p.err->message.find("more than 2 rows"), std::string::npos) << p.err->message;

    lim = {};
    lim.max_fields = 2;
    p = parse("a;b;c\n", ';', lim);
    ASSERT_TRUE(p.err);
    EXPECT_NE(p.err->message.find("more than 2 cells"), std::string::npos);
}

TEST(csv, detects_the_separator_from_the_header) {
    EXPECT_EQ(csv::detect_separator("codice;cognome;nome\na,b,c,d,e\n"), ';');
    EXPECT_EQ(csv::detect_separator("code,last_name,first_name\n"), ',');
    EXPECT_EQ(csv::detect_separator("\"a;b;c\",x\n"), ',');  // quoted ';' do not count
    EXPECT_EQ(csv::detect_separator("only\n"), ',');
}

TEST(csv, utf8_validation) {
    EXPECT_TRUE(csv::valid_utf8("Nicolò Forlì €𝄞"));
    EXPECT_FALSE(csv::valid_utf8("\xC0\xAF"));          // overlong
    EXPECT_FALSE(csv::valid_utf8("\xED\xA0\x80"));      // surrogate
    EXPECT_FALSE(csv::valid_utf8("\xE2\x82"));          // cut short
    EXPECT_FALSE(csv::valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
    EXPECT_FALSE(csv::valid_utf8("\x80"));
}

TEST(csv, write_then_read_round_trips) {
    const rows data{{"code", "note", "x"},
                    {"TS-1", "a;b", "say \"hi\""},
                    {"TS-2", "line 1\nline 2", " padded "},
                    {"TS-3", "", "Sant'Antonino, Forlì"}};
    for (const char sep : {';', ','}) {
        std::string text;
        for (const auto& r : data) {
            text += csv::write_record(r, sep);
        }
        const parsed p = parse(text, sep);
        ASSERT_FALSE(p.err);
        EXPECT_EQ(cells(p), data) << text;
        EXPECT_EQ(csv::detect_separator(text), sep);
        expect_split_invariant(text, sep);
    }
}

TEST(csv, formulas_are_written_as_text_and_read_back_as_given) {
    // What a spreadsheet would run: guarded with an apostrophe.
    for (const std::string f :
         {"=HYPERLINK(\"http://x\")", "@SUM(A1)", "+A1", "-A1+1", "=1+1", "\tx", "\rx"}) {
        EXPECT_EQ(csv::guard_formula(f), "'" + f) << f;
        EXPECT_EQ(csv::unguard_formula(csv::guard_formula(f)), f) << f;
    }
    // What is data: phones, negative numbers, ordinary text, an apostrophe of its own.
    for (const std::string d : {"+39 335 1234567", "+390543712000", "-5", "- nota", "D'Amico",
                                "'tra apici'", "", "Forlì", "'"}) {
        EXPECT_EQ(csv::guard_formula(d), d) << d;
        EXPECT_EQ(csv::unguard_formula(d), d) << d;
    }
    // Text that already looks guarded keeps its own apostrophes through export and import.
    for (const std::string g : {"'=1+1", "''@SUM(A1)", "'+A1", "'\tx"}) {
        EXPECT_EQ(csv::guard_formula(g), "'" + g) << g;
        EXPECT_EQ(csv::unguard_formula(csv::guard_formula(g)), g) << g;
    }
}

}  // namespace
