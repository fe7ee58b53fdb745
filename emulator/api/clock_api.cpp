#include "api/clock_api.h"

#include <nlohmann/json.hpp>

#include "core/json_text.h"

#include "api/errors.h"
#include "core/function_registry.h"

namespace coldlab::api {
namespace {

using nlohmann::json;
using core::json_text;

json clock_document(core::Clock& clock) {
  json doc = {{"clock", clock.name()}, {"now_us", clock.now_us()}};
  if (auto* virtual_clock = dynamic_cast<core::VirtualClock*>(&clock)) {
    doc["skipped_us"] = virtual_clock->skipped_us();
    doc["active"] = virtual_clock->active();
  }
  return doc;
}

void send_document(httplib::Response& res, const json& doc, const std::string& request_id) {
  res.status = 200;
  res.set_header("x-amzn-RequestId", request_id);
  res.set_content(json_text(doc), "application/json");
}

}  // namespace

void install_clock_api(httplib::Server& server, core::Clock& clock,
                       std::function<int64_t(int64_t)> advance) {
  server.Get(R"(/coldlab/clock/?)", [&clock](const httplib::Request&, httplib::Response& res) {
    send_document(res, clock_document(clock), core::new_uuid());
  });
  server.Post(R"(/coldlab/clock/advance/?)", [&clock, advance](const httplib::Request& req,
                                                                 httplib::Response& res) {
    const std::string rid = core::new_uuid();
    if (!advance) {
      return send_error(res, core::invalid_parameter("The clock is real and cannot be advanced; start coldlab "
                                                     "with --clock virtual"), rid);
    }
    json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded() || !body.is_object())
      return send_error(res, core::invalid_request_content("expected a JSON object such as {\"seconds\": 1800}"), rid);
    int64_t target = 0;
    if (body.size() == 1 && body.contains("seconds") && body["seconds"].is_number()) {
      const double seconds = body["seconds"].get<double>();
      if (!(seconds >= 0) || seconds > 1e9)
        return send_error(res, core::invalid_parameter("seconds must be between 0 and 1e9"), rid);
      target = clock.now_us() + static_cast<int64_t>(seconds * 1e6);
    } else if (body.size() == 1 && body.contains("to_us") && body["to_us"].is_number_integer()) {
      target = body["to_us"].get<int64_t>();
    } else {
      return send_error(res, core::invalid_parameter("give exactly one of seconds (a number) or to_us (an integer)"),
                        rid);
    }
    advance(target);
    send_document(res, clock_document(clock), rid);
  });
}

}  // namespace coldlab::api
