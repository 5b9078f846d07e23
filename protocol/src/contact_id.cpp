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
constexpr std::array cid_codes{
    cid_code{"100", "Medical"},
    cid_code{"101", "Personal emergency"},
    cid_code{"102", "Fail to report in"},
    cid_code{"110", "Fire"},
    cid_code{"111", "Smoke"},
    cid_code{"112", "Combustion"},
    cid_code{"113", "Water flow"},
    cid_code{"114", "Heat"},
    cid_code{"115", "Pull station"},
    cid_code{"116", "Duct"},
    cid_code{"117", "Flame"},
    cid_code{"118", "Near alarm"},
    cid_code{"120", "Panic"},
    cid_code{"121", "Duress"},
    cid_code{"122", "Silent"},
    cid_code{"123", "Audible"},
    cid_code{"124", "Duress - Access granted"},
    cid_code{"125", "Duress - Egress granted"},
    cid_code{"130", "Burglary"},
    cid_code{"131", "Perimeter"},
    cid_code{"132", "Interior"},
    cid_code{"133", "24 hour (safe)"},
    cid_code{"134", "Entry/Exit"},
    cid_code{"135", "Day/Night"},
    cid_code{"136", "Outdoor"},
    cid_code{"137", "Tamper"},
    cid_code{"138", "Near alarm"},
    cid_code{"139", "Intrusion verifier"},
    cid_code{"140", "General alarm"},
    cid_code{"141", "Polling loop open"},
    cid_code{"142", "Polling loop short"},
    cid_code{"143", "Expansion module failure"},
    cid_code{"144", "Sensor tamper"},
    cid_code{"145", "Expansion module tamper"},
    cid_code{"146", "Silent burglary"},
    cid_code{"147", "Sensor supervision failure"},
    cid_code{"150", "24 hour non-burglary"},
    cid_code{"151", "Gas detected"},
    cid_code{"152", "Refrigeration"},
    cid_code{"153", "Loss of heat"},
    cid_code{"154", "Water leakage"},
    cid_code{"155", "Foil break"},
    cid_code{"156", "Day trouble"},
    cid_code{"157", "Low bottled gas level"},
    cid_code{"158", "High temp"},
    cid_code{"159", "Low temp"},
    cid_code{"161", "Loss of air flow"},
    cid_code{"162", "Carbon monoxide detected"},
    cid_code{"163", "Tank level"},
    cid_code{"200", "Fire supervisory"},
    cid_code{"201", "Low water pressure"},
    cid_code{"202", "Low CO2"},
    cid_code{"203", "Gate valve sensor"},
    cid_code{"204", "Low water level"},
    cid_code{"205", "Pump activated"},
    cid_code{"206", "Pump failure"},
    cid_code{"300", "System trouble"},
    cid_code{"301", "AC loss"},
    cid_code{"302", "Low system battery"},
    cid_code{"303", "RAM checksum bad"},
    cid_code{"304", "ROM checksum bad"},
    cid_code{"305", "System reset"},
    cid_code{"306", "Panel programming changed"},
    cid_code{"307", "Self-test failure"},
    cid_code{"308", "System shutdown"},
    cid_code{"309", "Battery test failure"},
    cid_code{"310", "Ground fault"},
    cid_code{"311", "Battery missing/dead"},
    cid_code{"312", "Power supply overcurrent"},
    cid_code{"313", "Engineer reset"},
    cid_code{"320", "Sounder/relay"},
    cid_code{"321", "Bell 1"},
    cid_code{"322", "Bell 2"},
    cid_code{"323", "Alarm relay"},
    cid_code{"324", "Trouble relay"},
    cid_code{"325", "Reversing relay"},
    cid_code{"326", "Notification appliance ckt. #3"},
    cid_code{"327", "Notification appliance ckt. #4"},
    cid_code{"330", "System peripheral trouble"},
    cid_code{"331", "Polling loop open"},
    cid_code{"332", "Polling loop short"},
    cid_code{"333", "Expansion module failure"},
    cid_code{"334", "Repeater failure"},
    cid_code{"335", "Local printer out of paper"},
    cid_code{"336", "Local printer failure"},
    cid_code{"337", "Exp. module DC loss"},
    cid_code{"338", "Exp. module low battery"},
    cid_code{"339", "Exp. module reset"},
    cid_code{"341", "Exp. module tamper"},
    cid_code{"342", "Exp. module AC loss"},
    cid_code{"343", "Exp. module self-test fail"},
    cid_code{"344", "RF receiver jam detect"},
    cid_code{"350", "Communication trouble"},
    cid_code{"351", "Telco 1 fault"},
    cid_code{"352", "Telco 2 fault"},
    cid_code{"353", "Long range radio transmitter fault"},
    cid_code{"354", "Failure to communicate event"},
    cid_code{"355", "Loss of radio supervision"},
    cid_code{"356", "Loss of central polling"},
    cid_code{"357", "Long range radio VSWR problem"},
    cid_code{"370", "Protection loop"},
    cid_code{"371", "Protection loop open"},
    cid_code{"372", "Protection loop short"},
    cid_code{"373", "Fire trouble"},
    cid_code{"374", "Exit error alarm (zone)"},
    cid_code{"375", "Panic zone trouble"},
    cid_code{"376", "Hold-up zone trouble"},
    cid_code{"377", "Swinger trouble"},
    cid_code{"378", "Cross-zone trouble"},
    cid_code{"380", "Sensor trouble"},
    cid_code{"381", "Loss of supervision - RF"},
    cid_code{"382", "Loss of supervision - RPM"},
    cid_code{"383", "Sensor tamper"},
    cid_code{"384", "RF low battery"},
    cid_code{"385", "Smoke detector high sensitivity"},
    cid_code{"386", "Smoke detector low sensitivity"},
    cid_code{"387", "Intrusion detector high sensitivity"},
    cid_code{"388", "Intrusion detector low sensitivity"},
    cid_code{"389", "Sensor self-test failure"},
    cid_code{"391", "Sensor watch trouble"},
    cid_code{"392", "Drift compensation error"},
    cid_code{"393", "Maintenance alert"},
    cid_code{"400", "Open/Close"},
    cid_code{"401", "Open/close by user"},
    cid_code{"402", "Group open/close"},
    cid_code{"403", "Automatic open/close"},
    cid_code{"404", "Late to open/close"},
    cid_code{"405", "Deferred open/close"},
    cid_code{"406", "Cancel"},
    cid_code{"407", "Remote arm/disarm"},
    cid_code{"408", "Quick arm"},
    cid_code{"409", "Keyswitch open/close"},
    cid_code{"411", "Callback request made"},
    cid_code{"412", "Successful download/access"},
    cid_code{"413", "Unsuccessful access"},
    cid_code{"414", "System shutdown command received"},
    cid_code{"415", "Dialer shutdown command received"},
    cid_code{"416", "Successful upload"},
    cid_code{"421", "Access denied"},
    cid_code{"422", "Access report by user"},
    cid_code{"423", "Forced access"},
    cid_code{"424", "Egress denied"},
    cid_code{"425", "Egress granted"},
    cid_code{"426", "Access door propped open"},
    cid_code{"427", "Access point door status monitor trouble"},
    cid_code{"428", "Access point request to exit trouble"},
    cid_code{"429", "Access program mode entry"},
    cid_code{"430", "Access program mode exit"},
    cid_code{"431", "Access threat level change"},
    cid_code{"432", "Access relay/trigger fail"},
    cid_code{"433", "Access RTE shunt"},
    cid_code{"434", "Access DSM shunt"},
    cid_code{"441", "Armed STAY"},
    cid_code{"442", "Keyswitch armed STAY"},
    cid_code{"450", "Exception open/close"},
    cid_code{"451", "Early open/close"},
    cid_code{"452", "Late open/close"},
    cid_code{"453", "Failed to open"},
    cid_code{"454", "Failed to close"},
    cid_code{"455", "Auto-arm failed"},
    cid_code{"456", "Partial arm"},
    cid_code{"457", "Exit error (user)"},
    cid_code{"458", "User on premises"},
    cid_code{"459", "Recent close"},
    cid_code{"461", "Wrong code entry"},
    cid_code{"462", "Legal code entry"},
    cid_code{"463", "Re-arm after alarm"},
    cid_code{"464", "Auto-arm time extended"},
    cid_code{"465", "Panic alarm reset"},
    cid_code{"466", "Service on/off premises"},
    cid_code{"501", "Access reader disable"},
    cid_code{"520", "Sounder/relay disable"},
    cid_code{"521", "Bell 1 disable"},
    cid_code{"522", "Bell 2 disable"},
    cid_code{"523", "Alarm relay disable"},
    cid_code{"524", "Trouble relay disable"},
    cid_code{"525", "Reversing relay disable"},
    cid_code{"526", "Notification appliance ckt. #3 disable"},
    cid_code{"527", "Notification appliance ckt. #4 disable"},
    cid_code{"531", "Module added"},
    cid_code{"532", "Module removed"},
    cid_code{"551", "Dialer disabled"},
    cid_code{"552", "Radio transmitter disabled"},
    cid_code{"553", "Remote upload/download disabled"},
    cid_code{"570", "Zone/sensor bypass"},
    cid_code{"571", "Fire bypass"},
    cid_code{"572", "24 hour zone bypass"},
    cid_code{"573", "Burglary bypass"},
    cid_code{"574", "Group bypass"},
    cid_code{"575", "Swinger bypass"},
    cid_code{"576", "Access zone shunt"},
    cid_code{"577", "Access point bypass"},
    cid_code{"601", "Manual trigger test report"},
    cid_code{"602", "Periodic test report"},
    cid_code{"603", "Periodic RF transmission"},
    cid_code{"604", "Fire test"},
    cid_code{"605", "Status report to follow"},
    cid_code{"606", "Listen-in to follow"},
    cid_code{"607", "Walk test mode"},
    cid_code{"608", "Periodic test - system trouble present"},
    cid_code{"609", "Video transmitter active"},
    cid_code{"611", "Point tested OK"},
    cid_code{"612", "Point not tested"},
    cid_code{"613", "Intrusion zone walk tested"},
    cid_code{"614", "Fire zone walk tested"},
    cid_code{"615", "Panic zone walk tested"},
    cid_code{"616", "Service request"},
    cid_code{"621", "Event log reset"},
    cid_code{"622", "Event log 50% full"},
    cid_code{"623", "Event log 90% full"},
    cid_code{"624", "Event log overflow"},
    cid_code{"625", "Time/date reset"},
    cid_code{"626", "Time/date inaccurate"},
    cid_code{"627", "Program mode entry"},
    cid_code{"628", "Program mode exit"},
    cid_code{"629", "32 hour event log marker"},
    cid_code{"630", "Schedule change"},
    cid_code{"631", "Exception schedule change"},
    cid_code{"632", "Access schedule change"},
    cid_code{"641", "Senior watch trouble"},
    cid_code{"642", "Latch-key supervision"},
    cid_code{"651", "Reserved for Ademco use"},
    cid_code{"652", "Reserved for Ademco use"},
    cid_code{"653", "Reserved for Ademco use"},
    cid_code{"654", "System inactivity"},
    cid_code{"900", "Download abort"},
    cid_code{"901", "Download start/end"},
    cid_code{"902", "Download interrupted"},
    cid_code{"910", "Auto-close with bypass"},
    cid_code{"911", "Bypass closing"},
    cid_code{"999", "32 hour no read of event log"},
};

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
