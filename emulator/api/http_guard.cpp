#include "api/http_guard.h"

#include <string>

#include "api/errors.h"
#include "core/function_registry.h"
#include "core/lambda_errors.h"

namespace coldlab::api {
namespace {

// A Content-Length as RFC 9110 has it: digits only; false for anything else or for a
// value past int64.
bool parse_length(const std::string& text, int64_t& out) {
  if (text.empty() || text.size() > 18) return false;
  out = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  return true;
}

std::string reason_phrase(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 416: return "Range Not Satisfiable";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "HTTP " + std::to_string(status);
  }
}

core::ServiceError error_for_status(int status, const std::string& why) {
  switch (status) {
    case 400:
      return {400, "InvalidRequestContentException", why, true, std::nullopt};
    case 404:
      return {404, "UnknownOperationException", why, false, std::nullopt};
    case 411:
      return {411, "LengthRequiredException", why, true, std::nullopt};
    case 413:
      return {413, "RequestEntityTooLargeException", why, true, std::nullopt};
    default:
      break;
  }
  if (status >= 500) return {status, "ServiceException", why, false, std::nullopt};
  return {status, "InvalidRequestContentException", why, true, std::nullopt};
}

void send(httplib::Response& res, ErrorShape shape, const core::ServiceError& error) {
  if (shape == ErrorShape::kService) {
    send_error(res, error, core::new_uuid());
    return;
  }
  res.status = error.status;
  res.set_content(core::runtime_error_body(error.code, error.message), "application/json");
}

}  // namespace

void install_http_guard(httplib::Server& server, int64_t max_body_bytes, ErrorShape shape) {
  server.set_pre_routing_handler([max_body_bytes, shape](const httplib::Request& req, httplib::Response& res) {
    core::ServiceError error;
    const std::string text = req.get_header_value("Content-Length");
    int64_t length = 0;
    if (!req.has_header("Content-Length")) {
      if (req.has_header("Transfer-Encoding") || (req.method != "POST" && req.method != "PUT"))
        return httplib::Server::HandlerResponse::Unhandled;
      error = error_for_status(411, "a " + req.method + " needs a Content-Length (or chunked encoding)");
    } else if (!parse_length(text, length)) {
      error = error_for_status(400, "Content-Length '" + text + "' is not a length in bytes");
    } else if (length > max_body_bytes) {
      error = error_for_status(413, "Request must be smaller than " + std::to_string(max_body_bytes) +
                                        " bytes; its Content-Length is " + text);
    } else {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    send(res, shape, error);
    res.set_header("Connection", "close");  // the body that may follow was not read
    return httplib::Server::HandlerResponse::Handled;
  });
  server.set_error_handler(
      httplib::Server::HandlerWithResponse([shape](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        std::string why = reason_phrase(res.status);
        if (res.has_header("EXCEPTION_WHAT")) {  // httplib's report of an exception a handler let out
          why += ": " + res.get_header_value("EXCEPTION_WHAT");
          res.headers.erase("EXCEPTION_WHAT");
        }
        send(res, shape, error_for_status(res.status, why));
        return httplib::Server::HandlerResponse::Handled;
      }));
}

}  // namespace coldlab::api
