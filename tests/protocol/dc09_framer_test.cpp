// dc09_framer: every vector split at every offset and fed byte by byte; noise, missing LF, limits.
#include <string>
#include <vector>

#include "test_support.hpp"
#include <gtest/gtest.h>

#include "arc/protocol/dc09.hpp"
#include "arc/protocol/error.hpp"

namespace arc::protocol {
namespace {

std::vector<std::string> single_frame_vectors() {
    std::vector<std::string> out;
    for (const auto& v : test::load_json("dc09_vectors.json")) {
        if (v.at("expect").value("frames", std::size_t{1}) == 1) {
            out.push_back(v.at("raw").get<std::string>());
        }
    }
    return out;
}

std::vector<expected<std::string>> drain(dc09_framer& framer) {
    std::vector<expected<std::string>> out;
    for (auto item = framer.next(); item || item.error() != error::need_more;
         item = framer.next()) {
        out.push_back(std::move(item));
    }
    return out;
}

const std::string good = "\nB2220037\"SIA-DCS\"0001L0#1234[#1234|NFA0001]_03:04:05,01-02-2024\r";

TEST(dc09_framer, empty_framer_needs_more) {
    dc09_framer framer;
    const auto item = framer.next();
    ASSERT_FALSE(item);
    EXPECT_EQ(item.error(), error::need_more);
    EXPECT_EQ(framer.buffered(), 0U);
}

TEST(dc09_framer, every_vector_split_at_every_offset) {
    const auto vectors = single_frame_vectors();
    ASSERT_EQ(vectors.size(), 58U);
    for (const std::string& raw : vectors) {
        for (std::size_t cut = 0; cut <= raw.size(); ++cut) {
            dc09_framer framer;
            framer.feed(std::string_view(raw).substr(0, cut));
            auto early = drain(framer);
            framer.feed(std::string_view(raw).substr(cut));
            auto late = drain(framer);
            early.insert(early.end(), late.begin(), late.end());
            ASSERT_EQ(early.size(), 1U) << "cut " << cut << " of " << raw;
            ASSERT_TRUE(early.front());
            EXPECT_EQ(*early.front(), raw);
            EXPECT_EQ(framer.buffered(), 0U);
        }
    }
}

TEST(dc09_framer, every_vector_byte_by_byte) {
    for (const std::string& raw : single_frame_vectors()) {
        dc09_framer framer;
        std::vector<std::string> frames;
        for (const char ch : raw) {
            framer.feed(std::string_view(&ch, 1));
            for (auto f = framer.next(); f; f = framer.next()) {
                frames.push_back(*f);
            }
        }
        ASSERT_EQ(frames.size(), 1U) << raw;
        EXPECT_EQ(frames.front(), raw);
    }
}

TEST(dc09_framer, many_frames_in_one_feed) {
    std::string stream;
    for (int i = 0; i < 5; ++i) {
        stream += good;
    }
    dc09_framer framer;
    framer.feed(stream);
    const auto frames = drain(framer);
    ASSERT_EQ(frames.size(), 5U);
    for (const auto& f : frames) {
        ASSERT_TRUE(f);
        EXPECT_EQ(*f, good);
    }
}

TEST(dc09_framer, skips_noise_between_frames) {
    dc09_framer framer;
    framer.feed(std::string("\r\n\r", 3) + good + std::string("\0\0\0 \r\r\n", 8));
    framer.feed(std::string(" \0", 2) + good + std::string("\0\0", 2));
    const auto frames = drain(framer);
    ASSERT_EQ(frames.size(), 2U);
    EXPECT_EQ(frames[0].value(), good);
    EXPECT_EQ(frames[1].value(), good);
    // 3 + 8 + 2 + 2 noise bytes; the LF of "\r\n" before the second frame was restarted.
    EXPECT_EQ(framer.discarded(), 15U);
}

TEST(dc09_framer, missing_lf_is_added) {
    dc09_framer framer;
    framer.feed(good.substr(1));
    framer.feed(good.substr(1));
    const auto frames = drain(framer);
    ASSERT_EQ(frames.size(), 2U);
    EXPECT_EQ(frames[0].value(), good);
    EXPECT_EQ(frames[1].value(), good);
}

TEST(dc09_framer, lf_inside_frame_restarts_it) {
    dc09_framer framer;
    framer.feed("\n0000003A\"SIA-DCS\"00");  // truncated fragment, then a full frame
    framer.feed(good);
    const auto frames = drain(framer);
    ASSERT_EQ(frames.size(), 1U);
    EXPECT_EQ(frames[0].value(), good);
    EXPECT_EQ(framer.discarded(), 20U);
}

TEST(dc09_framer, oversize_frame_discarded_and_reported_once) {
    dc09_framer framer(100);
    std::string big = "\n" + std::string(300, 'X') + "\r";
    framer.feed(big);
    framer.feed(good);
    const auto items = drain(framer);
    ASSERT_EQ(items.size(), 2U);
    ASSERT_FALSE(items[0]);
    EXPECT_EQ(items[0].error(), error::frame_too_large);
    ASSERT_TRUE(items[1]);
    EXPECT_EQ(*items[1], good);
    EXPECT_EQ(framer.discarded(), big.size());
}

TEST(dc09_framer, oversize_frame_fed_byte_by_byte_keeps_memory_bounded) {
    constexpr std::size_t limit = 80;
    dc09_framer framer(limit);
    const std::string stream = "\n" + std::string(1000, 'Y') + "\r" + good;
    std::size_t errors = 0;
    std::vector<std::string> frames;
    for (const char ch : stream) {
        framer.feed(std::string_view(&ch, 1));
        ASSERT_LE(framer.buffered(), limit);
        for (auto item = framer.next(); item || item.error() != error::need_more;
             item = framer.next()) {
            if (item) {
                frames.push_back(*item);
            } else {
                EXPECT_EQ(item.error(), error::frame_too_large);
                ++errors;
            }
        }
    }
    EXPECT_EQ(errors, 1U);
    ASSERT_EQ(frames.size(), 1U);
    EXPECT_EQ(frames[0], good);
}

TEST(dc09_framer, frame_of_exactly_max_frame_passes) {
    dc09_framer exact(good.size());
    exact.feed(good);
    auto frame = exact.next();
    ASSERT_TRUE(frame);
    EXPECT_EQ(*frame, good);

    dc09_framer smaller(good.size() - 1);
    smaller.feed(good);
    auto refused = smaller.next();
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error(), error::frame_too_large);
    EXPECT_EQ(smaller.next().error(), error::need_more);
}

TEST(dc09_framer, buffered_counts_incomplete_frame) {
    dc09_framer framer;
    framer.feed(good.substr(0, 10));
    EXPECT_EQ(framer.buffered(), 10U);
    EXPECT_EQ(framer.next().error(), error::need_more);
    framer.feed(good.substr(10));
    EXPECT_EQ(framer.buffered(), 0U);
    EXPECT_EQ(framer.next().value(), good);
}

TEST(dc09_framer, two_frame_vector_in_one_read_answered_in_order) {
    const std::string two =
        good + "\n0AB9003A\"SIA-DCS\"0015L0#1234[#1234|Nri1/MH001]_10:15:30,03-14-2025\r";
    dc09_framer framer;
    framer.feed(two);
    const auto frames = drain(framer);
    ASSERT_EQ(frames.size(), 2U);
    EXPECT_EQ(frames[0].value(), good);
    EXPECT_EQ(frames[1].value(), two.substr(good.size()));
}

}  // namespace
}  // namespace arc::protocol
