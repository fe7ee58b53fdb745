#include "api/invoke_api.h"

#include <nlohmann/json.hpp>

#include "api/async_invoker.h"
#include "api/base64.h"
#include "api/errors.h"
#include "api/http_body.h"
#include "api/function_ref.h"
#include "core/function_registry.h"

namespace coldlab::api {
namespace {

using core::ServiceError;


void handle_invoke(ApiContext& ctx, const httplib::Request& req, httplib::Response& res,
                   const httplib::ContentReader& reader) {
  core::InvokeRequest call;
  call.received_us = ctx.clock->now_us();
  call.request_id = core::new_uuid();
  res.set_header("x-amzn-RequestId", call.request_id);

  const std::string type = req.has_header("X-Amz-Invocation-Type")
                               ? req.get_header_value("X-Amz-Invocation-Type")
                               : "RequestResponse";
  const bool async = type == "Event";
  std::string body;
  const size_t limit = static_cast<size_t>(async ? core::kMaxAsyncRequestBytes : core::kMaxSyncRequestBytes);
  const std::optional<size_t> read = read_body(reader, body, limit + 1);
  const size_t size = read.value_or(body.size());
  call.request_bytes = static_cast<int64_t>(size);
  call.invocation_type = type;

  auto resolved = resolve_function(ctx, req.matches[1], req.get_param_value("Qualifier"));
  call.function = resolved.name;
  const int memory_mb = resolved.state ? resolved.state->config.memory_mb : 0;
  auto refuse = [&](const ServiceError& error) {
    ctx.dispatcher->record_rejected(call, error.code, memory_mb);
    send_error(res, error, call.request_id);
  };
  if (resolved.error) return refuse(*resolved.error);
  // The client went away mid-body: what arrived is not its event, so it must not run.
  if (!read) return refuse(core::invalid_request_content("the body ended early (before its Content-Length, or in a broken chunked encoding)"));
  call.function_arn = function_arn(ctx.region, ctx.account, resolved.name);

  if (type != "RequestResponse" && type != "Event" && type != "DryRun")
    return refuse(core::invalid_parameter("Unsupported invocation type: " + type +
                                          " (expected RequestResponse, Event or DryRun)"));
  const std::string log_type = req.get_header_value("X-Amz-Log-Type");
  if (!log_type.empty() && log_type != "None" && log_type != "Tail")
    return refuse(core::invalid_parameter("Unsupported log type: " + log_type + " (expected None or Tail)"));

  if (size > limit) return refuse(core::request_too_large(static_cast<int64_t>(size), async));
  // An invoke without a payload delivers an empty JSON object, as Lambda does.
  if (body.empty()) body = "{}";
  // accept() validates without building a document; only a bad payload pays for parse().
  if (!nlohmann::json::accept(body)) {
    std::string why;
    try {
      [[maybe_unused]] auto doc = nlohmann::json::parse(body);
    } catch (const nlohmann::json::parse_error& e) {
      why = e.what();
    } catch (const nlohmann::json::exception&) {
      // Valid JSON that nlohmann cannot hold, e.g. 1e400 (out of a double's range): Lambda
      // passes such numbers on, and so does coldlab; the function decides.
    }
    if (!why.empty()) return refuse(core::invalid_request_content(why));
  }

  if (req.has_header("X-Amz-Client-Context")) {
    auto decoded = base64_decode(req.get_header_value("X-Amz-Client-Context"));
    if (!decoded || !nlohmann::json::accept(*decoded))
      return refuse(core::invalid_parameter("Client context must be a valid Base64-encoded JSON object."));
    call.client_context = *decoded;
  }
  call.payload = std::move(body);
  call.trace_id = new_trace_id(call.received_us);

  if (type == "DryRun") {
    res.status = 204;
    return;
  }
  if (async) {
    ctx.async->submit(std::move(call));
    res.status = 202;
    return;
  }

  auto outcome = ctx.dispatcher->invoke(call);
  switch (outcome.kind) {
    case core::InvokeOutcome::Kind::kNoSuchFunction:
      return send_error(res, core::function_not_found(call.function_arn + ":$LATEST"), call.request_id);
    case core::InvokeOutcome::Kind::kThrottled:
      return send_error(res, core::too_many_requests(outcome.throttle_reason), call.request_id);
    case core::InvokeOutcome::Kind::kShuttingDown:
      return send_error(res, core::service_unavailable("coldlab is shutting down"), call.request_id);
    case core::InvokeOutcome::Kind::kDone:
      break;
  }
  const auto& r = outcome.result;
  res.status = 200;
  res.set_header("X-Amz-Executed-Version", "$LATEST");
  if (r.function_error) res.set_header("X-Amz-Function-Error", "Unhandled");
  if (log_type == "Tail") res.set_header("X-Amz-Log-Result", base64_encode(r.log_tail));
  res.set_content(r.payload, "application/json");
}

}  // namespace

void install_invoke_api(httplib::Server& server, ApiContext& ctx) {
  server.Post(R"(/2015-03-31/functions/([^/]+)/invocations/?)",
              [&ctx](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
                handle_invoke(ctx, req, res, reader);
              });
}

}  // namespace coldlab::api
