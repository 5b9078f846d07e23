// Purpose: arc::expected<T>, a value or a std::error_code (tl::expected until std::expected).
#pragma once

#include <system_error>

#include <tl/expected.hpp>

namespace arc {

/// A value or the error that prevented it.
template <class T>
using expected = tl::expected<T, std::error_code>;

/// Builds the error side of an arc::expected.
inline tl::unexpected<std::error_code> fail(std::error_code ec) { return tl::unexpected(ec); }

}  // namespace arc
