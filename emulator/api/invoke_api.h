// Lambda's Invoke API: POST /2015-03-31/functions/{FunctionName}/invocations.
// Validates the request the way Lambda does (name, qualifier, size, JSON, headers), then
// runs it synchronously (RequestResponse, 200), queues it (Event, 202) or only validates
// it (DryRun, 204). Function failures are 200 with X-Amz-Function-Error: Unhandled, never
// 5xx, because AWS clients retry 5xx and a retried invoke would run the function again.
#pragma once

#include <httplib.h>

#include "api/api_context.h"

namespace coldlab::api {

void install_invoke_api(httplib::Server& server, ApiContext& ctx);

}  // namespace coldlab::api
