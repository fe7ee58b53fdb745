// The subset of Lambda's management API that experiments need:
//   GET /2015-03-31/functions/                       ListFunctions (MaxItems, Marker)
//   GET /2015-03-31/functions/{name}                 GetFunction
//   GET /2015-03-31/functions/{name}/configuration   GetFunctionConfiguration
//   PUT /2015-03-31/functions/{name}/configuration   UpdateFunctionConfiguration
//                                                    (MemorySize, Timeout, Environment,
//                                                    Description, Handler, RevisionId)
//   GET /2016-08-19/account-settings/                GetAccountSettings
// Anything else answers UnknownOperationException.
#pragma once

#include <httplib.h>

#include "api/api_context.h"

namespace coldlab::api {

void install_management_api(httplib::Server& server, ApiContext& ctx);

}  // namespace coldlab::api
