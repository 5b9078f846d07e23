// Purpose: the audit trail's hash chain: each entry's hash covers the previous hash and the
// entry's fields, so editing, inserting, deleting or reordering entries shows.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

namespace arc::security {

/// A BLAKE2b-256 hash.
using hash32 = std::array<std::uint8_t, 32>;

/// The prev_hash of the first entry: 32 zero bytes.
inline constexpr hash32 zero_hash{};

/// One audited action: who did what to what, when, from where.
struct audit_entry {
    std::int64_t seq = 0;    ///< 1, 2, 3, ... with no gaps
    std::int64_t at_ms = 0;  ///< Unix milliseconds
    std::string actor;       ///< operator username, or "admin-socket"
    std::string action;      ///< the command, e.g. "operator.add"
    std::string target;      ///< what it acted on, e.g. a username or an account
    std::string peer;        ///< where the request came from ("" for the local socket)
    std::string detail;      ///< what changed (never a secret)
};

/// An entry with its links as stored.
struct chained_entry {
    audit_entry entry;
    hash32 prev_hash{};
    hash32 hash{};
};

/// BLAKE2b-256 of prev_hash || a version tag || seq, at_ms (8 bytes each, big-endian) || actor,
/// action, target, peer, detail (each an 8-byte big-endian length, then its bytes). The lengths
/// make the encoding unambiguous ("ab"+"c" differs from "a"+"bc").
hash32 audit_hash(const hash32& prev_hash, const audit_entry& entry);

/// Links `entry` after `prev_hash`.
chained_entry chain_entry(const hash32& prev_hash, audit_entry entry);

/// Where a chain (or a slice of one) starts.
struct chain_start {
    std::int64_t seq = 1;          ///< seq of the first entry
    hash32 prev_hash = zero_hash;  ///< its prev_hash
};

/// The outcome of a verification.
struct chain_result {
    bool ok = true;
    std::int64_t bad_seq = 0;   ///< the first seq found wrong (ok == false)
    std::string reason;         ///< "edited", "inserted", "deleted", "reordered" and how it shows
    std::int64_t last_seq = 0;  ///< seq of the last entry checked (start.seq - 1 when none)
    hash32 last_hash{};         ///< its hash: the next slice's prev_hash
};

/// Checks `entries` in the order given (ascending seq as stored). The first problem is reported:
/// an entry whose fields no longer match its hash (edited), one that was added and the later
/// ones renumbered (inserted), a gap or renumbering after a removal (deleted), entries out of
/// order or linked to a later one (reordered). Entries cut off the end leave a valid chain:
/// the chain alone cannot show that; the stored head (seq and hash of the last entry, kept
/// apart from the entries) does.
chain_result verify_chain(std::span<const chained_entry> entries, const chain_start& start = {});

}  // namespace arc::security
