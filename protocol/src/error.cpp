#include "arc/protocol/error.hpp"

#include <string>

namespace arc::protocol {

namespace {

class protocol_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "arc.protocol"; }

    std::string message(int value) const override {
        switch (static_cast<error>(value)) {
            case error::need_more:
                return "need more bytes";
            case error::frame_too_large:
                return "frame too large";
            case error::bad_format:
                return "bad frame format";
            case error::bad_crc:
                return "CRC mismatch";
            case error::bad_length:
                return "length mismatch";
            case error::bad_header:
                return "bad frame header";
            case error::unknown_token:
                return "unknown ID token";
            case error::unknown_account:
                return "unknown account";
            case error::no_key:
                return "no key for encrypted account";
            case error::decrypt_failed:
                return "decryption failed";
            case error::bad_timestamp:
                return "bad or missing timestamp";
            case error::outside_window:
                return "timestamp outside the window";
            case error::encryption_required:
                return "clear text from an encrypted account";
            case error::bad_data:
                return "unparsable data block";
            case error::empty_data:
                return "data block carries no event";
            case error::unknown_code:
                return "unknown event code";
            case error::bad_checksum:
                return "Contact ID checksum mismatch";
            case error::bad_key:
                return "bad AES key";
            case error::missing_field:
                return "mandatory field missing";
        }
        return "unknown arc.protocol error";
    }
};

}  // namespace

const std::error_category& error_category() noexcept {
    static const protocol_category category;
    return category;
}

}  // namespace arc::protocol
