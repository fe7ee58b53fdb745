// The Lambda Runtime API (2018-06-01) for one execution environment, on its own loopback
// port. Handlers translate HTTP to the RuntimeEndpoint calls of that environment and back.
#pragma once

#include <memory>
#include <string>

#include "core/runtime_endpoint.h"

namespace coldlab::api {

// Starts a server on `host`:<ephemeral port> serving `endpoint`. Throws std::runtime_error
// if it cannot listen.
std::unique_ptr<core::RuntimeServer> start_runtime_server(core::RuntimeEndpoint& endpoint,
                                                          const std::string& host = "127.0.0.1");

}  // namespace coldlab::api
