// Purpose: the in-memory device registry used on the hot path (account -> key and mode).
// The database is authoritative; this map mirrors it and is updated after each commit.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "arc/protocol/dc09.hpp"
#include "arc/storage/store.hpp"

namespace arc::daemon {

/// Devices by upper-case account. Not thread-safe: owned by the io_context thread.
class device_registry {
public:
    /// What the receiver needs of one device.
    struct entry {
        arc::protocol::account_info info;
        arc::storage::device_mode mode = arc::storage::device_mode::active;
    };

    /// Upper-case form of an account (accounts are matched case-insensitively).
    static std::string normalise(std::string_view account);

    /// True for 3..16 hex digits (either case).
    static bool valid_account(std::string_view account) noexcept;

    /// Replaces the whole registry with `devices`.
    void load(const std::vector<arc::storage::device>& devices);
    /// Adds or replaces one device.
    void put(const arc::storage::device& dev);
    /// Removes a device; false if it was not there.
    bool erase(std::string_view account);
    /// The entry for `account` (any case), or nullptr.
    const entry* find(std::string_view account) const;

    /// The decision table's view of an account: nullopt when unknown or retired (a retired device
    /// is treated as an unknown account). Test-mode devices are answered like active ones.
    std::optional<arc::protocol::account_info> lookup(std::string_view account) const;

    std::size_t size() const noexcept { return devices_.size(); }

private:
    std::unordered_map<std::string, entry> devices_;
};

}  // namespace arc::daemon
