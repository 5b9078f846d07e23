// libFuzzer: the CSV reader of arcctl import on arbitrary bytes with both separators. Feeding the
// input whole or in two pieces must give the same records (or an error either way); cells stay
// within the limits; what the writer writes reads back as the same cells.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "arc/api/csv.hpp"

namespace {

namespace csv = arc::api::csv;

constexpr csv::limits lim{64, 16, 64};

bool parse(const std::vector<std::string_view>& chunks, char sep, std::vector<csv::record>& out) {
    csv::reader r(sep, lim);
    for (const auto c : chunks) {
        if (!r.feed(c, out)) {
            return false;
        }
    }
    return r.finish(out);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): libFuzzer's byte buffer
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const char detected = csv::detect_separator(text);
    if (detected != ';' && detected != ',') {
        std::abort();
    }
    for (const char sep : {';', ','}) {
        std::vector<csv::record> whole;
        const bool ok = parse({text}, sep, whole);
        const std::size_t at = size == 0 ? 0 : data[0] % (size + 1);
        std::vector<csv::record> split;
        const bool ok_split = parse({text.substr(0, at), text.substr(at)}, sep, split);
        if (ok != ok_split || (ok && whole.size() != split.size())) {
            std::abort();
        }
        if (!ok) {
            continue;
        }
        for (std::size_t i = 0; i < whole.size(); ++i) {
            if (whole[i].cells != split[i].cells || whole[i].cells.size() > lim.max_fields) {
                std::abort();
            }
            for (const auto& c : whole[i].cells) {
                if (c.size() > lim.max_cell) {
                    std::abort();
                }
            }
            // Written and read back: the same cells (with a BOM first, as arcctl export
            // writes, so a cell that starts with U+FEFF stays data).
            std::vector<csv::record> again;
            if (!parse({"\xEF\xBB\xBF" + csv::write_record(whole[i].cells, sep)}, sep, again)) {
                std::abort();
            }
            const bool blank = whole[i].cells.size() == 1 && whole[i].cells[0].empty();
            if (!blank && (again.size() != 1 || again[0].cells != whole[i].cells)) {
                std::abort();
            }
        }
    }
    return 0;
}
