// The native `echo` function: answers every event with the event itself, byte for byte.
// The smallest possible handler, so that what is measured is the platform.
#include "lambda_runtime.h"

int main() {
  using coldlab::runtime::Invocation;
  using coldlab::runtime::Outcome;
  return coldlab::runtime::run(
      [](const Invocation& invocation) { return Outcome::success(invocation.payload); });
}
