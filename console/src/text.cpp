#include "arc/console/text.hpp"

#include <cctype>

#include <fmt/format.h>

namespace arc::console {
namespace {

char32_t sanitize(char32_t cp) {
    if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)) {
        return U'?';
    }
    return cp;
}

// Howard Hinnant's days_from_civil.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? static_cast<unsigned>(-3) : 9u)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct civil {
    std::int64_t y;
    unsigned m;
    unsigned d;
};

civil civil_from_days(std::int64_t z) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return {y + (m <= 2 ? 1 : 0), m, d};
}

bool digits(std::string_view text, std::size_t pos, std::size_t n, unsigned& out) {
    if (pos + n > text.size()) {
        return false;
    }
    out = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (std::isdigit(static_cast<unsigned char>(text[i])) == 0) {
            return false;
        }
        out = out * 10 + static_cast<unsigned>(text[i] - '0');
    }
    return true;
}

}  // namespace

std::u32string decode_utf8(std::string_view text) {
    std::u32string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        const auto b = static_cast<unsigned char>(text[i]);
        std::size_t len = 0;
        char32_t cp = 0;
        if (b < 0x80) {
            len = 1;
            cp = b;
        } else if ((b & 0xe0) == 0xc0) {
            len = 2;
            cp = b & 0x1fu;
        } else if ((b & 0xf0) == 0xe0) {
            len = 3;
            cp = b & 0x0fu;
        } else if ((b & 0xf8) == 0xf0) {
            len = 4;
            cp = b & 0x07u;
        } else {
            out.push_back(U'\uFFFD');
            ++i;
            continue;
        }
        if (i + len > text.size()) {
            out.push_back(U'\uFFFD');
            ++i;
            continue;
        }
        bool ok = true;
        for (std::size_t k = 1; k < len; ++k) {
            const auto c = static_cast<unsigned char>(text[i + k]);
            if ((c & 0xc0) != 0x80) {
                ok = false;
                break;
            }
            cp = (cp << 6) | (c & 0x3fu);
        }
        const bool overlong =
            (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
        if (!ok || overlong || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            out.push_back(U'\uFFFD');
            ++i;
            continue;
        }
        out.push_back(sanitize(cp));
        i += len;
    }
    return out;
}

void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
        out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
}

std::string encode_utf8(std::u32string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char32_t cp : text) {
        append_utf8(out, cp);
    }
    return out;
}

std::size_t columns(std::string_view text) { return decode_utf8(text).size(); }

std::string fit(std::string_view text, std::size_t width, bool ellipsis, bool ascii) {
    std::u32string cps = decode_utf8(text);
    if (cps.size() <= width) {
        return encode_utf8(cps);
    }
    if (width == 0) {
        return {};
    }
    cps.resize(width);
    if (ellipsis) {
        cps.back() = ascii ? U'~' : U'\u2026';
    }
    return encode_utf8(cps);
}

std::string pad(std::string_view text, std::size_t width, bool right) {
    std::string cut = fit(text, width);
    const std::size_t n = columns(cut);
    const std::string fill(width - n, ' ');
    return right ? fill + cut : cut + fill;
}

std::optional<std::int64_t> parse_iso8601_ms(std::string_view text) {
    unsigned y = 0;
    unsigned mo = 0;
    unsigned d = 0;
    unsigned h = 0;
    unsigned mi = 0;
    unsigned s = 0;
    if (text.size() < 20 || !digits(text, 0, 4, y) || text[4] != '-' || !digits(text, 5, 2, mo) ||
        text[7] != '-' || !digits(text, 8, 2, d) || text[10] != 'T' || !digits(text, 11, 2, h) ||
        text[13] != ':' || !digits(text, 14, 2, mi) || text[16] != ':' || !digits(text, 17, 2, s)) {
        return std::nullopt;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) {
        return std::nullopt;
    }
    std::size_t pos = 19;
    unsigned ms = 0;
    if (text[pos] == '.') {
        ++pos;
        unsigned scale = 100;
        while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])) != 0) {
            ms += static_cast<unsigned>(text[pos] - '0') * scale;
            scale /= 10;
            ++pos;
        }
    }
    if (pos != text.size() - 1 || text[pos] != 'Z') {
        return std::nullopt;
    }
    const std::int64_t days = days_from_civil(y, mo, d);
    return ((days * 24 + h) * 60 + mi) * 60000 + static_cast<std::int64_t>(s) * 1000 + ms;
}

std::string format_age(std::int64_t age_ms) {
    const std::int64_t secs = age_ms < 0 ? 0 : age_ms / 1000;
    if (secs < 3600) {
        return fmt::format("{:02}:{:02}", secs / 60, secs % 60);
    }
    return fmt::format("{}:{:02}", secs / 3600, (secs / 60) % 60);
}

std::string clock_of_ms(std::int64_t ms) {
    std::int64_t secs = ms / 1000;
    if (ms < 0 && ms % 1000 != 0) {
        --secs;
    }
    std::int64_t tod = secs % 86400;
    if (tod < 0) {
        tod += 86400;
    }
    return fmt::format("{:02}:{:02}:{:02}", tod / 3600, (tod / 60) % 60, tod % 60);
}

std::string clock_of(std::string_view iso) {
    if (const auto ms = parse_iso8601_ms(iso)) {
        return clock_of_ms(*ms);
    }
    return std::string(iso);
}

std::optional<int> age_in_years(std::string_view birth_date, std::int64_t now_ms) {
    unsigned y = 0;
    unsigned m = 0;
    unsigned d = 0;
    if (birth_date.size() != 10 || !digits(birth_date, 0, 4, y) || birth_date[4] != '-' ||
        !digits(birth_date, 5, 2, m) || birth_date[7] != '-' || !digits(birth_date, 8, 2, d) ||
        m < 1 || m > 12 || d < 1 || d > 31) {
        return std::nullopt;
    }
    std::int64_t day = now_ms / 86400000;
    if (now_ms < 0 && now_ms % 86400000 != 0) {
        --day;
    }
    const civil now = civil_from_days(day);
    auto years = static_cast<int>(now.y - static_cast<std::int64_t>(y));
    if (now.m < m || (now.m == m && now.d < d)) {
        --years;
    }
    if (years < 0 || years > 150) {
        return std::nullopt;
    }
    return years;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}

}  // namespace arc::console
