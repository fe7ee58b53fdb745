#include "api/management_api.h"

#include <nlohmann/json.hpp>

#include "core/json_text.h"

#include "api/errors.h"
#include "config/function_config.h"
#include "core/function_registry.h"

namespace coldlab::api {
namespace {

using nlohmann::json;
using core::json_text;

void send_json(httplib::Response& res, int status, const json& doc, const std::string& request_id) {
  res.status = status;
  res.set_header("x-amzn-RequestId", request_id);
  res.set_content(json_text(doc), "application/json");
}

void list_functions(ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const std::string rid = core::new_uuid();
  auto all = ctx.registry->list();
  size_t start = 0, max_items = 50;
  if (req.has_param("Marker")) {
    try {
      start = std::stoul(req.get_param_value("Marker"));
    } catch (...) {
      return send_error(res, core::invalid_parameter("Invalid Marker"), rid);
    }
  }
  if (req.has_param("MaxItems")) {
    try {
      max_items = std::stoul(req.get_param_value("MaxItems"));
    } catch (...) {
      max_items = 0;
    }
    if (max_items < 1 || max_items > 10000)
      return send_error(res, core::invalid_parameter("MaxItems must be between 1 and 10000"), rid);
  }
  json functions = json::array();
  for (size_t i = start; i < all.size() && i < start + max_items; ++i)
    functions.push_back(function_configuration(all[i], ctx));
  json doc{{"Functions", functions}};
  if (start + max_items < all.size()) doc["NextMarker"] = std::to_string(start + max_items);
  send_json(res, 200, doc, rid);
}

void get_function(ApiContext& ctx, const httplib::Request& req, httplib::Response& res, bool config_only) {
  const std::string rid = core::new_uuid();
  auto resolved = resolve_function(ctx, req.matches[1], req.get_param_value("Qualifier"));
  if (resolved.error) return send_error(res, *resolved.error, rid);
  json conf = function_configuration(*resolved.state, ctx);
  if (config_only) return send_json(res, 200, conf, rid);
  json doc{{"Configuration", conf},
           {"Code", {{"RepositoryType", "S3"}, {"Location", "file://" + resolved.state->config.code_dir.string()}}},
           {"Tags", json::object()}};
  if (auto reserved = ctx.dispatcher->reserved_concurrency(resolved.name))
    doc["Concurrency"] = {{"ReservedConcurrentExecutions", *reserved}};
  send_json(res, 200, doc, rid);
}

// PutFunctionConcurrency, GetFunctionConcurrency, DeleteFunctionConcurrency.
void function_concurrency(ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const std::string rid = core::new_uuid();
  auto resolved = resolve_function(ctx, req.matches[1], "");
  if (resolved.error) return send_error(res, *resolved.error, rid);
  if (req.method == "GET") {
    json doc = json::object();
    if (auto reserved = ctx.dispatcher->reserved_concurrency(resolved.name))
      doc["ReservedConcurrentExecutions"] = *reserved;
    return send_json(res, 200, doc, rid);
  }
  std::optional<int> reserved;
  if (req.method == "PUT") {
    json body = json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
    if (!body.is_object()) return send_error(res, core::invalid_request_content("the body is not a JSON object"), rid);
    const auto it = body.find("ReservedConcurrentExecutions");
    if (it == body.end() || !it->is_number_integer() || it->get<int64_t>() < 0 ||
        it->get<int64_t>() > ctx.max_concurrency) {
      return send_error(res, core::invalid_parameter("ReservedConcurrentExecutions must be an integer from 0 to " +
                                                     std::to_string(ctx.max_concurrency)), rid);
    }
    reserved = it->get<int>();
  }
  if (auto error = ctx.dispatcher->set_reserved_concurrency(resolved.name, reserved))
    return send_error(res, core::invalid_parameter(*error), rid);
  if (req.method == "DELETE") {
    res.status = 204;
    res.set_header("x-amzn-RequestId", rid);
    return;
  }
  send_json(res, 200, json{{"ReservedConcurrentExecutions", *reserved}}, rid);
}

// Applies the body of an UpdateFunctionConfiguration to `c`; returns an error or "".
std::string apply_update(const json& body, config::FunctionConfig& c) {
  for (const auto& [key, value] : body.items()) {
    if (key == "MemorySize") {
      if (!value.is_number_integer()) return "MemorySize must be an integer";
      if (auto e = config::validate_memory_size(value.get<long long>())) return *e;
      c.memory_mb = value.get<int>();
    } else if (key == "Timeout") {
      if (!value.is_number_integer()) return "Timeout must be an integer";
      if (auto e = config::validate_timeout(value.get<long long>())) return *e;
      c.timeout_s = value.get<int>();
    } else if (key == "Description") {
      if (!value.is_string()) return "Description must be a string";
      c.description = value.get<std::string>();
    } else if (key == "Handler") {
      if (!value.is_string() || value.get<std::string>().empty()) return "Handler must be a non-empty string";
      c.handler = value.get<std::string>();
    } else if (key == "Environment") {
      if (!value.is_object()) return "Environment must be an object";
      std::map<std::string, std::string> vars;
      if (value.contains("Variables")) {
        if (!value["Variables"].is_object()) return "Environment.Variables must be an object";
        std::vector<std::string> reserved;
        for (const auto& [k, v] : value["Variables"].items()) {
          if (!v.is_string()) return "Environment variable " + k + " must be a string";
          if (config::is_reserved_variable(k)) reserved.push_back(k);
          vars[k] = v.get<std::string>();
        }
        if (!reserved.empty()) {
          std::string list;
          for (const auto& r : reserved) list += (list.empty() ? "" : ",") + r;
          return "Lambda was unable to configure your environment variables because the environment "
                 "variables you have provided contains reserved keys that are currently not supported "
                 "for modification. Reserved keys used in this request: " + list;
        }
      }
      c.environment = std::move(vars);  // Lambda replaces the whole set
    } else if (key == "RevisionId" || key == "Role") {
      // RevisionId is checked by the caller; Role has no meaning locally.
    } else {
      return "coldlab does not support changing " + key + " (supported: MemorySize, Timeout, "
             "Environment, Description, Handler)";
    }
  }
  return "";
}

void update_configuration(ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const std::string rid = core::new_uuid();
  auto resolved = resolve_function(ctx, req.matches[1], "");
  if (resolved.error) return send_error(res, *resolved.error, rid);
  json body = json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
  if (!body.is_object()) return send_error(res, core::invalid_request_content("the body is not a JSON object"), rid);
  if (body.contains("RevisionId") && body["RevisionId"] != resolved.state->revision_id) {
    core::ServiceError e{412, "PreconditionFailedException",
                         "The Revision Id provided does not match the latest Revision Id. Call the "
                         "GetFunction/GetAlias API to retrieve the latest Revision Id", false, std::nullopt};
    return send_error(res, e, rid);
  }
  auto result = ctx.registry->update(
      resolved.name, [&](config::FunctionConfig& c) { return apply_update(body, c); }, ctx.clock->now_us());
  if (!result.state) {
    if (result.error.empty()) return send_error(res, core::function_not_found(resolved.name), rid);
    return send_error(res, core::invalid_parameter(result.error), rid);
  }
  // Existing environments keep the old configuration; Lambda starts new ones.
  ctx.dispatcher->function_updated(resolved.name);
  send_json(res, 200, function_configuration(*result.state, ctx), rid);
}

void account_settings(ApiContext& ctx, httplib::Response& res) {
  auto all = ctx.registry->list();
  int64_t total = 0;
  int64_t reserved = 0;
  for (const auto& f : all) {
    total += f.code_size;
    reserved += ctx.dispatcher->reserved_concurrency(f.config.name).value_or(0);
  }
  json doc{{"AccountLimit",
            {{"TotalCodeSize", 80530636800LL},
             {"CodeSizeUnzipped", 262144000},
             {"CodeSizeZipped", 52428800},
             {"ConcurrentExecutions", ctx.max_concurrency},
             {"UnreservedConcurrentExecutions", ctx.max_concurrency - reserved}}},
           {"AccountUsage", {{"TotalCodeSize", total}, {"FunctionCount", all.size()}}}};
  send_json(res, 200, doc, core::new_uuid());
}

}  // namespace

void install_management_api(httplib::Server& server, ApiContext& ctx) {
  server.Get(R"(/2015-03-31/functions/?)",
             [&ctx](const httplib::Request& req, httplib::Response& res) { list_functions(ctx, req, res); });
  server.Get(R"(/2015-03-31/functions/([^/]+)/?)",
             [&ctx](const httplib::Request& req, httplib::Response& res) { get_function(ctx, req, res, false); });
  server.Get(R"(/2015-03-31/functions/([^/]+)/configuration/?)",
             [&ctx](const httplib::Request& req, httplib::Response& res) { get_function(ctx, req, res, true); });
  server.Put(R"(/2015-03-31/functions/([^/]+)/configuration/?)",
             [&ctx](const httplib::Request& req, httplib::Response& res) { update_configuration(ctx, req, res); });
  auto concurrency = [&ctx](const httplib::Request& req, httplib::Response& res) {
    function_concurrency(ctx, req, res);
  };
  server.Put(R"(/2017-10-31/functions/([^/]+)/concurrency/?)", concurrency);
  server.Delete(R"(/2017-10-31/functions/([^/]+)/concurrency/?)", concurrency);
  server.Get(R"(/2019-09-30/functions/([^/]+)/concurrency/?)", concurrency);
  server.Get(R"(/2016-08-19/account-settings/?)",
             [&ctx](const httplib::Request&, httplib::Response& res) { account_settings(ctx, res); });
  auto unknown = [](const httplib::Request& req, httplib::Response& res) {
    send_error(res, core::unknown_operation(req.method, req.path), core::new_uuid());
  };
  server.Get(".*", unknown);
  server.Post(".*", unknown);
  server.Put(".*", unknown);
  server.Delete(".*", unknown);
}

}  // namespace coldlab::api
