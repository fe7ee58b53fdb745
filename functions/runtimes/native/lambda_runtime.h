// A small client of the Lambda Runtime API (2018-06-01) for native (C++) functions.
// A function's `bootstrap` calls run() with its handler; run() polls
// http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/next, calls the handler,
// and posts the result to .../{id}/response or .../{id}/error, for ever.
// It works against coldlab and against real Lambda alike.
//
// Thread-safety: run() is meant to be the whole of main(); handlers run one at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace coldlab::runtime {

struct Invocation {
  std::string request_id;        // Lambda-Runtime-Aws-Request-Id
  std::string payload;           // the event, as received (JSON text)
  std::string function_arn;      // Lambda-Runtime-Invoked-Function-Arn
  std::string trace_id;          // Lambda-Runtime-Trace-Id (also exported as _X_AMZN_TRACE_ID)
  std::string client_context;    // Lambda-Runtime-Client-Context (may be empty)
  std::string cognito_identity;  // Lambda-Runtime-Cognito-Identity (may be empty)
  int64_t deadline_ms = 0;       // Lambda-Runtime-Deadline-Ms, epoch milliseconds

  // Milliseconds left before the deadline, as seen by this process's wall clock.
  int64_t remaining_ms() const;
};

// What a handler returns: a JSON payload, or an error that the caller sees as
// {"errorType": type, "errorMessage": message} with X-Amz-Function-Error: Unhandled.
class Outcome {
 public:
  static Outcome success(std::string json_payload);
  static Outcome failure(std::string error_type, std::string error_message);

  bool ok() const { return ok_; }
  const std::string& payload() const { return payload_; }
  const std::string& error_type() const { return error_type_; }
  const std::string& error_message() const { return error_message_; }

 private:
  bool ok_ = true;
  std::string payload_, error_type_, error_message_;
};

using Handler = std::function<Outcome(const Invocation&)>;

// Serves invocations until the Runtime API becomes unreachable or answers /next with
// anything but 200 (Lambda's way of saying "exit now"), then returns a non-zero exit
// status for main() to return, having said why on stderr. A handler that throws is
// reported as a function error of type "Function.Exception" with what() as the message,
// and the loop goes on; so does a response the API refuses (e.g. 413, too large), since
// the platform reports that to the caller itself.
int run(const Handler& handler);

// For init failures before run(): posts /runtime/init/error. Returns false if the
// Runtime API could not be reached or refused the report. The process should exit
// afterwards either way; the platform serves the error to the first invoke.
bool report_init_error(const std::string& error_type, const std::string& error_message);

}  // namespace coldlab::runtime
