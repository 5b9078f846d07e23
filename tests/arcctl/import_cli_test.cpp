// arcctl import against a scripted arcd (the `call` function): a busy commit is sent again and a
// commit that stays busy or fails otherwise cancels the staged import.
#include "import_cli.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>
#include <unistd.h>

#include "arc/api/client.hpp"

namespace {

using nlohmann::json;

class import_cli_test : public ::testing::Test {
protected:
    void SetUp() override {
        file_ = std::filesystem::temp_directory_path() /
                ("arc-import-cli-" + std::to_string(::getpid()) + ".csv");
        std::ofstream(file_) << "account;label\n4242;casa Rossi\n4243;casa Bianchi\n";
    }
    void TearDown() override { std::filesystem::remove(file_); }

    // Runs `arcctl import devices FILE`; `commit` answers each import.commit in turn.
    std::optional<arc::arcctl::import_outcome> run(std::function<json(int attempt)> commit) {
        CLI::App app;
        const auto cli = arc::arcctl::add_import_commands(app);
        const std::vector<std::string> args{file_.string(), "devices", "import"};  // reversed
        app.parse(std::vector<std::string>(args));
        int attempts = 0;
        return arc::arcctl::run_import_commands(*cli, [&](const json& req) -> json {
            sent_.push_back(req.at("cmd").get<std::string>());
            const std::string cmd = sent_.back();
            if (cmd == "import.begin") {
                return json{{"import", "imp-1"}, {"kind", "devices"}};
            }
            if (cmd == "import.rows") {
                return json{{"staged", req.at("rows").size()}};
            }
            if (cmd == "import.commit") {
                return commit(++attempts);
            }
            return json{{"cancelled", "imp-1"}};
        });
    }

    static json committed() {
        return json{{"kind", "devices"}, {"file", "x.csv"},        {"rows", 2},
                    {"dry_run", false},  {"committed", true},      {"imported", 2},
                    {"errors_total", 0}, {"errors", json::array()}};
    }

    std::filesystem::path file_;
    std::vector<std::string> sent_;
};

TEST_F(import_cli_test, a_busy_commit_is_sent_again_until_arcd_takes_it) {
    const auto out = run([](int attempt) -> json {
        if (attempt < 3) {
            throw arc::api::api_error("busy", "a backup is running; the rows stay staged");
        }
        return committed();
    });
    ASSERT_TRUE(out);
    EXPECT_EQ(out->exit_code, 0);
    EXPECT_EQ(out->result["imported"], 2);
    EXPECT_EQ(std::count(sent_.begin(), sent_.end(), "import.commit"), 3);
    EXPECT_EQ(std::count(sent_.begin(), sent_.end(), "import.cancel"), 0);
}

TEST_F(import_cli_test, a_commit_refused_otherwise_cancels_the_import_and_reports_the_refusal) {
    try {
        run([](int) -> json { throw arc::api::api_error("invalid", "rows: at most 50000"); });
        FAIL() << "no error";
    } catch (const arc::api::api_error& e) {
        EXPECT_EQ(e.code(), "invalid");
    }
    EXPECT_EQ(std::count(sent_.begin(), sent_.end(), "import.commit"), 1);
    EXPECT_EQ(std::count(sent_.begin(), sent_.end(), "import.cancel"), 1);
}

TEST_F(import_cli_test, busy_then_gone_reports_busy_not_an_unknown_import) {
    // arcd answered busy after it had consumed the rows (its writer queue was full).
    try {
        run([](int attempt) -> json {
            if (attempt == 1) {
                throw arc::api::api_error("busy", "nothing imported: queue full");
            }
            throw arc::api::api_error("not_found", "no staged import imp-1");
        });
        FAIL() << "no error";
    } catch (const arc::api::api_error& e) {
        EXPECT_EQ(e.code(), "busy");
    }
    EXPECT_EQ(std::count(sent_.begin(), sent_.end(), "import.commit"), 2);
}

}  // namespace
