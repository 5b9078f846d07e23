// libFuzzer: parse_adm_cid and parse_contact_id on arbitrary data, with round-trip invariants.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "arc/protocol/contact_id.hpp"

namespace {

void check(bool ok) {
    if (!ok) {
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace arc::protocol;
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): libFuzzer hands out bytes.
    const std::string_view input(reinterpret_cast<const char*>(data), size);

    if (const auto block = parse_adm_cid(input)) {
        const auto again = parse_adm_cid(encode_adm_cid(block->account.value_or(""), block->event));
        check(again.has_value());
        check(again->event.qualifier == block->event.qualifier &&
              again->event.code == block->event.code && again->event.group == block->event.group &&
              again->event.zone == block->event.zone && again->event.known == block->event.known);
        check(block->event.known == !cid_code_meaning(block->event.code).empty());
    }

    if (const auto msg = parse_contact_id(input)) {
        const std::string first15 = msg->account + msg->message_type + msg->event.qualifier +
                                    msg->event.code + msg->event.group + msg->event.zone;
        const auto checksum = contact_id_checksum(first15);
        check(checksum.has_value() && *checksum == msg->checksum);
    }
    (void)contact_id_checksum(input);
    return 0;
}
