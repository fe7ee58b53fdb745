// Clock control, for experiments that drive `coldlab serve --clock virtual` from outside
// (a Python or shell script replaces `sleep 1800` with one request):
//
//   GET  /coldlab/clock           -> {"clock": "virtual", "now_us": N, "skipped_us": N, "active": N}
//   POST /coldlab/clock/advance   {"seconds": 1800} or {"to_us": EPOCH_US}
//                                 -> the same document, once the clock has reached the
//                                    target, every timer due by then has fired in time order
//                                    and nothing is active
//
// Invoking never advances the clock by itself. On a real clock, advance is refused (400);
// errors have Lambda's shape ({"Type": "User", "Message": ...} and x-amzn-ErrorType).
#pragma once

#include <httplib.h>

#include <cstdint>
#include <functional>

#include "core/clock.h"

namespace coldlab::api {

// `advance(target_us)` returns the clock's time once done; null for a real clock.
void install_clock_api(httplib::Server& server, core::Clock& clock,
                       std::function<int64_t(int64_t)> advance);

}  // namespace coldlab::api
