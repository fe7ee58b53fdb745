// The scale-out registry: names, summaries, and specs made through make_scale_out.
#include <catch2/catch.hpp>
#include <string>

#include "registry.h"

using namespace coldlab::policies;

TEST_CASE("scale_out registry: lists lambda first then the others", "[scale_out]") {
  const auto policies = scale_out_policies();
  REQUIRE(policies.size() == 3);
  CHECK(policies[0].name == "lambda");
  CHECK(policies[1].name == "per-env-concurrency");
  CHECK(policies[2].name == "max-instances");
  for (const auto& p : policies) {
    CAPTURE(p.name);
    CHECK_FALSE(p.summary.empty());
    CHECK(p.summary.find('\n') == std::string::npos);
  }
}

TEST_CASE("scale_out registry: every policy is made by name and its name round-trips", "[scale_out]") {
  for (const auto& p : scale_out_policies()) {
    CAPTURE(p.name);
    auto policy = make_scale_out(p.name);
    REQUIRE(policy);
    CHECK(policy->name().rfind(p.name + ":", 0) == 0);
    CHECK(make_scale_out(policy->name())->name() == policy->name());
  }
  CHECK(make_scale_out("per-env-concurrency:n=8")->per_environment_concurrency() == 8);
}

TEST_CASE("scale_out registry: unknown names and keys are errors", "[scale_out]") {
  try {
    make_scale_out("knative");
    FAIL("no error");
  } catch (const SpecError& e) {
    const std::string what = e.what();
    CHECK(what.find("knative") != std::string::npos);
    CHECK(what.find("lambda") != std::string::npos);
  }
  CHECK_THROWS_AS(make_scale_out("lambda:routing=mru,ttl=10m"), SpecError);
  CHECK_THROWS_AS(make_scale_out("max-instances:n=4"), SpecError);
}
