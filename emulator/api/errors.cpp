#include "api/errors.h"

namespace coldlab::api {

void send_error(httplib::Response& res, const core::ServiceError& error, const std::string& request_id) {
  res.status = error.status;
  res.set_header("x-amzn-ErrorType", error.code);
  if (!res.has_header("x-amzn-RequestId")) res.set_header("x-amzn-RequestId", request_id);
  res.set_content(error.body(), "application/json");
}

}  // namespace coldlab::api
