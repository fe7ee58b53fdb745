// The seam between an execution environment (core) and the HTTP server that speaks the
// Runtime API to its process (api). Each runtime process gets its own server, on its own
// loopback port, so a process can only ever see its own environment's events, and a
// process that an Init retry replaced can no longer take them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace coldlab::core {

// What the Runtime API needs from an environment, for one of its processes.
// Every method may be called from any server thread.
class RuntimeEndpoint {
 public:
  virtual ~RuntimeEndpoint() = default;

  struct Event {
    bool ok = false;        // false: no event will ever come; answer `status` + `body`
    int status = 200;
    std::string body;       // the event payload, or an error document
    std::string request_id;
    int64_t deadline_ms = 0;
    std::string function_arn;
    std::string trace_id;
    std::string client_context;
    std::string cognito_identity;
  };
  // GET /runtime/invocation/next: blocks until this environment has an event for its
  // process, or until the environment is stopping.
  virtual Event next() = 0;

  struct Reply {
    int status = 202;
    std::string body = R"({"status":"OK"})";
  };
  // POST /runtime/invocation/{id}/response. `body_size` is the full size received even
  // when `body` was cut short because it exceeded the limit.
  virtual Reply respond(const std::string& request_id, std::string body, size_t body_size) = 0;
  // POST /runtime/invocation/{id}/error, with the Lambda-Runtime-Function-Error-Type header.
  virtual Reply error(const std::string& request_id, std::string body,
                      const std::string& error_type_header) = 0;
  // POST /runtime/init/error.
  virtual Reply init_error(std::string body, const std::string& error_type_header) = 0;
};

// The server side, as the environment sees it.
class RuntimeServer {
 public:
  virtual ~RuntimeServer() = default;
  // "127.0.0.1:PORT", the value of AWS_LAMBDA_RUNTIME_API.
  virtual std::string address() const = 0;
  // Stops accepting and waits for handlers to return. Callers first make every blocked
  // next() return. Never call from one of this server's own handler threads.
  virtual void stop() = 0;
};

using RuntimeServerFactory =
    std::function<std::unique_ptr<RuntimeServer>(RuntimeEndpoint& endpoint)>;

}  // namespace coldlab::core
