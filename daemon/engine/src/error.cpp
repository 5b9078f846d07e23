#include "arc/engine/error.hpp"

#include <string>

namespace arc::engine {

namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "arc.engine"; }
    std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
            case errc::unknown_alarm:
                return "no open alarm with this id";
            case errc::illegal_transition:
                return "action not allowed in the alarm's current state";
            case errc::already_taken:
                return "alarm already taken by an operator";
            case errc::missing_operator:
                return "operator missing";
            case errc::missing_outcome:
                return "an alarm is closed with an outcome";
            case errc::missing_team:
                return "dispatch needs a team";
            case errc::storm_member:
                return "alarm is part of a storm: act on the storm alarm";
            case errc::missing_reason:
                return "a mission is declined with a reason";
            case errc::missing_handover:
                return "a referral to the Servizio Sociale Professionale needs a hand-over note";
        }
        return "unknown engine error";
    }
};

}  // namespace

const std::error_category& engine_category() noexcept {
    static const category instance;
    return instance;
}

std::error_code make_error_code(errc value) noexcept {
    return {static_cast<int>(value), engine_category()};
}

}  // namespace arc::engine
