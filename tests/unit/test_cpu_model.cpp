// --init-cpu and --cpu-period as the command line gives them.
#include <catch2/catch.hpp>

#include "core/cpu_model.h"
#include "policy_spec.h"

using coldlab::core::parse_cpu_period_us;
using coldlab::core::parse_init_cpu;
using coldlab::policies::SpecError;

TEST_CASE("init-cpu: burst gives Init 2 vCPUs unless told otherwise", "[cpu_model]") {
  CHECK(parse_init_cpu("burst") == 2);
  CHECK(parse_init_cpu("burst:vcpus=1.5") == 1.5);
  CHECK(parse_init_cpu("throttled") == 0);
  CHECK(parse_init_cpu("unthrottled") == -1);
}

TEST_CASE("init-cpu: anything else is refused with what was expected", "[cpu_model]") {
  CHECK_THROWS_WITH(parse_init_cpu("fast"), Catch::Contains("burst, burst:vcpus=N, throttled or unthrottled"));
  CHECK_THROWS_AS(parse_init_cpu("burst:vcpus=0"), SpecError);
  CHECK_THROWS_AS(parse_init_cpu("burst:vcpus=two"), SpecError);
  CHECK_THROWS_AS(parse_init_cpu("burst:cpus=2"), SpecError);  // an unknown key
  CHECK_THROWS_AS(parse_init_cpu("throttled:vcpus=2"), SpecError);
}

TEST_CASE("cpu-period: a duration with a unit, from 1 ms to 1 s", "[cpu_model]") {
  CHECK(parse_cpu_period_us("20ms") == 20000);
  CHECK(parse_cpu_period_us("100ms") == 100000);
  CHECK(parse_cpu_period_us("0.1s") == 100000);
  CHECK(parse_cpu_period_us("1000us") == 1000);
  CHECK(parse_cpu_period_us("1s") == 1000000);
  for (const char* bad : {"20", "", "ms", "999us", "1.5s", "20 ms", "-20ms", "20m", "20msx", "nanms"}) {
    CAPTURE(bad);
    CHECK_THROWS_WITH(parse_cpu_period_us(bad), Catch::Contains("from 1ms to 1s"));
  }
}
