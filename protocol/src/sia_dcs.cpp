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
// std::to_array: clang limits the fold in std::array's deduction guide to 256 elements.
constexpr auto sia_codes = std::to_array<sia_code>({
    {"AA", "Alarm - Panel Substitution"},
    {"AB", "Abort"},
    {"AF", "Arming Event - Scenario"},
    {"AN", "Analog Restoral"},
    {"AR", "AC Restoral"},
    {"AS", "Analog Service"},
    {"AT", "AC Trouble"},
    {"BA", "Burglary Alarm"},
    {"BB", "Burglary Bypass"},
    {"BC", "Burglary Cancel"},
    {"BD", "Swinger Trouble"},
    {"BE", "Swinger Trouble Restore"},
    {"BG", "Unverified Event - Burglary"},
    {"BH", "Burglary Alarm Restore"},
    {"BJ", "Burglary Trouble Restore"},
    {"BM", "Burglary Alarm - Cross Point"},
    {"BR", "Burglary Restoral"},
    {"BS", "Burglary Supervisory"},
    {"BT", "Burglary Trouble"},
    {"BU", "Burglary Unbypass"},
    {"BV", "Burglary Verified"},
    {"BX", "Burglary Test"},
    {"BZ", "Missing Supervision"},
    {"CA", "Automatic Closing"},
    {"CB", "Arming Event - Group Disarmed Automatically"},
    {"CC", "Arming Event - Unsuccessful Arming Attempt"},
    {"CD", "Closing Delinquent"},
    {"CE", "Closing Extend"},
    {"CF", "Forced Closing"},
    {"CG", "Close Area"},
    {"CI", "Fail to Close"},
    {"CJ", "Late Close"},
    {"CK", "Early Close"},
    {"CL", "Closing Report"},
    {"CM", "Missing Alarm - Recent Closing"},
    {"CO", "Command Sent"},
    {"CP", "Automatic Closing"},
    {"CQ", "Remote Closing"},
    {"CR", "Recent Closing"},
    {"CS", "Closing Keyswitch"},
    {"CT", "Late to Open"},
    {"CW", "Was Force Armed"},
    {"CX", "Custom Function Executed"},
    {"CZ", "Point Closing"},
    {"DA", "Card Assigned"},
    {"DB", "Card Deleted"},
    {"DC", "Access Closed"},
    {"DD", "Access Denied"},
    {"DE", "Request to Enter"},
    {"DF", "Door Forced"},
    {"DG", "Access Granted"},
    {"DH", "Door Left Open - Restoral"},
    {"DI", "Access Denied - Passback"},
    {"DJ", "Door Forced - Trouble"},
    {"DK", "Access Lockout"},
    {"DL", "Door Left Open - Alarm"},
    {"DM", "Door Left Open - Trouble"},
    {"DN", "Door Left Open (non-alarm, non-trouble)"},
    {"DO", "Access Open"},
    {"DP", "Access Denied - Unauthorized Time"},
    {"DQ", "Access Denied - Unauthorized Arming State"},
    {"DR", "Door Restoral"},
    {"DS", "Door Station"},
    {"DT", "Access Trouble"},
    {"DU", "Dealer ID"},
    {"DV", "Access Denied - Unauthorized Entry Level"},
    {"DW", "Access Denied - Interlock"},
    {"DX", "Request to Exit"},
    {"DY", "Door Locked"},
    {"DZ", "Access Denied - Door Secured"},
    {"EA", "Exit Alarm"},
    {"EE", "Exit Error"},
    {"EJ", "Expansion Tamper Restore"},
    {"EM", "Expansion Device Missing"},
    {"EN", "Expansion Missing Restore"},
    {"ER", "Expansion Restoral"},
    {"ES", "Expansion Device Tamper"},
    {"ET", "Expansion Trouble"},
    {"EX", "External Device Condition"},
    {"EZ", "Missing Alarm - Exit Error"},
    {"FA", "Fire Alarm"},
    {"FB", "Fire Bypass"},
    {"FC", "Fire Cancel"},
    {"FG", "Unverified Event - Fire"},
    {"FH", "Fire Alarm Restore"},
    {"FI", "Fire Test Begin"},
    {"FJ", "Fire Trouble Restore"},
    {"FK", "Fire Test End"},
    {"FL", "Fire Alarm Silenced"},
    {"FM", "Fire Alarm - Cross Point"},
    {"FQ", "Fire Supervisory Trouble Restore"},
    {"FR", "Fire Restoral"},
    {"FS", "Fire Supervisory"},
    {"FT", "Fire Trouble"},
    {"FU", "Fire Unbypass"},
    {"FV", "Fire Supervision Restore"},
    {"FW", "Fire Supervisory Trouble"},
    {"FX", "Fire Test"},
    {"FY", "Missing Fire Trouble"},
    {"FZ", "Missing Fire Supervision"},
    {"GA", "Gas Alarm"},
    {"GB", "Gas Bypass"},
    {"GH", "Gas Alarm Restore"},
    {"GJ", "Gas Trouble Restore"},
    {"GR", "Gas Restoral"},
    {"GS", "Gas Supervisory"},
    {"GT", "Gas Trouble"},
    {"GU", "Gas Unbypass"},
    {"GX", "Gas Test"},
    {"HA", "Holdup Alarm"},
    {"HB", "Holdup Bypass"},
    {"HH", "Holdup Alarm Restore"},
    {"HJ", "Holdup Trouble Restore"},
    {"HR", "Holdup Restoral"},
    {"HS", "Holdup Supervisory"},
    {"HT", "Holdup Trouble"},
    {"HU", "Holdup Unbypass"},
    {"IA", "Equipment Failure Condition"},
    {"IR", "Equipment Fail - Restoral"},
    {"JA", "User Code Tamper"},
    {"JC", "User Code Tamper Cancelled"},
    {"JD", "Date Changed"},
    {"JH", "Holiday Changed"},
    {"JK", "Latchkey Alert"},
    {"JL", "Log Threshold"},
    {"JO", "Log Overflow"},
    {"JP", "User On Premises"},
    {"JR", "Schedule Executed"},
    {"JS", "Schedule Changed"},
    {"JT", "Time Changed"},
    {"JV", "User Code Changed"},
    {"JX", "User Code Deleted"},
    {"JY", "User Code Added"},
    {"JZ", "User Level Set"},
    {"KA", "Heat Alarm"},
    {"KB", "Heat Bypass"},
    {"KH", "Heat Alarm Restore"},
    {"KJ", "Heat Trouble Restore"},
    {"KR", "Heat Restoral"},
    {"KS", "Heat Supervisory"},
    {"KT", "Heat Trouble"},
    {"KU", "Heat Unbypass"},
    {"LB", "Local Program"},
    {"LD", "Local Program Denied"},
    {"LE", "Listen-in Ended"},
    {"LF", "Listen-in Begin"},
    {"LR", "Phone Line Restoral"},
    {"LS", "Local Program Success"},
    {"LT", "Phone Line Trouble"},
    {"LU", "Local Program Fail"},
    {"LX", "Local Programming Ended"},
    {"MA", "Medical Alarm"},
    {"MB", "Medical Bypass"},
    {"MH", "Medical Alarm Restore"},
    {"MI", "Message"},
    {"MJ", "Medical Trouble Restore"},
    {"MR", "Medical Restoral"},
    {"MS", "Medical Supervisory"},
    {"MT", "Medical Trouble"},
    {"MU", "Medical Unbypass"},
    {"NA", "No Activity"},
    {"NB", "Arming Event - Scenario"},
    {"NC", "Network Condition"},
    {"ND", "Arming Event - Night Mode Deactivated (Duress)"},
    {"NE", "Arming Event - Unsuccessful Night Mode Activation"},
    {"NF", "Forced Perimeter Arm"},
    {"NL", "Perimeter Armed"},
    {"NM", "Perimeter Armed, User Defined"},
    {"NO", "Arming Event - Night Mode Deactivated Automatically"},
    {"NP", "Arming Event - Night Mode Deactivated by Device"},
    {"NR", "Network Restoral"},
    {"NS", "Activity Resumed"},
    {"NT", "Network Failure"},
    {"OA", "Automatic Opening"},
    {"OB", "Arming Event - Group Disarmed Automatically"},
    {"OC", "Cancel Report"},
    {"OG", "Open Area"},
    {"OH", "Early to Open from Alarm"},
    {"OI", "Fail to Open"},
    {"OJ", "Late Open"},
    {"OK", "Early Open"},
    {"OL", "Late to Open from Alarm"},
    {"OP", "Opening Report"},
    {"OQ", "Remote Opening"},
    {"OR", "Disarm From Alarm"},
    {"OS", "Opening Keyswitch"},
    {"OT", "Late To Close"},
    {"OU", "Output State - Trouble"},
    {"OV", "Output State - Restore"},
    {"OZ", "Point Opening"},
    {"PA", "Panic Alarm"},
    {"PB", "Panic Bypass"},
    {"PC", "Photo on Demand Enabled"},
    {"PD", "Photo on Demand Disabled"},
    {"PE", "Photo by Scenario Enabled"},
    {"PF", "Malfunction - Photo Channel Lost"},
    {"PG", "Photo by Scenario Disabled"},
    {"PH", "Panic Alarm Restore"},
    {"PJ", "Panic Trouble Restore"},
    {"PO", "Malfunction Restore"},
    {"PR", "Panic Restoral"},
    {"PS", "Panic Supervisory"},
    {"PT", "Panic Trouble"},
    {"PU", "Panic Unbypass"},
    {"QA", "Emergency Alarm"},
    {"QB", "Emergency Bypass"},
    {"QH", "Emergency Alarm Restore"},
    {"QJ", "Emergency Trouble Restore"},
    {"QR", "Emergency Restoral"},
    {"QS", "Emergency Supervisory"},
    {"QT", "Emergency Trouble"},
    {"QU", "Emergency Unbypass"},
    {"RA", "Remote Programmer Call Failed"},
    {"RB", "Remote Program Begin"},
    {"RC", "Relay Close"},
    {"RD", "Remote Program Denied"},
    {"RN", "Remote Reset"},
    {"RO", "Relay Open"},
    {"RP", "Automatic Test"},
    {"RR", "Power Up"},
    {"RS", "Remote Program Success"},
    {"RT", "Data Lost"},
    {"RU", "Remote Program Fail"},
    {"RX", "Manual Test"},
    {"RY", "Test Off Normal"},
    {"SA", "Sprinkler Alarm"},
    {"SB", "Sprinkler Bypass"},
    {"SC", "Change of State"},
    {"SH", "Sprinkler Alarm Restore"},
    {"SJ", "Sprinkler Trouble Restore"},
    {"SM", "Malfunction - Leak Protection"},
    {"SR", "Sprinkler Restoral"},
    {"SS", "Sprinkler Supervisory"},
    {"ST", "Sprinkler Trouble"},
    {"SU", "Sprinkler Unbypass"},
    {"TA", "Tamper Alarm"},
    {"TB", "Tamper Bypass"},
    {"TC", "All Points Tested"},
    {"TE", "Test End"},
    {"TH", "Tamper Alarm Restore"},
    {"TJ", "Tamper Trouble Restore"},
    {"TP", "Walk Test Point"},
    {"TR", "Tamper Restoral"},
    {"TS", "Test Start"},
    {"TT", "Tamper Trouble"},
    {"TU", "Tamper Unbypass"},
    {"TW", "Area Watch Start"},
    {"TX", "Test Report"},
    {"TZ", "Area Watch End"},
    {"UA", "Untyped Zone Alarm"},
    {"UB", "Untyped Zone Bypass"},
    {"UG", "Unverified Event - Untyped"},
    {"UH", "Untyped Alarm Restore"},
    {"UJ", "Untyped Trouble Restore"},
    {"UR", "Untyped Zone Restoral"},
    {"US", "Untyped Zone Supervisory"},
    {"UT", "Untyped Zone Trouble"},
    {"UU", "Untyped Zone Unbypass"},
    {"UX", "Undefined"},
    {"UY", "Untyped Missing Trouble"},
    {"UZ", "Untyped Missing Alarm"},
    {"VI", "Printer Paper In"},
    {"VO", "Printer Paper Out"},
    {"VR", "Printer Restore"},
    {"VT", "Printer Trouble"},
    {"VX", "Printer Test"},
    {"VY", "Printer Online"},
    {"VZ", "Printer Offline"},
    {"WA", "Water Alarm"},
    {"WB", "Water Bypass"},
    {"WH", "Water Alarm Restore"},
    {"WJ", "Water Trouble Restore"},
    {"WR", "Water Restoral"},
    {"WS", "Water Supervisory"},
    {"WT", "Water Trouble"},
    {"WU", "Water Unbypass"},
    {"XA", "Extra Account Report"},
    {"XC", "Malfunction Restore"},
    {"XE", "Extra Point"},
    {"XF", "Extra RF Point"},
    {"XH", "RF Interference Restoral"},
    {"XI", "Sensor Reset"},
    {"XJ", "RF Receiver Tamper Restoral"},
    {"XL", "Low Received Signal Strength"},
    {"XM", "Missing Alarm - Cross Point"},
    {"XQ", "RF Interference"},
    {"XR", "Transmitter Battery Restoral"},
    {"XS", "RF Receiver Tamper"},
    {"XT", "Transmitter Battery Trouble"},
    {"XW", "Forced Point"},
    {"XX", "Fail to Test"},
    {"YA", "Bell Fault"},
    {"YB", "Busy Seconds"},
    {"YC", "Communications Fail"},
    {"YD", "Receiver Line Card Trouble"},
    {"YE", "Receiver Line Card Restored"},
    {"YF", "Parameter Checksum Fail"},
    {"YG", "Parameter Changed"},
    {"YH", "Bell Restored"},
    {"YI", "Overcurrent Trouble"},
    {"YJ", "Overcurrent Restore"},
    {"YK", "Communications Restoral"},
    {"YM", "System Battery Missing"},
    {"YN", "Invalid Report"},
    {"YO", "Unknown Message"},
    {"YP", "Power Supply Trouble"},
    {"YQ", "Power Supply Restored"},
    {"YR", "System Battery Restoral"},
    {"YS", "Communications Trouble"},
    {"YT", "System Battery Trouble"},
    {"YU", "Diagnostic Error"},
    {"YW", "Watchdog Reset"},
    {"YX", "Service Required"},
    {"YY", "Status Report"},
    {"YZ", "Service Completed"},
    {"ZA", "Freeze Alarm"},
    {"ZB", "Freeze Bypass"},
    {"ZH", "Freeze Alarm Restore"},
    {"ZJ", "Freeze Trouble Restore"},
    {"ZR", "Freeze Restoral"},
    {"ZS", "Freeze Supervisory"},
    {"ZT", "Freeze Trouble"},
    {"ZU", "Freeze Unbypass"},
    {"ZY", "Common Event - Device Switched On"},
    {"ZZ", "Common Event - Device Switched Off"},
});

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
        // Modifiers persist within a block in the order they were first set, so an event whose
        // list does not start with the ones in force (one dropped or reordered) opens a new block.
        bool keeps_modifiers = in_force.size() <= ev.modifiers.size();
        for (std::size_t k = 0; keeps_modifiers && k < in_force.size(); ++k) {
            keeps_modifiers = ev.modifiers[k].first == in_force[k].first;
        }
        if (ev.function != function || !keeps_modifiers) {
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
        for (const auto& modifier : ev.modifiers) {
            const auto it = std::find(in_force.begin(), in_force.end(), modifier);
            if (it != in_force.end()) {
                continue;
            }
            out.append(modifier.first).append(modifier.second);
            set_modifier(in_force, modifier.first, modifier.second);
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
