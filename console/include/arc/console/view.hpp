// Purpose: the console's view: renders the app's state into a screen-sized grid of cells
// (one code point and a style each), the same at any size from the same state and clock. The
// terminal layer paints the grid; tests read it as text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "arc/console/app.hpp"

namespace arc::console {

enum class color : std::uint8_t { normal, red, yellow, cyan, green, magenta };

struct style {
    color fg = color::normal;
    bool bold = false;
    bool reverse = false;
    bool operator==(const style&) const = default;
};

struct cell {
    char32_t ch = U' ';
    style st;
};

class grid {
public:
    grid(int rows, int cols);
    int rows() const noexcept { return rows_; }
    int cols() const noexcept { return cols_; }
    const cell& at(int row, int col) const { return cells_.at(index(row, col)); }

    /// Writes `text` from (row, col) in `st`, clipped at the right edge (and at `max_cols`
    /// columns when >= 0); returns the columns written. Out-of-grid rows write nothing.
    int put(int row, int col, std::string_view text, style st = {}, int max_cols = -1);
    /// Sets the style of cells [col, col+n) of `row` (clipped), keeping their characters.
    void paint(int row, int col, int n, style st);

    /// Replaces every non-ASCII character by its ASCII stand-in ("▲" → "!", "è" → "e", else "?").
    void to_ascii();

    /// The row as UTF-8 text, trailing spaces removed.
    std::string text(int row) const;
    /// Every row, '\n' after each (for test failure messages).
    std::string dump() const;

private:
    std::size_t index(int row, int col) const;
    int rows_;
    int cols_;
    std::vector<cell> cells_;
};

/// The screen an operator sees at `rows`×`cols` at `now_ms` (Unix ms: ages and the clock).
/// Never writes outside the grid; sizes below 1×1 give an empty grid.
grid render(const app& a, int rows, int cols, std::int64_t now_ms);

}  // namespace arc::console
