#include "arc/protocol/contact_id.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>

#include "arc/protocol/error.hpp"

namespace arc::protocol {

namespace {

struct cid_code {
    std::string_view code;
    std::string_view meaning;
};

// The Contact ID (SIA DC-05) event code table, as transcribed in spandsp's ademco_contactid.c;
// kept sorted by code for binary search.
// std::to_array: clang limits the fold in std::array's deduction guide to 256 elements.
constexpr auto cid_codes = std::to_array<cid_code>({
    {"100", "Medical"},
    {"101", "Personal emergency"},
    {"102", "Fail to report in"},
    {"110", "Fire"},
    {"111", "Smoke"},
    {"112", "Combustion"},
    {"113", "Water flow"},
    {"114", "Heat"},
    {"115", "Pull station"},
    {"116", "Duct"},
    {"117", "Flame"},
    {"118", "Near alarm"},
    {"120", "Panic"},
    {"121", "Duress"},
    {"122", "Silent"},
    {"123", "Audible"},
    {"124", "Duress - Access granted"},
    {"125", "Duress - Egress granted"},
    {"130", "Burglary"},
    {"131", "Perimeter"},
    {"132", "Interior"},
    {"133", "24 hour (safe)"},
    {"134", "Entry/Exit"},
    {"135", "Day/Night"},
    {"136", "Outdoor"},
    {"137", "Tamper"},
    {"138", "Near alarm"},
    {"139", "Intrusion verifier"},
    {"140", "General alarm"},
    {"141", "Polling loop open"},
    {"142", "Polling loop short"},
    {"143", "Expansion module failure"},
    {"144", "Sensor tamper"},
    {"145", "Expansion module tamper"},
    {"146", "Silent burglary"},
    {"147", "Sensor supervision failure"},
    {"150", "24 hour non-burglary"},
    {"151", "Gas detected"},
    {"152", "Refrigeration"},
    {"153", "Loss of heat"},
    {"154", "Water leakage"},
    {"155", "Foil break"},
    {"156", "Day trouble"},
    {"157", "Low bottled gas level"},
    {"158", "High temp"},
    {"159", "Low temp"},
    {"161", "Loss of air flow"},
    {"162", "Carbon monoxide detected"},
    {"163", "Tank level"},
    {"200", "Fire supervisory"},
    {"201", "Low water pressure"},
    {"202", "Low CO2"},
    {"203", "Gate valve sensor"},
    {"204", "Low water level"},
    {"205", "Pump activated"},
    {"206", "Pump failure"},
    {"300", "System trouble"},
    {"301", "AC loss"},
    {"302", "Low system battery"},
    {"303", "RAM checksum bad"},
    {"304", "ROM checksum bad"},
    {"305", "System reset"},
    {"306", "Panel programming changed"},
    {"307", "Self-test failure"},
    {"308", "System shutdown"},
    {"309", "Battery test failure"},
    {"310", "Ground fault"},
    {"311", "Battery missing/dead"},
    {"312", "Power supply overcurrent"},
    {"313", "Engineer reset"},
    {"320", "Sounder/relay"},
    {"321", "Bell 1"},
    {"322", "Bell 2"},
    {"323", "Alarm relay"},
    {"324", "Trouble relay"},
    {"325", "Reversing relay"},
    {"326", "Notification appliance ckt. #3"},
    {"327", "Notification appliance ckt. #4"},
    {"330", "System peripheral trouble"},
    {"331", "Polling loop open"},
    {"332", "Polling loop short"},
    {"333", "Expansion module failure"},
    {"334", "Repeater failure"},
    {"335", "Local printer out of paper"},
    {"336", "Local printer failure"},
    {"337", "Exp. module DC loss"},
    {"338", "Exp. module low battery"},
    {"339", "Exp. module reset"},
    {"341", "Exp. module tamper"},
    {"342", "Exp. module AC loss"},
    {"343", "Exp. module self-test fail"},
    {"344", "RF receiver jam detect"},
    {"350", "Communication trouble"},
    {"351", "Telco 1 fault"},
    {"352", "Telco 2 fault"},
    {"353", "Long range radio transmitter fault"},
    {"354", "Failure to communicate event"},
    {"355", "Loss of radio supervision"},
    {"356", "Loss of central polling"},
    {"357", "Long range radio VSWR problem"},
    {"370", "Protection loop"},
    {"371", "Protection loop open"},
    {"372", "Protection loop short"},
    {"373", "Fire trouble"},
    {"374", "Exit error alarm (zone)"},
    {"375", "Panic zone trouble"},
    {"376", "Hold-up zone trouble"},
    {"377", "Swinger trouble"},
    {"378", "Cross-zone trouble"},
    {"380", "Sensor trouble"},
    {"381", "Loss of supervision - RF"},
    {"382", "Loss of supervision - RPM"},
    {"383", "Sensor tamper"},
    {"384", "RF low battery"},
    {"385", "Smoke detector high sensitivity"},
    {"386", "Smoke detector low sensitivity"},
    {"387", "Intrusion detector high sensitivity"},
    {"388", "Intrusion detector low sensitivity"},
    {"389", "Sensor self-test failure"},
    {"391", "Sensor watch trouble"},
    {"392", "Drift compensation error"},
    {"393", "Maintenance alert"},
    {"400", "Open/Close"},
    {"401", "Open/close by user"},
    {"402", "Group open/close"},
    {"403", "Automatic open/close"},
    {"404", "Late to open/close"},
    {"405", "Deferred open/close"},
    {"406", "Cancel"},
    {"407", "Remote arm/disarm"},
    {"408", "Quick arm"},
    {"409", "Keyswitch open/close"},
    {"411", "Callback request made"},
    {"412", "Successful download/access"},
    {"413", "Unsuccessful access"},
    {"414", "System shutdown command received"},
    {"415", "Dialer shutdown command received"},
    {"416", "Successful upload"},
    {"421", "Access denied"},
    {"422", "Access report by user"},
    {"423", "Forced access"},
    {"424", "Egress denied"},
    {"425", "Egress granted"},
    {"426", "Access door propped open"},
    {"427", "Access point door status monitor trouble"},
    {"428", "Access point request to exit trouble"},
    {"429", "Access program mode entry"},
    {"430", "Access program mode exit"},
    {"431", "Access threat level change"},
    {"432", "Access relay/trigger fail"},
    {"433", "Access RTE shunt"},
    {"434", "Access DSM shunt"},
    {"441", "Armed STAY"},
    {"442", "Keyswitch armed STAY"},
    {"450", "Exception open/close"},
    {"451", "Early open/close"},
    {"452", "Late open/close"},
    {"453", "Failed to open"},
    {"454", "Failed to close"},
    {"455", "Auto-arm failed"},
    {"456", "Partial arm"},
    {"457", "Exit error (user)"},
    {"458", "User on premises"},
    {"459", "Recent close"},
    {"461", "Wrong code entry"},
    {"462", "Legal code entry"},
    {"463", "Re-arm after alarm"},
    {"464", "Auto-arm time extended"},
    {"465", "Panic alarm reset"},
    {"466", "Service on/off premises"},
    {"501", "Access reader disable"},
    {"520", "Sounder/relay disable"},
    {"521", "Bell 1 disable"},
    {"522", "Bell 2 disable"},
    {"523", "Alarm relay disable"},
    {"524", "Trouble relay disable"},
    {"525", "Reversing relay disable"},
    {"526", "Notification appliance ckt. #3 disable"},
    {"527", "Notification appliance ckt. #4 disable"},
    {"531", "Module added"},
    {"532", "Module removed"},
    {"551", "Dialer disabled"},
    {"552", "Radio transmitter disabled"},
    {"553", "Remote upload/download disabled"},
    {"570", "Zone/sensor bypass"},
    {"571", "Fire bypass"},
    {"572", "24 hour zone bypass"},
    {"573", "Burglary bypass"},
    {"574", "Group bypass"},
    {"575", "Swinger bypass"},
    {"576", "Access zone shunt"},
    {"577", "Access point bypass"},
    {"601", "Manual trigger test report"},
    {"602", "Periodic test report"},
    {"603", "Periodic RF transmission"},
    {"604", "Fire test"},
    {"605", "Status report to follow"},
    {"606", "Listen-in to follow"},
    {"607", "Walk test mode"},
    {"608", "Periodic test - system trouble present"},
    {"609", "Video transmitter active"},
    {"611", "Point tested OK"},
    {"612", "Point not tested"},
    {"613", "Intrusion zone walk tested"},
    {"614", "Fire zone walk tested"},
    {"615", "Panic zone walk tested"},
    {"616", "Service request"},
    {"621", "Event log reset"},
    {"622", "Event log 50% full"},
    {"623", "Event log 90% full"},
    {"624", "Event log overflow"},
    {"625", "Time/date reset"},
    {"626", "Time/date inaccurate"},
    {"627", "Program mode entry"},
    {"628", "Program mode exit"},
    {"629", "32 hour event log marker"},
    {"630", "Schedule change"},
    {"631", "Exception schedule change"},
    {"632", "Access schedule change"},
    {"641", "Senior watch trouble"},
    {"642", "Latch-key supervision"},
    {"651", "Reserved for Ademco use"},
    {"652", "Reserved for Ademco use"},
    {"653", "Reserved for Ademco use"},
    {"654", "System inactivity"},
    {"900", "Download abort"},
    {"901", "Download start/end"},
    {"902", "Download interrupted"},
    {"910", "Auto-close with bypass"},
    {"911", "Bypass closing"},
    {"999", "32 hour no read of event log"},
});

static_assert(std::is_sorted(cid_codes.begin(), cid_codes.end(),
                             [](const cid_code& a, const cid_code& b) { return a.code < b.code; }));

const cid_code* find_code(std::string_view code) noexcept {
    const auto* it = std::lower_bound(
        cid_codes.begin(), cid_codes.end(), code,
        [](const cid_code& entry, std::string_view key) { return entry.code < key; });
    if (it == cid_codes.end() || it->code != code) {
        return nullptr;
    }
    return it;
}

// DC-05 digit values: '0' counts 10, B-F 11-15; 'A' has no DTMF symbol and is never valid.
int digit_value(char ch) noexcept {
    if (ch == '0') {
        return 10;
    }
    if (ch >= '1' && ch <= '9') {
        return ch - '0';
    }
    if (ch >= 'B' && ch <= 'F') {
        return ch - 'A' + 10;
    }
    return -1;
}

char normalise_digit(char ch) noexcept {
    if (ch >= 'b' && ch <= 'f') {
        return static_cast<char>(ch - 'a' + 'A');
    }
    return ch;
}

// Copies the message digits without spaces, upper-casing b-f; nullopt on any other character.
std::optional<std::string> compact_digits(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char raw : text) {
        if (raw == ' ') {
            continue;
        }
        const char ch = normalise_digit(raw);
        if (digit_value(ch) < 0) {
            return std::nullopt;
        }
        out.push_back(ch);
    }
    return out;
}

cid_event make_event(std::string_view qxyzggccc) {
    cid_event ev;
    ev.qualifier = qxyzggccc[0];
    ev.code = std::string(qxyzggccc.substr(1, 3));
    ev.group = std::string(qxyzggccc.substr(4, 2));
    ev.zone = std::string(qxyzggccc.substr(6, 3));
    ev.known = is_known_cid_code(ev.code);
    return ev;
}

}  // namespace

expected<cid_block> parse_adm_cid(std::string_view data) {
    cid_block block;
    std::string_view rest = data;
    if (!rest.empty() && rest.front() == '#') {
        const auto bar = rest.find('|');
        if (bar == std::string_view::npos) {
            // Only an account: nothing to process.
            return fail(error::empty_data);
        }
        block.account = std::string(rest.substr(1, bar - 1));
        rest.remove_prefix(bar + 1);
    } else if (!rest.empty() && rest.front() == '|') {
        rest.remove_prefix(1);
    }
    while (!rest.empty() && rest.back() == ' ') {
        rest.remove_suffix(1);
    }
    if (rest.find_first_not_of(' ') == std::string_view::npos) {
        return fail(error::empty_data);
    }
    const auto digits = compact_digits(rest);
    if (!digits || digits->size() != 9) {
        return fail(error::bad_data);
    }
    block.event = make_event(*digits);
    return block;
}

expected<char> contact_id_checksum(std::string_view first15) {
    const auto digits = compact_digits(first15);
    if (!digits || digits->size() != 15) {
        return fail(error::bad_data);
    }
    int sum = 0;
    for (const char ch : *digits) {
        sum += digit_value(ch);
    }
    // S makes the total a multiple of 15; S is 1..15, a 10 is sent as '0'.
    const int s = 15 - (sum % 15);
    if (s == 10) {
        return '0';
    }
    if (s < 10) {
        return static_cast<char>('0' + s);
    }
    return static_cast<char>('A' + (s - 10));
}

expected<cid_message> parse_contact_id(std::string_view digits_text) {
    const auto digits = compact_digits(digits_text);
    if (!digits || digits->size() != 16) {
        return fail(error::bad_data);
    }
    int sum = 0;
    for (const char ch : *digits) {
        sum += digit_value(ch);
    }
    if (sum % 15 != 0) {
        return fail(error::bad_checksum);
    }
    const std::string_view d = *digits;
    cid_message msg;
    msg.account = std::string(d.substr(0, 4));
    msg.message_type = std::string(d.substr(4, 2));
    msg.event = make_event(d.substr(6, 9));
    msg.checksum = d[15];
    return msg;
}

bool is_known_cid_code(std::string_view code) noexcept { return find_code(code) != nullptr; }

std::string_view cid_code_meaning(std::string_view code) noexcept {
    const cid_code* entry = find_code(code);
    return entry != nullptr ? entry->meaning : std::string_view{};
}

std::string encode_adm_cid(std::string_view account, const cid_event& event) {
    std::string out;
    if (!account.empty()) {
        out.append("#").append(account).append("|");
    }
    out.push_back(event.qualifier);
    out.append(event.code).append(" ").append(event.group).append(" ").append(event.zone);
    return out;
}

}  // namespace arc::protocol
