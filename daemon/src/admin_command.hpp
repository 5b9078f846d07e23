// Purpose: one dispatcher for the admin API's command families (subscribers, teams, import,
// retention): the command name picks a handler member, and what the member throws becomes the
// reply (field_error: its code and message; anything else: "internal").
#pragma once

#include <exception>
#include <initializer_list>
#include <string_view>

#include "admin_subscribers.hpp"
#include <nlohmann/json.hpp>

namespace arc::daemon {

/// One command of a family: its name and the member of Handler that answers it.
template <class Handler>
struct admin_route {
    std::string_view cmd;
    void (Handler::*run)(const nlohmann::json& req);
};

/// When `cmd` is one of `routes`, builds `Handler(backend, reply)`, runs the route's member
/// on `req` and returns true (the member replies, inline or after its commit); false, with
/// nothing called, for any other command. Never throws.
template <class Handler>
bool run_admin_command(std::string_view cmd, const nlohmann::json& req, admin_backend& backend,
                       const admin_reply& reply,
                       std::initializer_list<admin_route<Handler>> routes) {
    for (const admin_route<Handler>& route : routes) {
        if (route.cmd != cmd) {
            continue;
        }
        try {
            Handler h(backend, reply);
            (h.*route.run)(req);
        } catch (const field_error& e) {
            reply.fail(e.code, e.message);
        } catch (const std::exception& e) {
            reply.fail("internal", e.what());
        }
        return true;
    }
    return false;
}

}  // namespace arc::daemon
