#include "arc/security/audit_chain.hpp"

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace {

namespace sec = arc::security;

sec::audit_entry entry(std::int64_t seq) {
    return sec::audit_entry{seq,          1722334218000 + seq * 1000,   "admin-socket",
                            "device.add", "ACCT" + std::to_string(seq), "",
                            "mode=active"};
}

// A valid chain of n entries, seq 1..n.
std::vector<sec::chained_entry> make_chain(std::int64_t n) {
    std::vector<sec::chained_entry> chain;
    sec::hash32 prev = sec::zero_hash;
    for (std::int64_t seq = 1; seq <= n; ++seq) {
        chain.push_back(sec::chain_entry(prev, entry(seq)));
        prev = chain.back().hash;
    }
    return chain;
}

void expect_broken(const sec::chain_result& r, std::int64_t seq, const std::string& kind) {
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.bad_seq, seq) << r.reason;
    EXPECT_EQ(r.reason.rfind(kind + ":", 0), 0U) << r.reason;
}

TEST(audit_chain, intact_chain_verifies_and_reports_its_head) {
    const auto chain = make_chain(5);
    EXPECT_EQ(chain[0].prev_hash, sec::zero_hash);
    const sec::chain_result r = sec::verify_chain(chain);
    EXPECT_TRUE(r.ok) << r.reason;
    EXPECT_EQ(r.last_seq, 5);
    EXPECT_EQ(r.last_hash, chain.back().hash);
    const sec::chain_result empty = sec::verify_chain({});
    EXPECT_TRUE(empty.ok);
    EXPECT_EQ(empty.last_seq, 0);
    EXPECT_EQ(empty.last_hash, sec::zero_hash);
}

TEST(audit_chain, verifies_in_slices) {
    const auto chain = make_chain(6);
    const sec::chain_result first = sec::verify_chain(std::span(chain).first(3));
    ASSERT_TRUE(first.ok);
    const sec::chain_result second = sec::verify_chain(
        std::span(chain).subspan(3), sec::chain_start{first.last_seq + 1, first.last_hash});
    EXPECT_TRUE(second.ok) << second.reason;
    EXPECT_EQ(second.last_seq, 6);
}

TEST(audit_chain, every_field_is_covered) {
    const auto base = make_chain(1)[0];
    auto edits = std::vector<std::pair<const char*, void (*)(sec::audit_entry&)>>{
        {"seq", [](sec::audit_entry& e) { e.seq = 2; }},
        {"at_ms", [](sec::audit_entry& e) { e.at_ms += 1; }},
        {"actor", [](sec::audit_entry& e) { e.actor = "mallory"; }},
        {"action", [](sec::audit_entry& e) { e.action = "device.remove"; }},
        {"target", [](sec::audit_entry& e) { e.target += "0"; }},
        {"peer", [](sec::audit_entry& e) { e.peer = "10.0.0.9:4000"; }},
        {"detail", [](sec::audit_entry& e) { e.detail = "mode=test"; }},
    };
    for (const auto& [name, edit] : edits) {
        sec::audit_entry changed = base.entry;
        edit(changed);
        EXPECT_NE(sec::audit_hash(base.prev_hash, changed), base.hash) << name;
    }
    // Moving bytes between adjacent fields changes the hash too (length prefixes).
    sec::audit_entry shifted = base.entry;
    shifted.actor = "admin-socketdevice";
    shifted.action = ".add";
    EXPECT_NE(sec::audit_hash(base.prev_hash, shifted), base.hash);
}

TEST(audit_chain, edited_field_is_found) {
    auto chain = make_chain(5);
    chain[2].entry.detail = "mode=retired";
    expect_broken(sec::verify_chain(chain), 3, "edited");
}

TEST(audit_chain, edited_entry_with_its_hash_recomputed_breaks_the_next_link) {
    auto chain = make_chain(5);
    chain[2].entry.actor = "mallory";
    chain[2].hash = sec::audit_hash(chain[2].prev_hash, chain[2].entry);
    const sec::chain_result r = sec::verify_chain(chain);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.bad_seq, 4) << r.reason;
}

TEST(audit_chain, inserted_entry_is_found) {
    // A forged entry chained after seq 2, the later entries renumbered to make room.
    auto chain = make_chain(5);
    sec::audit_entry forged = entry(3);
    forged.action = "operator.add";
    forged.target = "mallory";
    chain.insert(chain.begin() + 2, sec::chain_entry(chain[1].hash, forged));
    for (std::size_t i = 3; i < chain.size(); ++i) {
        chain[i].entry.seq += 1;
    }
    expect_broken(sec::verify_chain(chain), 3, "inserted");
}

TEST(audit_chain, inserted_entry_without_renumbering_is_found) {
    auto chain = make_chain(3);
    chain.push_back(sec::chain_entry(chain[2].hash, entry(4)));
    chain.push_back(sec::chain_entry(chain[3].hash, entry(5)));
    // Entry 6 was chained after 4; 5 was slipped in between (and given seq 5, the last free).
    chain.push_back(sec::chain_entry(chain[3].hash, entry(6)));
    expect_broken(sec::verify_chain(chain), 5, "inserted");
}

TEST(audit_chain, deleted_entry_is_found) {
    auto chain = make_chain(5);
    chain.erase(chain.begin() + 2);
    expect_broken(sec::verify_chain(chain), 3, "deleted");

    auto first_gone = make_chain(3);
    first_gone.erase(first_gone.begin());
    expect_broken(sec::verify_chain(first_gone), 1, "deleted");
}

TEST(audit_chain, deleted_entry_with_renumbering_is_found) {
    auto chain = make_chain(5);
    chain.erase(chain.begin() + 2);
    for (std::size_t i = 2; i < chain.size(); ++i) {
        chain[i].entry.seq -= 1;
    }
    expect_broken(sec::verify_chain(chain), 3, "deleted");
}

TEST(audit_chain, swapped_pair_is_found) {
    // Rows exchanged in place (each keeps the other's seq) ...
    auto chain = make_chain(5);
    std::swap(chain[1], chain[2]);
    std::swap(chain[1].entry.seq, chain[2].entry.seq);
    expect_broken(sec::verify_chain(chain), 2, "reordered");
    // ... or listed out of order.
    auto listed = make_chain(5);
    std::swap(listed[1], listed[2]);
    expect_broken(sec::verify_chain(listed), 2, "reordered");
}

TEST(audit_chain, truncated_tail_is_not_detectable_by_the_chain_alone) {
    // Documented limit: the chain of the first 3 entries is a valid chain. The stored head (seq
    // and hash of the last entry, in storage's meta) is what shows that 4 and 5 were removed.
    auto chain = make_chain(5);
    const sec::hash32 head = chain.back().hash;
    chain.resize(3);
    const sec::chain_result r = sec::verify_chain(chain);
    EXPECT_TRUE(r.ok);
    EXPECT_EQ(r.last_seq, 3);
    EXPECT_NE(r.last_hash, head) << "comparing with the stored head catches it";
}

}  // namespace
