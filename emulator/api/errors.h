// Rendering of Lambda's service errors onto an HTTP response: status, x-amzn-ErrorType
// and the JSON body. The errors themselves are defined in core/lambda_errors.h.
#pragma once

#include <httplib.h>

#include "core/lambda_errors.h"

namespace coldlab::api {

void send_error(httplib::Response& res, const core::ServiceError& error, const std::string& request_id);

}  // namespace coldlab::api
