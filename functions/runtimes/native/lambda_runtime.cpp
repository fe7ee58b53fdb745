#include "lambda_runtime.h"

#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <utility>

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace coldlab::runtime {

namespace {

constexpr const char* kNextPath = "/2018-06-01/runtime/invocation/next";
constexpr const char* kInvocationPrefix = "/2018-06-01/runtime/invocation/";
constexpr const char* kInitErrorPath = "/2018-06-01/runtime/init/error";
constexpr const char* kErrorContentType = "application/vnd.aws.lambda.error+json";

// Lambda's Runtime API has no client-side timeouts, and neither may we. /next may wait (or
// be frozen) for hours. An answer may take long to send or to be acknowledged when the
// host is overloaded; a client that gives up on it either retries (a second answer,
// refused) or asks /next with the invocation still open (refused too), and the invocation
// fails although the function succeeded. 0.11.4 turns every timeout into one poll() of
// int milliseconds, where 0 means "do not wait" rather than "wait for ever"; so every
// timeout is set just below 2^31 ms (about 24 days), as close to "never" as it allows.
constexpr time_t kNeverSeconds = 2'000'000;

std::unique_ptr<httplib::Client> make_client() {
  const char* api = std::getenv("AWS_LAMBDA_RUNTIME_API");
  if (api == nullptr || *api == '\0') {
    std::fprintf(stderr, "lambda_runtime: AWS_LAMBDA_RUNTIME_API is not set\n");
    return nullptr;
  }
  auto client = std::make_unique<httplib::Client>(std::string("http://") + api);
  if (!client->is_valid()) {
    std::fprintf(stderr, "lambda_runtime: bad AWS_LAMBDA_RUNTIME_API '%s'\n", api);
    return nullptr;
  }
  client->set_keep_alive(true);
  // Headers and body go out in separate writes; without this, Nagle plus delayed ACK
  // adds ~40 ms to an answer whenever the connection is fresh.
  client->set_tcp_nodelay(true);
  client->set_connection_timeout(kNeverSeconds, 0);
  client->set_read_timeout(kNeverSeconds, 0);
  client->set_write_timeout(kNeverSeconds, 0);
  return client;
}

// A keep-alive connection that the server closed while the handler ran fails on first
// use; one retry on a fresh connection tells that apart from an API that is really gone.
template <typename Request>
httplib::Result with_retry(Request&& request) {
  httplib::Result result = request();
  if (!result) result = request();
  return result;
}

std::string error_body(const std::string& type, const std::string& message) {
  nlohmann::json body = {{"errorMessage", message}, {"errorType", type}};
  // Handler messages may carry arbitrary bytes; replace invalid UTF-8 rather than throw.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

int64_t parse_int64(const std::string& text) {
  char* end = nullptr;
  long long value = std::strtoll(text.c_str(), &end, 10);
  return end == text.c_str() ? 0 : static_cast<int64_t>(value);
}

void export_trace_id(const std::string& trace_id) {
  if (trace_id.empty()) {
    unsetenv("_X_AMZN_TRACE_ID");
  } else {
    setenv("_X_AMZN_TRACE_ID", trace_id.c_str(), 1);
  }
}

Outcome call_handler(const Handler& handler, const Invocation& invocation) {
  // A handler's exception is the function's failure, not the runtime's: report it and
  // keep serving, as Lambda's own runtimes do.
  try {
    return handler(invocation);
  } catch (const std::exception& e) {
    return Outcome::failure("Function.Exception", e.what());
  } catch (...) {
    return Outcome::failure("Function.Exception", "unknown exception");
  }
}

}  // namespace

int64_t Invocation::remaining_ms() const {
  using namespace std::chrono;
  int64_t now = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  return deadline_ms - now;
}

Outcome Outcome::success(std::string json_payload) {
  Outcome outcome;
  outcome.payload_ = std::move(json_payload);
  return outcome;
}

Outcome Outcome::failure(std::string error_type, std::string error_message) {
  Outcome outcome;
  outcome.ok_ = false;
  outcome.error_type_ = std::move(error_type);
  outcome.error_message_ = std::move(error_message);
  return outcome;
}

int run(const Handler& handler) {
  std::unique_ptr<httplib::Client> client = make_client();
  if (!client) return 1;

  for (;;) {
    httplib::Result next = with_retry([&] { return client->Get(kNextPath); });
    if (!next) {
      std::fprintf(stderr, "lambda_runtime: GET /next failed: %s\n",
                   httplib::to_string(next.error()).c_str());
      return 1;
    }
    if (next->status != 200) {
      // 403/500 mean the environment is being torn down; Lambda expects a prompt exit.
      std::fprintf(stderr, "lambda_runtime: GET /next answered %d: %s\n", next->status,
                   next->body.c_str());
      return 1;
    }

    Invocation invocation;
    invocation.request_id = next->get_header_value("Lambda-Runtime-Aws-Request-Id");
    invocation.payload = std::move(next->body);
    invocation.function_arn = next->get_header_value("Lambda-Runtime-Invoked-Function-Arn");
    invocation.trace_id = next->get_header_value("Lambda-Runtime-Trace-Id");
    invocation.client_context = next->get_header_value("Lambda-Runtime-Client-Context");
    invocation.cognito_identity = next->get_header_value("Lambda-Runtime-Cognito-Identity");
    invocation.deadline_ms = parse_int64(next->get_header_value("Lambda-Runtime-Deadline-Ms"));
    if (invocation.request_id.empty()) {
      std::fprintf(stderr, "lambda_runtime: /next gave no Lambda-Runtime-Aws-Request-Id\n");
      return 1;
    }
    export_trace_id(invocation.trace_id);

    Outcome outcome = call_handler(handler, invocation);

    std::string path = kInvocationPrefix + invocation.request_id;
    path += outcome.ok() ? "/response" : "/error";
    httplib::Result posted = with_retry([&] {
      if (outcome.ok()) return client->Post(path, outcome.payload(), "application/json");
      httplib::Headers headers = {{"Lambda-Runtime-Function-Error-Type", outcome.error_type()}};
      return client->Post(path, headers, error_body(outcome.error_type(), outcome.error_message()),
                          kErrorContentType);
    });
    if (!posted) {
      std::fprintf(stderr, "lambda_runtime: POST %s failed: %s\n", path.c_str(),
                   httplib::to_string(posted.error()).c_str());
      return 1;
    }
    // A refusal (e.g. 413 for an oversized response) fails this invocation only; the
    // platform reports it to the caller, so the loop goes on.
    if (posted->status / 100 != 2) {
      std::fprintf(stderr, "lambda_runtime: POST %s answered %d: %s\n", path.c_str(),
                   posted->status, posted->body.c_str());
    }
  }
}

bool report_init_error(const std::string& error_type, const std::string& error_message) {
  std::unique_ptr<httplib::Client> client = make_client();
  if (!client) return false;
  httplib::Headers headers = {{"Lambda-Runtime-Function-Error-Type", error_type}};
  httplib::Result posted = client->Post(kInitErrorPath, headers,
                                        error_body(error_type, error_message), kErrorContentType);
  if (!posted) {
    std::fprintf(stderr, "lambda_runtime: POST /runtime/init/error failed: %s\n",
                 httplib::to_string(posted.error()).c_str());
    return false;
  }
  if (posted->status / 100 != 2) {
    std::fprintf(stderr, "lambda_runtime: POST /runtime/init/error answered %d: %s\n",
                 posted->status, posted->body.c_str());
    return false;
  }
  return true;
}

}  // namespace coldlab::runtime
