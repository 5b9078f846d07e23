#include "arc/security/audit_chain.hpp"

#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <sodium.h>

#include "arc/security/sodium.hpp"

namespace arc::security {

namespace {

// Changing the encoding means a new tag: old entries keep verifying under the old one.
constexpr std::string_view hash_tag = "arc.audit.v1";

void put_u64(crypto_generichash_state& state, std::uint64_t value) {
    std::array<std::uint8_t, 8> bytes{};
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        bytes[i] = static_cast<std::uint8_t>(value >> (8U * (7U - i)));
    }
    crypto_generichash_update(&state, bytes.data(), bytes.size());
}

void put_field(crypto_generichash_state& state, std::string_view text) {
    put_u64(state, text.size());
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(text.data()),
                              text.size());
}

chain_result failure(std::int64_t seq, std::string reason, const chain_result& so_far) {
    chain_result r = so_far;
    r.ok = false;
    r.bad_seq = seq;
    r.reason = std::move(reason);
    return r;
}

// Whether `e`'s stored hash matches its fields with another seq: it was renumbered.
bool matches_with_seq(const chained_entry& e, std::int64_t seq) {
    audit_entry moved = e.entry;
    moved.seq = seq;
    return audit_hash(e.prev_hash, moved) == e.hash;
}

// Why entries[i] does not continue the chain verified up to `so_far`, most specific first.
chain_result diagnose(std::span<const chained_entry> entries, std::size_t i,
                      const chain_result& so_far) {
    const chained_entry& e = entries[i];
    const std::int64_t seq = e.entry.seq;
    const std::int64_t expected_seq = so_far.last_seq + 1;
    const bool self_ok = audit_hash(e.prev_hash, e.entry) == e.hash;
    if (i > 0 && seq <= entries[i - 1].entry.seq) {
        return failure(
            seq, fmt::format("reordered: seq {} comes after seq {}", seq, entries[i - 1].entry.seq),
            so_far);
    }
    for (std::size_t j = i + 1; j < entries.size(); ++j) {
        if (entries[j].hash == e.prev_hash) {
            return failure(expected_seq,
                           fmt::format("reordered: the entry at seq {} was chained after seq "
                                       "{}, which now comes later",
                                       seq, entries[j].entry.seq),
                           so_far);
        }
    }
    if (seq > expected_seq) {
        return failure(
            expected_seq,
            seq == expected_seq + 1
                ? fmt::format("deleted: seq {} is missing", expected_seq)
                : fmt::format("deleted: seqs {} to {} are missing", expected_seq, seq - 1),
            so_far);
    }
    if (!self_ok) {
        if (matches_with_seq(e, seq - 1)) {
            return failure(seq - 1,
                           fmt::format("inserted: seq {} was added to the chain and the "
                                       "entries after it renumbered",
                                       seq - 1),
                           so_far);
        }
        if (matches_with_seq(e, seq + 1)) {
            return failure(seq,
                           fmt::format("deleted: an entry before seq {} was removed and the "
                                       "entries after it renumbered",
                                       seq + 1),
                           so_far);
        }
        return failure(seq, fmt::format("edited: the fields of seq {} do not match its hash", seq),
                       so_far);
    }
    // Its own hash is right but it does not follow the entry before it.
    if (i >= 2 && e.prev_hash == entries[i - 2].hash) {
        return failure(entries[i - 1].entry.seq,
                       fmt::format("inserted: seq {} is not part of the chain (seq {} was "
                                   "chained after seq {})",
                                   entries[i - 1].entry.seq, seq, entries[i - 2].entry.seq),
                       so_far);
    }
    return failure(seq,
                   fmt::format("deleted or replaced: seq {} was not chained after the entry "
                               "now before it",
                               seq),
                   so_far);
}

}  // namespace

hash32 audit_hash(const hash32& prev_hash, const audit_entry& entry) {
    ensure_sodium();
    crypto_generichash_state state;
    hash32 out{};
    crypto_generichash_init(&state, nullptr, 0, out.size());
    crypto_generichash_update(&state, prev_hash.data(), prev_hash.size());
    put_field(state, hash_tag);
    put_u64(state, static_cast<std::uint64_t>(entry.seq));
    put_u64(state, static_cast<std::uint64_t>(entry.at_ms));
    put_field(state, entry.actor);
    put_field(state, entry.action);
    put_field(state, entry.target);
    put_field(state, entry.peer);
    put_field(state, entry.detail);
    crypto_generichash_final(&state, out.data(), out.size());
    return out;
}

chained_entry chain_entry(const hash32& prev_hash, audit_entry entry) {
    chained_entry out;
    out.hash = audit_hash(prev_hash, entry);
    out.prev_hash = prev_hash;
    out.entry = std::move(entry);
    return out;
}

chain_result verify_chain(std::span<const chained_entry> entries, const chain_start& start) {
    chain_result result;
    result.last_seq = start.seq - 1;
    result.last_hash = start.prev_hash;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const chained_entry& e = entries[i];
        const std::int64_t seq = e.entry.seq;
        const std::int64_t expected_seq = result.last_seq + 1;
        const bool self_ok = audit_hash(e.prev_hash, e.entry) == e.hash;
        const bool link_ok = e.prev_hash == result.last_hash;
        if (self_ok && link_ok && seq == expected_seq) {
            result.last_seq = seq;
            result.last_hash = e.hash;
            continue;
        }
        return diagnose(entries, i, result);
    }
    return result;
}

}  // namespace arc::security
