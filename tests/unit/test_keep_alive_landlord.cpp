// landlord: credits and rent by hand (coldstart.md §2.3).
#include <catch2/catch.hpp>

#include "keep_alive/keep_alive_policy.h"
#include "keep_alive_host.h"
#include "registry.h"

using namespace coldlab::policies;
using coldlab::policies::testing::BudgetHost;

namespace {

constexpr TimeUs s(int64_t seconds) { return seconds * kSecondUs; }
using Ids = std::vector<int64_t>;

}  // namespace

TEST_CASE("keep_alive landlord: rent is charged to every idle environment", "[keep_alive]") {
  // Credit = warm time: A 100 ms / 128 MB, B 400 / 256, C 1024 / 512, D 3000 / 300,
  // E 64 / 64. Every number below is exact in binary.
  BudgetHost h("landlord", 896);
  h.pool.costs().add("A", 128, false, 100);
  h.pool.costs().add("B", 256, false, 400);
  h.pool.costs().add("C", 512, false, 1024);
  h.pool.costs().add("D", 300, false, 3000);
  h.pool.costs().add("E", 64, false, 64);
  CHECK(h.policy->name() == "landlord");
  CHECK(h.policy->needs_memory_budget());

  int64_t a = 0, b = 0, c = 0, a2 = 0, d = 0, e = 0;
  h.cold_and_idle("A", 128, s(1), &a);
  h.cold_and_idle("B", 256, s(2), &b);
  h.cold_and_idle("C", 512, s(3), &c);
  // credit/size: A 0.78125, B 1.5625, C 2. Rent 0.78125 per MB leaves A at 0.
  CHECK(h.cold_and_idle("A", 128, s(4), &a2) == Ids{a});
  // Now B = 400 - 0.78125*256 = 200, C = 1024 - 0.78125*512 = 624, a2 = 100 (new).
  // 300 MB: rent min(200/256, 624/512, 100/128) = 0.78125 leaves B and a2 at 0 (C 224):
  // B goes first (used less recently), then a2 at no further rent.
  CHECK(h.cold_and_idle("D", 300, s(5), &d) == Ids{b, a2});
  h.cold_and_idle("E", 64, s(6), &e);  // fits: 812 + 64 <= 896
  // C's credit is 224 (ratio 0.4375), E's 64 (ratio 1): C goes first. Without the rent C
  // would still hold 1024 (ratio 2) and E would go.
  CHECK(h.policy->victims(h.pool, 1, s(7)) == Ids{c});
  // Enough for 600: C at rent 0.4375; E 64 - 0.4375*64 = 36 then pays 0.5625 per MB; D.
  CHECK(h.policy->victims(h.pool, 600, s(7)) == Ids{c, e, d});
}

TEST_CASE("keep_alive landlord: never names a busy environment", "[keep_alive]") {
  BudgetHost h("landlord", 1024);
  int64_t a = 0, b = 0;
  h.cold_and_idle("A", 128, s(1), &a);  // no warm time known: credit 0, the first victim
  h.cold_and_idle("B", 128, s(2), &b);
  h.pool.start_request(a);
  CHECK(h.policy->victims(h.pool, 100, s(3)) == Ids{b});
  CHECK(h.policy->victims(h.pool, 1000, s(3)) == Ids{b});
}

TEST_CASE("keep_alive landlord: an answer the Scheduler does not use charges no rent", "[keep_alive]") {
  BudgetHost h("landlord", 1024);
  h.pool.costs().add("A", 128, false, 128);  // ratio 1
  h.pool.costs().add("B", 128, false, 256);  // ratio 2
  int64_t a = 0, b = 0, c = 0;
  h.cold_and_idle("A", 128, s(1), &a);
  h.cold_and_idle("B", 128, s(2), &b);
  // Asked and not acted on (e.g. the request was placed otherwise): no rent.
  CHECK(h.policy->victims(h.pool, 100, s(3)) == Ids{a});
  h.pool.costs().add("C", 128, false, 192);  // ratio 1.5
  h.cold_and_idle("C", 128, s(4), &c);
  // Had rent 1 been charged, B would hold 128 (ratio 1), below C's 1.5.
  CHECK(h.policy->victims(h.pool, 300, s(5)) == Ids{a, c, b});
}
