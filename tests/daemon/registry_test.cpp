#include "registry.hpp"

#include <gtest/gtest.h>

namespace {

using arc::daemon::device_registry;
using arc::storage::device;
using arc::storage::device_mode;

TEST(registry, accounts_are_case_insensitive_and_retired_is_unknown) {
    device_registry reg;
    device dev;
    dev.account = "abc123";
    dev.key = std::vector<std::uint8_t>(16, 1);
    reg.put(dev);
    ASSERT_TRUE(reg.lookup("ABC123"));
    EXPECT_TRUE(reg.lookup("abc123")->key.has_value());
    dev.mode = device_mode::test;
    reg.put(dev);
    EXPECT_TRUE(reg.lookup("ABC123"));
    dev.mode = device_mode::retired;
    reg.put(dev);
    EXPECT_FALSE(reg.lookup("ABC123"));
    EXPECT_NE(reg.find("ABC123"), nullptr);
    EXPECT_TRUE(reg.erase("Abc123"));
    EXPECT_EQ(reg.find("ABC123"), nullptr);
}

TEST(registry, valid_account) {
    EXPECT_TRUE(device_registry::valid_account("123"));
    EXPECT_TRUE(device_registry::valid_account("0123456789abcdef"));
    EXPECT_FALSE(device_registry::valid_account("12"));
    EXPECT_FALSE(device_registry::valid_account("0123456789abcdef0"));
    EXPECT_FALSE(device_registry::valid_account("12G4"));
}

}  // namespace
