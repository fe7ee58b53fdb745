// What the Lambda API server does before any route sees a request, and how it shapes the
// errors cpp-httplib answers by itself.
//
//  - A Content-Length that is not a plain decimal number is refused (400,
//    InvalidRequestContentException), and one beyond `max_body_bytes` too (413,
//    RequestEntityTooLargeException), before the body is read: httplib would otherwise
//    wait for 10^20 bytes until its read timeout, holding the connection and a worker.
//    The connection is then closed, since the body that may follow was not read.
//  - A POST or PUT with neither Content-Length nor Transfer-Encoding is refused (411):
//    httplib would read its body until the client closes the connection.
//  - An error answer left without a body (a malformed request line, a header over
//    httplib's limit, an unknown path, an exception that escaped a handler) gets the
//    API's error shape, so a client never has to parse an empty error.
#pragma once

#include <httplib.h>

#include <cstdint>

namespace coldlab::api {

enum class ErrorShape {
  kService,  // the Lambda API's: {"Type":"User","message":...} and x-amzn-ErrorType
  kRuntime,  // the Runtime API's: {"errorType":...,"errorMessage":...}
};

void install_http_guard(httplib::Server& server, int64_t max_body_bytes, ErrorShape shape);

}  // namespace coldlab::api
