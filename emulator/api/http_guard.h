// What the Lambda API server does before any route sees a request, and how it shapes the
// errors cpp-httplib answers by itself.
//
//  - A Content-Length that is not a plain decimal number is refused (400,
//    InvalidRequestContentException), and one beyond `max_body_bytes` too (413,
//    RequestEntityTooLargeException), before the body is read: httplib would otherwise
//    wait for 10^20 bytes until its read timeout, holding the connection and a worker.
//    The connection is then closed, since the body that may follow was not read.
//  - An error answer left without a body (a malformed request line, a header over
//    httplib's limit, an exception that escaped a handler) gets Lambda's error shape: a
//    JSON body and x-amzn-ErrorType, so a client never has to parse an empty error.
#pragma once

#include <httplib.h>

#include <cstdint>

namespace coldlab::api {

void install_http_guard(httplib::Server& server, int64_t max_body_bytes);

}  // namespace coldlab::api
