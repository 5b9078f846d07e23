#include "arc/security/field_crypto.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include <fcntl.h>
#include <fmt/format.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arc/security/sodium.hpp"

namespace arc::security {

namespace {

static_assert(data_key_size == crypto_secretbox_KEYBYTES);
static_assert(sealed_overhead == 1 + 4 + crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES);

constexpr std::size_t id_offset = 1;
constexpr std::size_t nonce_offset = id_offset + 4;
constexpr std::size_t box_offset = nonce_offset + crypto_secretbox_NONCEBYTES;

// The id is a hash of the key under a context of its own, so it reveals nothing usable about
// the key and two different keys get different ids but for a 2^-32 chance.
std::uint32_t key_id(const std::array<std::uint8_t, data_key_size>& bytes) {
    ensure_sodium();
    static constexpr std::string_view context = "arc.data-key.id.v1";
    std::array<std::uint8_t, crypto_generichash_BYTES> hash{};
    crypto_generichash_state state;
    crypto_generichash_init(&state, nullptr, 0, hash.size());
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(context.data()),
                              context.size());
    crypto_generichash_update(&state, bytes.data(), bytes.size());
    crypto_generichash_final(&state, hash.data(), hash.size());
    return (std::uint32_t{hash[0]} << 24U) | (std::uint32_t{hash[1]} << 16U) |
           (std::uint32_t{hash[2]} << 8U) | std::uint32_t{hash[3]};
}

std::string errno_text(int err) { return std::system_category().message(err); }

// Closes a descriptor on scope exit.
class fd_guard {
public:
    explicit fd_guard(int fd) : fd_(fd) {}
    fd_guard(const fd_guard&) = delete;
    fd_guard& operator=(const fd_guard&) = delete;
    fd_guard(fd_guard&&) = delete;
    fd_guard& operator=(fd_guard&&) = delete;
    ~fd_guard() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    int get() const noexcept { return fd_; }

private:
    int fd_;
};

data_key read_key_file(const std::filesystem::path& path, int fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        throw security_error(
            fmt::format("{}: cannot stat data key file: {}", path.string(), errno_text(errno)));
    }
    if (!S_ISREG(st.st_mode)) {
        throw security_error(fmt::format("{}: data key file is not a regular file", path.string()));
    }
    if ((st.st_mode & 077U) != 0) {
        throw security_error(fmt::format(
            "{}: data key file has mode {:04o}: group and others must have no access (chmod 600 "
            "{})",
            path.string(), st.st_mode & 07777U, path.string()));
    }
    if (st.st_size != static_cast<off_t>(data_key_size)) {
        throw security_error(fmt::format(
            "{}: data key file has {} bytes, expected {} (truncated, or not a key file)",
            path.string(), st.st_size, data_key_size));
    }
    std::array<std::uint8_t, data_key_size> bytes{};
    std::size_t got = 0;
    while (got < bytes.size()) {
        const ssize_t n = ::read(fd, bytes.data() + got, bytes.size() - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            sodium_memzero(bytes.data(), bytes.size());
            throw security_error(fmt::format("{}: cannot read data key file: {}", path.string(),
                                             n < 0 ? errno_text(errno) : "short read"));
        }
        got += static_cast<std::size_t>(n);
    }
    data_key key(bytes);
    sodium_memzero(bytes.data(), bytes.size());
    return key;
}

void write_all(const std::filesystem::path& path, int fd, const std::uint8_t* data,
               std::size_t size) {
    std::size_t done = 0;
    while (done < size) {
        const ssize_t n = ::write(fd, data + done, size - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            throw security_error(fmt::format("{}: cannot write data key file: {}", path.string(),
                                             n < 0 ? errno_text(errno) : "short write"));
        }
        done += static_cast<std::size_t>(n);
    }
}

// Makes the new directory entry durable: a crash right after the first start must not leave
// a database sealed with a key whose file vanished.
void fsync_directory(const std::filesystem::path& dir) {
    const fd_guard fd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0 || ::fsync(fd.get()) != 0) {
        throw security_error(
            fmt::format("{}: cannot sync directory after creating the data key file: {}",
                        dir.string(), errno_text(errno)));
    }
}

// Creates the file; false when it appeared meanwhile (another process won the race).
bool create_key_file(const std::filesystem::path& path) {
    const fd_guard fd(
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (fd.get() < 0) {
        if (errno == EEXIST) {
            return false;
        }
        throw security_error(
            fmt::format("{}: cannot create data key file: {}", path.string(), errno_text(errno)));
    }
    std::array<std::uint8_t, data_key_size> bytes{};
    randombytes_buf(bytes.data(), bytes.size());
    try {
        write_all(path, fd.get(), bytes.data(), bytes.size());
        sodium_memzero(bytes.data(), bytes.size());
        if (::fsync(fd.get()) != 0) {
            throw security_error(
                fmt::format("{}: cannot sync data key file: {}", path.string(), errno_text(errno)));
        }
    } catch (...) {
        sodium_memzero(bytes.data(), bytes.size());
        // A partial file would be refused at the next start as truncated: remove it now.
        ::unlink(path.c_str());
        throw;
    }
    fsync_directory(path.parent_path());
    return true;
}

}  // namespace

data_key::data_key(const std::array<std::uint8_t, data_key_size>& bytes)
    : bytes_(bytes), id_(key_id(bytes)) {}

data_key::data_key(const data_key& other) = default;
data_key& data_key::operator=(const data_key& other) = default;
// A move copies the bytes (std::array); the source wipes its own copy when destroyed.
data_key::data_key(data_key&& other) noexcept = default;
data_key& data_key::operator=(data_key&& other) noexcept = default;

data_key::~data_key() { sodium_memzero(bytes_.data(), bytes_.size()); }

data_key data_key::generate() {
    ensure_sodium();
    std::array<std::uint8_t, data_key_size> bytes{};
    crypto_secretbox_keygen(bytes.data());
    data_key key(bytes);
    sodium_memzero(bytes.data(), bytes.size());
    return key;
}

data_key load_or_create_key_file(const std::filesystem::path& path) {
    ensure_sodium();
    if (path.has_parent_path()) {
        std::error_code ec;
        std::filesystem::create_directories(path.parent_path(), ec);
        if (ec) {
            throw security_error(fmt::format("{}: cannot create directory {}: {}", path.string(),
                                             path.parent_path().string(), ec.message()));
        }
    }
    for (int attempt = 0; attempt < 2; ++attempt) {
        const fd_guard fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        if (fd.get() >= 0) {
            return read_key_file(path, fd.get());
        }
        if (errno != ENOENT) {
            throw security_error(
                fmt::format("{}: cannot open data key file: {}", path.string(), errno_text(errno)));
        }
        if (create_key_file(path)) {
            // Read back what was written, through the same checks as at every later start.
            const fd_guard created(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
            if (created.get() < 0) {
                throw security_error(fmt::format("{}: cannot open data key file: {}", path.string(),
                                                 errno_text(errno)));
            }
            return read_key_file(path, created.get());
        }
    }
    throw security_error(fmt::format(
        "{}: data key file appears and vanishes: another program is at it", path.string()));
}

std::vector<std::uint8_t> seal(const data_key& key, std::span<const std::uint8_t> plaintext) {
    ensure_sodium();
    std::vector<std::uint8_t> out(sealed_overhead + plaintext.size());
    out[0] = sealed_version;
    const std::uint32_t id = key.id();
    out[id_offset + 0] = static_cast<std::uint8_t>(id >> 24U);
    out[id_offset + 1] = static_cast<std::uint8_t>(id >> 16U);
    out[id_offset + 2] = static_cast<std::uint8_t>(id >> 8U);
    out[id_offset + 3] = static_cast<std::uint8_t>(id);
    randombytes_buf(out.data() + nonce_offset, crypto_secretbox_NONCEBYTES);
    if (crypto_secretbox_easy(out.data() + box_offset, plaintext.data(), plaintext.size(),
                              out.data() + nonce_offset, key.bytes().data()) != 0) {
        throw security_error("field encryption failed");
    }
    return out;
}

std::vector<std::uint8_t> seal(const data_key& key, std::string_view plaintext) {
    return seal(
        key, std::span(reinterpret_cast<const std::uint8_t*>(plaintext.data()), plaintext.size()));
}

bool looks_sealed(std::span<const std::uint8_t> blob) noexcept {
    return blob.size() >= sealed_overhead && blob[0] == sealed_version;
}

std::optional<std::string> open(std::span<const data_key> keys,
                                std::span<const std::uint8_t> blob) {
    if (!looks_sealed(blob)) {
        return std::nullopt;
    }
    const std::uint32_t id =
        (std::uint32_t{blob[id_offset]} << 24U) | (std::uint32_t{blob[id_offset + 1]} << 16U) |
        (std::uint32_t{blob[id_offset + 2]} << 8U) | std::uint32_t{blob[id_offset + 3]};
    const auto key =
        std::find_if(keys.begin(), keys.end(), [id](const data_key& k) { return k.id() == id; });
    if (key == keys.end()) {
        return std::nullopt;
    }
    ensure_sodium();
    const std::size_t box_size = blob.size() - box_offset;
    std::string plain(box_size - crypto_secretbox_MACBYTES, '\0');
    if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plain.data()),
                                   blob.data() + box_offset, box_size, blob.data() + nonce_offset,
                                   key->bytes().data()) != 0) {
        return std::nullopt;
    }
    return plain;
}

std::optional<std::string> open(const data_key& key, std::span<const std::uint8_t> blob) {
    return open(std::span(&key, 1), blob);
}

}  // namespace arc::security
