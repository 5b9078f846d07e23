#include "arc/protocol/sia_dcs.hpp"

#include <algorithm>
#include <array>
#include <cstddef>

#include "arc/protocol/error.hpp"

namespace arc::protocol {

namespace {

struct sia_code {
    std::string_view code;
    std::string_view meaning;
};

// SIA DC-03 event codes with their names, as listed in the pysiaalarm code table (derived from
// DC-03; it also carries a few vendor codes such as Ajax's AF/NB/PC). Sorted for binary search.
constexpr std::array sia_codes{
    sia_code{"AA", "Alarm - Panel Substitution"},
    sia_code{"AB", "Abort"},
    sia_code{"AF", "Arming Event - Scenario"},
    sia_code{"AN", "Analog Restoral"},
    sia_code{"AR", "AC Restoral"},
    sia_code{"AS", "Analog Service"},
    sia_code{"AT", "AC Trouble"},
    sia_code{"BA", "Burglary Alarm"},
    sia_code{"BB", "Burglary Bypass"},
    sia_code{"BC", "Burglary Cancel"},
    sia_code{"BD", "Swinger Trouble"},
    sia_code{"BE", "Swinger Trouble Restore"},
    sia_code{"BG", "Unverified Event - Burglary"},
    sia_code{"BH", "Burglary Alarm Restore"},
    sia_code{"BJ", "Burglary Trouble Restore"},
    sia_code{"BM", "Burglary Alarm - Cross Point"},
    sia_code{"BR", "Burglary Restoral"},
    sia_code{"BS", "Burglary Supervisory"},
    sia_code{"BT", "Burglary Trouble"},
    sia_code{"BU", "Burglary Unbypass"},
    sia_code{"BV", "Burglary Verified"},
    sia_code{"BX", "Burglary Test"},
    sia_code{"BZ", "Missing Supervision"},
    sia_code{"CA", "Automatic Closing"},
    sia_code{"CB", "Arming Event - Group Disarmed Automatically"},
    sia_code{"CC", "Arming Event - Unsuccessful Arming Attempt"},
    sia_code{"CD", "Closing Delinquent"},
    sia_code{"CE", "Closing Extend"},
    sia_code{"CF", "Forced Closing"},
    sia_code{"CG", "Close Area"},
    sia_code{"CI", "Fail to Close"},
    sia_code{"CJ", "Late Close"},
    sia_code{"CK", "Early Close"},
    sia_code{"CL", "Closing Report"},
    sia_code{"CM", "Missing Alarm - Recent Closing"},
    sia_code{"CO", "Command Sent"},
    sia_code{"CP", "Automatic Closing"},
    sia_code{"CQ", "Remote Closing"},
    sia_code{"CR", "Recent Closing"},
    sia_code{"CS", "Closing Keyswitch"},
    sia_code{"CT", "Late to Open"},
    sia_code{"CW", "Was Force Armed"},
    sia_code{"CX", "Custom Function Executed"},
    sia_code{"CZ", "Point Closing"},
    sia_code{"DA", "Card Assigned"},
    sia_code{"DB", "Card Deleted"},
    sia_code{"DC", "Access Closed"},
    sia_code{"DD", "Access Denied"},
    sia_code{"DE", "Request to Enter"},
    sia_code{"DF", "Door Forced"},
    sia_code{"DG", "Access Granted"},
    sia_code{"DH", "Door Left Open - Restoral"},
    sia_code{"DI", "Access Denied - Passback"},
    sia_code{"DJ", "Door Forced - Trouble"},
    sia_code{"DK", "Access Lockout"},
    sia_code{"DL", "Door Left Open - Alarm"},
    sia_code{"DM", "Door Left Open - Trouble"},
    sia_code{"DN", "Door Left Open (non-alarm, non-trouble)"},
    sia_code{"DO", "Access Open"},
    sia_code{"DP", "Access Denied - Unauthorized Time"},
    sia_code{"DQ", "Access Denied - Unauthorized Arming State"},
    sia_code{"DR", "Door Restoral"},
    sia_code{"DS", "Door Station"},
    sia_code{"DT", "Access Trouble"},
    sia_code{"DU", "Dealer ID"},
    sia_code{"DV", "Access Denied - Unauthorized Entry Level"},
    sia_code{"DW", "Access Denied - Interlock"},
    sia_code{"DX", "Request to Exit"},
    sia_code{"DY", "Door Locked"},
    sia_code{"DZ", "Access Denied - Door Secured"},
    sia_code{"EA", "Exit Alarm"},
    sia_code{"EE", "Exit Error"},
    sia_code{"EJ", "Expansion Tamper Restore"},
    sia_code{"EM", "Expansion Device Missing"},
    sia_code{"EN", "Expansion Missing Restore"},
    sia_code{"ER", "Expansion Restoral"},
    sia_code{"ES", "Expansion Device Tamper"},
    sia_code{"ET", "Expansion Trouble"},
    sia_code{"EX", "External Device Condition"},
    sia_code{"EZ", "Missing Alarm - Exit Error"},
    sia_code{"FA", "Fire Alarm"},
    sia_code{"FB", "Fire Bypass"},
    sia_code{"FC", "Fire Cancel"},
    sia_code{"FG", "Unverified Event - Fire"},
    sia_code{"FH", "Fire Alarm Restore"},
    sia_code{"FI", "Fire Test Begin"},
    sia_code{"FJ", "Fire Trouble Restore"},
    sia_code{"FK", "Fire Test End"},
    sia_code{"FL", "Fire Alarm Silenced"},
    sia_code{"FM", "Fire Alarm - Cross Point"},
    sia_code{"FQ", "Fire Supervisory Trouble Restore"},
    sia_code{"FR", "Fire Restoral"},
    sia_code{"FS", "Fire Supervisory"},
    sia_code{"FT", "Fire Trouble"},
    sia_code{"FU", "Fire Unbypass"},
    sia_code{"FV", "Fire Supervision Restore"},
    sia_code{"FW", "Fire Supervisory Trouble"},
    sia_code{"FX", "Fire Test"},
    sia_code{"FY", "Missing Fire Trouble"},
    sia_code{"FZ", "Missing Fire Supervision"},
    sia_code{"GA", "Gas Alarm"},
    sia_code{"GB", "Gas Bypass"},
    sia_code{"GH", "Gas Alarm Restore"},
    sia_code{"GJ", "Gas Trouble Restore"},
    sia_code{"GR", "Gas Restoral"},
    sia_code{"GS", "Gas Supervisory"},
    sia_code{"GT", "Gas Trouble"},
    sia_code{"GU", "Gas Unbypass"},
    sia_code{"GX", "Gas Test"},
    sia_code{"HA", "Holdup Alarm"},
    sia_code{"HB", "Holdup Bypass"},
    sia_code{"HH", "Holdup Alarm Restore"},
    sia_code{"HJ", "Holdup Trouble Restore"},
    sia_code{"HR", "Holdup Restoral"},
    sia_code{"HS", "Holdup Supervisory"},
    sia_code{"HT", "Holdup Trouble"},
    sia_code{"HU", "Holdup Unbypass"},
    sia_code{"IA", "Equipment Failure Condition"},
    sia_code{"IR", "Equipment Fail - Restoral"},
    sia_code{"JA", "User Code Tamper"},
    sia_code{"JC", "User Code Tamper Cancelled"},
    sia_code{"JD", "Date Changed"},
    sia_code{"JH", "Holiday Changed"},
    sia_code{"JK", "Latchkey Alert"},
    sia_code{"JL", "Log Threshold"},
    sia_code{"JO", "Log Overflow"},
    sia_code{"JP", "User On Premises"},
    sia_code{"JR", "Schedule Executed"},
    sia_code{"JS", "Schedule Changed"},
    sia_code{"JT", "Time Changed"},
    sia_code{"JV", "User Code Changed"},
    sia_code{"JX", "User Code Deleted"},
    sia_code{"JY", "User Code Added"},
    sia_code{"JZ", "User Level Set"},
    sia_code{"KA", "Heat Alarm"},
    sia_code{"KB", "Heat Bypass"},
    sia_code{"KH", "Heat Alarm Restore"},
    sia_code{"KJ", "Heat Trouble Restore"},
    sia_code{"KR", "Heat Restoral"},
    sia_code{"KS", "Heat Supervisory"},
    sia_code{"KT", "Heat Trouble"},
    sia_code{"KU", "Heat Unbypass"},
    sia_code{"LB", "Local Program"},
    sia_code{"LD", "Local Program Denied"},
    sia_code{"LE", "Listen-in Ended"},
    sia_code{"LF", "Listen-in Begin"},
    sia_code{"LR", "Phone Line Restoral"},
    sia_code{"LS", "Local Program Success"},
    sia_code{"LT", "Phone Line Trouble"},
    sia_code{"LU", "Local Program Fail"},
    sia_code{"LX", "Local Programming Ended"},
    sia_code{"MA", "Medical Alarm"},
    sia_code{"MB", "Medical Bypass"},
    sia_code{"MH", "Medical Alarm Restore"},
    sia_code{"MI", "Message"},
    sia_code{"MJ", "Medical Trouble Restore"},
    sia_code{"MR", "Medical Restoral"},
    sia_code{"MS", "Medical Supervisory"},
    sia_code{"MT", "Medical Trouble"},
    sia_code{"MU", "Medical Unbypass"},
    sia_code{"NA", "No Activity"},
    sia_code{"NB", "Arming Event - Scenario"},
    sia_code{"NC", "Network Condition"},
    sia_code{"ND", "Arming Event - Night Mode Deactivated (Duress)"},
    sia_code{"NE", "Arming Event - Unsuccessful Night Mode Activation"},
    sia_code{"NF", "Forced Perimeter Arm"},
    sia_code{"NL", "Perimeter Armed"},
    sia_code{"NM", "Perimeter Armed, User Defined"},
    sia_code{"NO", "Arming Event - Night Mode Deactivated Automatically"},
    sia_code{"NP", "Arming Event - Night Mode Deactivated by Device"},
    sia_code{"NR", "Network Restoral"},
    sia_code{"NS", "Activity Resumed"},
    sia_code{"NT", "Network Failure"},
    sia_code{"OA", "Automatic Opening"},
    sia_code{"OB", "Arming Event - Group Disarmed Automatically"},
    sia_code{"OC", "Cancel Report"},
    sia_code{"OG", "Open Area"},
    sia_code{"OH", "Early to Open from Alarm"},
    sia_code{"OI", "Fail to Open"},
    sia_code{"OJ", "Late Open"},
    sia_code{"OK", "Early Open"},
    sia_code{"OL", "Late to Open from Alarm"},
    sia_code{"OP", "Opening Report"},
    sia_code{"OQ", "Remote Opening"},
    sia_code{"OR", "Disarm From Alarm"},
    sia_code{"OS", "Opening Keyswitch"},
    sia_code{"OT", "Late To Close"},
    sia_code{"OU", "Output State - Trouble"},
    sia_code{"OV", "Output State - Restore"},
    sia_code{"OZ", "Point Opening"},
    sia_code{"PA", "Panic Alarm"},
    sia_code{"PB", "Panic Bypass"},
    sia_code{"PC", "Photo on Demand Enabled"},
    sia_code{"PD", "Photo on Demand Disabled"},
    sia_code{"PE", "Photo by Scenario Enabled"},
    sia_code{"PF", "Malfunction - Photo Channel Lost"},
    sia_code{"PG", "Photo by Scenario Disabled"},
    sia_code{"PH", "Panic Alarm Restore"},
    sia_code{"PJ", "Panic Trouble Restore"},
    sia_code{"PO", "Malfunction Restore"},
    sia_code{"PR", "Panic Restoral"},
    sia_code{"PS", "Panic Supervisory"},
    sia_code{"PT", "Panic Trouble"},
    sia_code{"PU", "Panic Unbypass"},
    sia_code{"QA", "Emergency Alarm"},
    sia_code{"QB", "Emergency Bypass"},
    sia_code{"QH", "Emergency Alarm Restore"},
    sia_code{"QJ", "Emergency Trouble Restore"},
    sia_code{"QR", "Emergency Restoral"},
    sia_code{"QS", "Emergency Supervisory"},
    sia_code{"QT", "Emergency Trouble"},
    sia_code{"QU", "Emergency Unbypass"},
    sia_code{"RA", "Remote Programmer Call Failed"},
    sia_code{"RB", "Remote Program Begin"},
    sia_code{"RC", "Relay Close"},
    sia_code{"RD", "Remote Program Denied"},
    sia_code{"RN", "Remote Reset"},
    sia_code{"RO", "Relay Open"},
    sia_code{"RP", "Automatic Test"},
    sia_code{"RR", "Power Up"},
    sia_code{"RS", "Remote Program Success"},
    sia_code{"RT", "Data Lost"},
    sia_code{"RU", "Remote Program Fail"},
    sia_code{"RX", "Manual Test"},
    sia_code{"RY", "Test Off Normal"},
    sia_code{"SA", "Sprinkler Alarm"},
    sia_code{"SB", "Sprinkler Bypass"},
    sia_code{"SC", "Change of State"},
    sia_code{"SH", "Sprinkler Alarm Restore"},
    sia_code{"SJ", "Sprinkler Trouble Restore"},
    sia_code{"SM", "Malfunction - Leak Protection"},
    sia_code{"SR", "Sprinkler Restoral"},
    sia_code{"SS", "Sprinkler Supervisory"},
    sia_code{"ST", "Sprinkler Trouble"},
    sia_code{"SU", "Sprinkler Unbypass"},
    sia_code{"TA", "Tamper Alarm"},
    sia_code{"TB", "Tamper Bypass"},
    sia_code{"TC", "All Points Tested"},
    sia_code{"TE", "Test End"},
    sia_code{"TH", "Tamper Alarm Restore"},
    sia_code{"TJ", "Tamper Trouble Restore"},
    sia_code{"TP", "Walk Test Point"},
    sia_code{"TR", "Tamper Restoral"},
    sia_code{"TS", "Test Start"},
    sia_code{"TT", "Tamper Trouble"},
    sia_code{"TU", "Tamper Unbypass"},
    sia_code{"TW", "Area Watch Start"},
    sia_code{"TX", "Test Report"},
    sia_code{"TZ", "Area Watch End"},
    sia_code{"UA", "Untyped Zone Alarm"},
    sia_code{"UB", "Untyped Zone Bypass"},
    sia_code{"UG", "Unverified Event - Untyped"},
    sia_code{"UH", "Untyped Alarm Restore"},
    sia_code{"UJ", "Untyped Trouble Restore"},
    sia_code{"UR", "Untyped Zone Restoral"},
    sia_code{"US", "Untyped Zone Supervisory"},
    sia_code{"UT", "Untyped Zone Trouble"},
    sia_code{"UU", "Untyped Zone Unbypass"},
    sia_code{"UX", "Undefined"},
    sia_code{"UY", "Untyped Missing Trouble"},
    sia_code{"UZ", "Untyped Missing Alarm"},
    sia_code{"VI", "Printer Paper In"},
    sia_code{"VO", "Printer Paper Out"},
    sia_code{"VR", "Printer Restore"},
    sia_code{"VT", "Printer Trouble"},
    sia_code{"VX", "Printer Test"},
    sia_code{"VY", "Printer Online"},
    sia_code{"VZ", "Printer Offline"},
    sia_code{"WA", "Water Alarm"},
    sia_code{"WB", "Water Bypass"},
    sia_code{"WH", "Water Alarm Restore"},
    sia_code{"WJ", "Water Trouble Restore"},
    sia_code{"WR", "Water Restoral"},
    sia_code{"WS", "Water Supervisory"},
    sia_code{"WT", "Water Trouble"},
    sia_code{"WU", "Water Unbypass"},
    sia_code{"XA", "Extra Account Report"},
    sia_code{"XC", "Malfunction Restore"},
    sia_code{"XE", "Extra Point"},
    sia_code{"XF", "Extra RF Point"},
    sia_code{"XH", "RF Interference Restoral"},
    sia_code{"XI", "Sensor Reset"},
    sia_code{"XJ", "RF Receiver Tamper Restoral"},
    sia_code{"XL", "Low Received Signal Strength"},
    sia_code{"XM", "Missing Alarm - Cross Point"},
    sia_code{"XQ", "RF Interference"},
    sia_code{"XR", "Transmitter Battery Restoral"},
    sia_code{"XS", "RF Receiver Tamper"},
    sia_code{"XT", "Transmitter Battery Trouble"},
    sia_code{"XW", "Forced Point"},
    sia_code{"XX", "Fail to Test"},
    sia_code{"YA", "Bell Fault"},
    sia_code{"YB", "Busy Seconds"},
    sia_code{"YC", "Communications Fail"},
    sia_code{"YD", "Receiver Line Card Trouble"},
    sia_code{"YE", "Receiver Line Card Restored"},
    sia_code{"YF", "Parameter Checksum Fail"},
    sia_code{"YG", "Parameter Changed"},
    sia_code{"YH", "Bell Restored"},
    sia_code{"YI", "Overcurrent Trouble"},
    sia_code{"YJ", "Overcurrent Restore"},
    sia_code{"YK", "Communications Restoral"},
    sia_code{"YM", "System Battery Missing"},
    sia_code{"YN", "Invalid Report"},
    sia_code{"YO", "Unknown Message"},
    sia_code{"YP", "Power Supply Trouble"},
    sia_code{"YQ", "Power Supply Restored"},
    sia_code{"YR", "System Battery Restoral"},
    sia_code{"YS", "Communications Trouble"},
    sia_code{"YT", "System Battery Trouble"},
    sia_code{"YU", "Diagnostic Error"},
    sia_code{"YW", "Watchdog Reset"},
    sia_code{"YX", "Service Required"},
    sia_code{"YY", "Status Report"},
    sia_code{"YZ", "Service Completed"},
    sia_code{"ZA", "Freeze Alarm"},
    sia_code{"ZB", "Freeze Bypass"},
    sia_code{"ZH", "Freeze Alarm Restore"},
    sia_code{"ZJ", "Freeze Trouble Restore"},
    sia_code{"ZR", "Freeze Restoral"},
    sia_code{"ZS", "Freeze Supervisory"},
    sia_code{"ZT", "Freeze Trouble"},
    sia_code{"ZU", "Freeze Unbypass"},
    sia_code{"ZY", "Common Event - Device Switched On"},
    sia_code{"ZZ", "Common Event - Device Switched Off"},
};

static_assert(std::is_sorted(sia_codes.begin(), sia_codes.end(),
                             [](const sia_code& a, const sia_code& b) { return a.code < b.code; }));

const sia_code* find_code(std::string_view code) noexcept {
    const auto* it = std::lower_bound(
        sia_codes.begin(), sia_codes.end(), code,
        [](const sia_code& entry, std::string_view key) { return entry.code < key; });
    if (it == sia_codes.end() || it->code != code) {
        return nullptr;
    }
    return it;
}

bool is_upper(char ch) noexcept { return ch >= 'A' && ch <= 'Z'; }
bool is_lower(char ch) noexcept { return ch >= 'a' && ch <= 'z'; }
bool is_digit(char ch) noexcept { return ch >= '0' && ch <= '9'; }

// Splits at `sep`, except inside ^...^ text (zone and user names may hold any character).
std::vector<std::string_view> split_outside_text(std::string_view text, char sep) {
    std::vector<std::string_view> parts;
    bool in_text = false;
    std::size_t start = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '^') {
            in_text = !in_text;
        } else if (text[i] == sep && !in_text) {
            parts.push_back(text.substr(start, i - start));
            start = i + 1;
        }
    }
    parts.push_back(text.substr(start));
    return parts;
}

void set_modifier(std::vector<std::pair<std::string, std::string>>& modifiers, std::string name,
                  std::string value) {
    for (auto& [key, val] : modifiers) {
        if (key == name) {
            val = std::move(value);
            return;
        }
    }
    modifiers.emplace_back(std::move(name), std::move(value));
}

// One block: function code, then packets separated by '/'. Modifiers (two lower-case letters
// and a value) persist for the rest of the block; events are two upper-case letters and digits.
// Separators are sometimes missing ("Nri1BA503"), so tokens are recognised by letter case.
bool parse_event_block(std::string_view text, std::vector<sia_event>& events) {
    if (text.empty() || !is_upper(text.front())) {
        return false;
    }
    const char function = text.front();
    std::vector<std::pair<std::string, std::string>> modifiers;
    for (const std::string_view packet : split_outside_text(text.substr(1), '/')) {
        sia_event* last_event = nullptr;
        std::size_t i = 0;
        while (i < packet.size()) {
            const char ch = packet[i];
            if (ch == ' ') {
                ++i;
            } else if (ch == '^') {
                const std::size_t close = packet.find('^', i + 1);
                const std::size_t end = close == std::string_view::npos ? packet.size() : close;
                // Text after a modifier names the area/user; only event text is kept.
                if (last_event != nullptr && last_event->text.empty()) {
                    last_event->text = std::string(packet.substr(i + 1, end - i - 1));
                }
                i = close == std::string_view::npos ? packet.size() : close + 1;
            } else if (is_lower(ch) && i + 1 < packet.size() && is_lower(packet[i + 1])) {
                std::string name(packet.substr(i, 2));
                i += 2;
                const std::size_t start = i;
                while (i < packet.size() && !is_upper(packet[i]) && !is_lower(packet[i]) &&
                       packet[i] != '^' && packet[i] != ' ') {
                    ++i;
                }
                set_modifier(modifiers, std::move(name),
                             std::string(packet.substr(start, i - start)));
                last_event = nullptr;
            } else if (is_upper(ch) && i + 1 < packet.size() && is_upper(packet[i + 1])) {
                sia_event ev;
                ev.function = function;
                ev.code = std::string(packet.substr(i, 2));
                i += 2;
                const std::size_t start = i;
                while (i < packet.size() && is_digit(packet[i])) {
                    ++i;
                }
                ev.address = std::string(packet.substr(start, i - start));
                ev.modifiers = modifiers;
                ev.known = is_known_sia_code(ev.code);
                events.push_back(std::move(ev));
                last_event = &events.back();
            } else {
                return false;
            }
        }
    }
    return true;
}

}  // namespace

expected<sia_block> parse_sia_dcs(std::string_view data) {
    sia_block block;
    std::string_view rest = data;
    if (!rest.empty() && rest.front() == '#') {
        const std::size_t bar = rest.find('|');
        if (bar == std::string_view::npos) {
            return fail(error::empty_data);
        }
        block.account = std::string(rest.substr(1, bar - 1));
        rest.remove_prefix(bar + 1);
    } else if (!rest.empty() && rest.front() == '|') {
        rest.remove_prefix(1);
    }
    bool bad = false;
    for (std::string_view part : split_outside_text(rest, '|')) {
        while (!part.empty() && part.front() == ' ') {
            part.remove_prefix(1);
        }
        if (part.empty()) {
            continue;
        }
        if (part.front() == 'A') {
            // ASCII text block (DC-03 levels 3-4).
            if (!block.ascii_text.empty()) {
                block.ascii_text.push_back('|');
            }
            block.ascii_text.append(part.substr(1));
        } else if (!parse_event_block(part, block.events)) {
            bad = true;
        }
    }
    if (bad) {
        return fail(error::bad_data);
    }
    if (block.events.empty()) {
        return fail(error::empty_data);
    }
    return block;
}

bool is_known_sia_code(std::string_view code) noexcept { return find_code(code) != nullptr; }

std::string_view sia_code_meaning(std::string_view code) noexcept {
    const sia_code* entry = find_code(code);
    return entry != nullptr ? entry->meaning : std::string_view{};
}

std::string encode_sia_dcs(std::string_view account, const std::vector<sia_event>& events) {
    std::string out;
    if (!account.empty()) {
        out.append("#").append(account).append("|");
    }
    char function = '\0';
    std::vector<std::pair<std::string, std::string>> in_force;
    for (const sia_event& ev : events) {
        if (ev.function != function) {
            if (function != '\0') {
                out.push_back('|');
            }
            function = ev.function;
            out.push_back(function);
            in_force.clear();
        } else {
            out.push_back('/');
        }
        bool wrote_modifier = false;
        for (const auto& [name, value] : ev.modifiers) {
            const auto it = std::find_if(in_force.begin(), in_force.end(),
                                         [&](const auto& kv) { return kv.first == name; });
            if (it != in_force.end() && it->second == value) {
                continue;
            }
            out.append(name).append(value);
            set_modifier(in_force, name, value);
            wrote_modifier = true;
        }
        if (wrote_modifier) {
            out.push_back('/');
        }
        out.append(ev.code).append(ev.address);
        if (!ev.text.empty()) {
            out.append("^").append(ev.text).append("^");
        }
    }
    return out;
}

}  // namespace arc::protocol
