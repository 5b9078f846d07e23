// Purpose: the service-level report (arc/storage/report.hpp) as the admin API's REPORT object
// (docs/admin-api.md, "report") and as CSV sections for spreadsheets.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "arc/storage/report.hpp"

namespace arc::api {

/// REPORT: {"from","to","generated","alarms":{…},"answer":{…},"dispatch":{…},"on_site":{…},
/// "outcomes":[…],"mission_outcomes":[…],"untaken":[…]}.
nlohmann::json report_to_json(const storage::service_report& report);

/// The REPORT as CSV (comma, RFC 4180 quoting, CRLF): one section per table, each headed by a
/// `section` column, so a spreadsheet opens it as it is.
std::string report_to_csv(const nlohmann::json& report);

}  // namespace arc::api
