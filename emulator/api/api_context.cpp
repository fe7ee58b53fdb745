#include "api/api_context.h"

#include <ctime>
#include <random>

#include "api/function_ref.h"

namespace coldlab::api {

ResolvedFunction resolve_function(const ApiContext& ctx, const std::string& function_name,
                                  const std::string& qualifier_param) {
  ResolvedFunction out;
  auto ref = parse_function_ref(function_name);
  if (!ref) {
    out.name = function_name;
    out.error = core::validation_error(
        "1 validation error detected: Value '" + function_name +
        "' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: "
        "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?");
    return out;
  }
  out.name = ref->name;
  std::string qualifier = qualifier_param;
  if (ref->qualifier) {
    if (!qualifier.empty() && qualifier != *ref->qualifier) {
      out.error = core::invalid_parameter("The derived qualifier from the function name does not match the specified qualifier.");
      return out;
    }
    qualifier = *ref->qualifier;
  }
  const std::string region = ref->region.value_or(ctx.region);
  const std::string account = ref->account.value_or(ctx.account);
  auto state = ctx.registry->find(ref->name);
  if (!state || (!qualifier.empty() && qualifier != "$LATEST") || region != ctx.region || account != ctx.account) {
    out.error = core::function_not_found(function_arn(region, account, ref->name, qualifier.empty() ? "$LATEST" : qualifier));
    return out;
  }
  out.state = std::move(state);
  return out;
}

std::string lambda_timestamp(int64_t epoch_us) { return core::iso8601_ms(epoch_us, "+0000"); }

nlohmann::json function_configuration(const core::FunctionState& f, const ApiContext& ctx) {
  const auto& c = f.config;
  nlohmann::json variables = nlohmann::json::object();
  for (const auto& [k, v] : c.environment) variables[k] = v;
  return {
      {"FunctionName", c.name},
      {"FunctionArn", function_arn(ctx.region, ctx.account, c.name)},
      {"Runtime", c.runtime},
      {"Role", "arn:aws:iam::" + ctx.account + ":role/coldlab-execution-role"},
      {"Handler", c.handler},
      {"CodeSize", f.code_size},
      {"Description", c.description},
      {"Timeout", c.timeout_s},
      {"MemorySize", c.memory_mb},
      {"LastModified", lambda_timestamp(f.last_modified_us)},
      {"CodeSha256", ""},
      {"Version", "$LATEST"},
      {"Environment", {{"Variables", variables}}},
      {"TracingConfig", {{"Mode", "PassThrough"}}},
      {"RevisionId", f.revision_id},
      {"State", "Active"},
      {"LastUpdateStatus", "Successful"},
      {"PackageType", "Zip"},
      {"Architectures", {"x86_64"}},
      {"EphemeralStorage", {{"Size", 512}}},
      {"LoggingConfig", {{"LogFormat", "Text"}, {"LogGroup", "/aws/lambda/" + c.name}}},
  };
}

std::string new_trace_id(int64_t now_us) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[96];
  std::snprintf(buf, sizeof buf, "Root=1-%08llx-%08llx%016llx;Parent=%016llx;Sampled=0",
                static_cast<unsigned long long>(now_us / 1000000),
                static_cast<unsigned long long>(rng() & 0xFFFFFFFF), static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return buf;
}

}  // namespace coldlab::api
