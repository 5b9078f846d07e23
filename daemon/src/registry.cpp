#include "registry.hpp"

#include <cctype>

namespace arc::daemon {

std::string device_registry::normalise(std::string_view account) {
    std::string out(account);
    for (char& c : out) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return out;
}

bool device_registry::valid_account(std::string_view account) noexcept {
    if (account.size() < 3 || account.size() > 16) {
        return false;
    }
    for (const char c : account) {
        if (std::isxdigit(static_cast<unsigned char>(c)) == 0) {
            return false;
        }
    }
    return true;
}

void device_registry::load(const std::vector<arc::storage::device>& devices) {
    devices_.clear();
    for (const auto& dev : devices) {
        put(dev);
    }
}

void device_registry::put(const arc::storage::device& dev) {
    entry e;
    if (dev.key) {
        e.info.key = *dev.key;
    }
    e.mode = dev.mode;
    devices_.insert_or_assign(normalise(dev.account), std::move(e));
}

bool device_registry::erase(std::string_view account) {
    return devices_.erase(normalise(account)) > 0;
}

const device_registry::entry* device_registry::find(std::string_view account) const {
    const auto it = devices_.find(normalise(account));
    return it == devices_.end() ? nullptr : &it->second;
}

std::optional<arc::protocol::account_info> device_registry::lookup(std::string_view account) const {
    const entry* e = find(account);
    if (e == nullptr || e->mode == arc::storage::device_mode::retired) {
        return std::nullopt;
    }
    return e->info;
}

}  // namespace arc::daemon
