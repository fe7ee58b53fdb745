// greedy-dual, freq and size: hand-computed priorities and Clock (coldstart.md §2.3).
#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <random>

#include "keep_alive/factories.h"
#include "keep_alive/keep_alive_policy.h"
#include "keep_alive_host.h"
#include "registry.h"

using namespace coldlab::policies;
using coldlab::policies::testing::BudgetHost;

namespace {

constexpr TimeUs s(double seconds) { return static_cast<TimeUs>(seconds * 1e6); }


using Ids = std::vector<int64_t>;

}  // namespace

TEST_CASE("keep_alive greedy-dual: three functions, priorities and Clock by hand", "[keep_alive]") {
  // Cost = cold - warm: A 1000 ms at 128 MB, B 2500 ms at 256 MB, C 1000 ms at 512 MB.
  // Every priority below is a multiple of 1/512, so doubles hold them exactly.
  BudgetHost h("greedy-dual", 1024);
  h.pool.costs().add("A", 128, true, 1100);
  h.pool.costs().add("A", 128, false, 100);
  h.pool.costs().add("B", 256, true, 2600);
  h.pool.costs().add("B", 256, false, 100);
  h.pool.costs().add("C", 512, true, 1200);
  h.pool.costs().add("C", 512, false, 200);
  CHECK(h.policy->needs_memory_budget());
  CHECK(h.policy->name() == "greedy-dual");

  int64_t e1 = 0, e2 = 0, e3 = 0, e4 = 0, e5 = 0, e6 = 0, e7 = 0, e8 = 0;
  CHECK(h.cold("A", 128, s(1), &e1).empty());  // Clock 0; A = 0 + 1 * 1000/128 = 7.8125
  h.finish(e1, s(1.5));
  CHECK(h.cold("B", 256, s(2), &e2).empty());  // B = 0 + 1 * 2500/256 = 9.765625
  h.finish(e2, s(2.5));
  CHECK(h.cold("C", 512, s(3), &e3).empty());  // C = 0 + 1 * 1000/512 = 1.953125
  h.finish(e3, s(3.5));
  h.warm(e1, s(4));  // Freq(A) = 2: A = 0 + 2000/128 = 15.625
  h.finish(e1, s(4.5));
  // Lowest first: C 1.95, B 9.77, A 15.625 (asking evicts nothing).
  CHECK(h.policy->victims(h.pool, 600, s(4.6)) == Ids{e3, e2});
  CHECK(h.policy->victims(h.pool, 1000, s(4.6)) == Ids{e3, e2, e1});

  h.warm(e2, s(5));  // Freq(B) = 2: B = 0 + 5000/256 = 19.53125; e2 busy
  // A second B environment: 896 + 256 MB is 128 over. C goes; Clock = 1.953125.
  CHECK(h.cold("B", 256, s(5), &e4) == Ids{e3});
  // Freq(B) = 2 + 1 = 3 for both B environments: B = 1.953125 + 7500/256 = 31.25.
  h.finish(e2, s(5.5));
  h.finish(e4, s(5.6));
  // C again: A (15.625) goes before B (31.25); Clock = 15.625. C's count died with e3:
  // C = 15.625 + 1000/512 = 17.578125.
  CHECK(h.cold("C", 512, s(6), &e5) == Ids{e1});
  h.finish(e5, s(6.5));
  // A again: C (17.58) is lowest; Clock = 17.578125; A = 17.578125 + 7.8125 = 25.390625.
  CHECK(h.cold("A", 128, s(7), &e6) == Ids{e5});
  h.finish(e6, s(7.5));
  // C again: A (25.39) goes; Clock = 25.390625; C = 25.390625 + 1.953125 = 27.34375.
  CHECK(h.cold("C", 512, s(8), &e7) == Ids{e6});
  h.finish(e7, s(8.5));
  // A again: C (27.34) goes; Clock = 27.34375; A = 27.34375 + 7.8125 = 35.15625.
  CHECK(h.cold("A", 128, s(9), &e8) == Ids{e7});
  h.finish(e8, s(9.5));
  // Aging: the Clock has passed B's 31.25, so the once-frequent B environments now go
  // before A (35.16), the older first (5.5 s before 5.6 s).
  CHECK(h.policy->victims(h.pool, 128, s(10)) == Ids{e2});
  CHECK(h.policy->victims(h.pool, 300, s(10)) == Ids{e2, e4});
  CHECK(h.policy->victims(h.pool, 600, s(10)) == Ids{e2, e4, e8});
}

TEST_CASE("keep_alive greedy-dual: Clock is the last victim's priority", "[keep_alive]") {
  BudgetHost h("greedy-dual", 640);
  h.pool.costs().add("A", 128, true, 1100);
  h.pool.costs().add("A", 128, false, 100);  // A: 1000/128 = 7.8125
  h.pool.costs().add("B", 128, true, 2100);
  h.pool.costs().add("B", 128, false, 100);  // B: 2000/128 = 15.625
  h.pool.costs().add("G", 128, true, 11620);
  h.pool.costs().add("G", 128, false, 100);  // G: 11520/128 = 90
  h.pool.costs().add("D", 256, true, 10100);
  h.pool.costs().add("D", 256, false, 100);  // D: 10000/256 = 39.0625
  int64_t a = 0, b = 0, g = 0, d = 0, x = 0;
  h.cold("A", 128, s(1), &a);
  h.finish(a, s(1));
  h.cold("B", 128, s(2), &b);
  h.finish(b, s(2));
  h.cold("G", 128, s(3), &g);
  h.finish(g, s(3));
  h.cold("D", 256, s(4), &d);
  h.finish(d, s(4));
  // 256 more MB: A then B go, and Clock is the second's priority, 15.625. Both D
  // environments (Freq 2) take 15.625 + 2 * 39.0625 = 93.75.
  CHECK(h.cold("D", 256, s(5), &x) == Ids{a, b});
  h.finish(x, s(5));
  // G (90) is now lowest. Had Clock been the first victim's 7.8125, D would be 85.9375.
  CHECK(h.policy->victims(h.pool, 128, s(6)) == Ids{g});
  // A new A after G goes: Clock 90, A = 97.8125, above D's 93.75: the D environments go
  // first, the less recently used one before the other.
  CHECK(h.cold("A", 128, s(7), &a) == Ids{g});
  h.finish(a, s(7));
  CHECK(h.policy->victims(h.pool, 128, s(8)) == Ids{d});
  CHECK(h.policy->victims(h.pool, 640, s(8)) == Ids{d, x, a});
}

TEST_CASE("keep_alive greedy-dual: never names a busy environment", "[keep_alive]") {
  BudgetHost h("greedy-dual", 256);
  int64_t a = 0, b = 0;
  h.cold("A", 128, s(1), &a);  // no costs known: priority Clock + 0, the lowest
  h.cold("B", 128, s(2), &b);
  h.finish(b, s(3));
  CHECK(h.policy->victims(h.pool, 128, s(4)) == Ids{b});
  CHECK(h.policy->victims(h.pool, 256, s(4)) == Ids{b});  // not enough idle: b alone
}

TEST_CASE("keep_alive greedy-dual: cost falls back to the cold time until a warm one is seen",
          "[keep_alive]") {
  BudgetHost h("greedy-dual", 1024);
  h.pool.costs().add("A", 128, true, 500);   // cold only: Cost 500 -> 3.90625
  h.pool.costs().add("B", 128, true, 1300);  // cold and warm: Cost 1300 - 100 = 1200 -> 9.375
  h.pool.costs().add("B", 128, false, 100);
  int64_t a = 0, b = 0, c = 0;
  h.cold("A", 128, s(1), &a);
  h.finish(a, s(1));
  h.cold("B", 128, s(2), &b);
  h.finish(b, s(2));
  h.cold("C", 128, s(3), &c);  // nothing known: 0
  h.finish(c, s(3));
  CHECK(h.policy->victims(h.pool, 1000, s(4)) == Ids{c, a, b});
  // A's first warm run is seen (the Scheduler records a request's cost as it ends): Cost
  // 500 - 400 = 100, Freq 2 -> 1.5625; C still 0.
  h.warm(a, s(4));
  h.pool.costs().add("A", 128, false, 400);
  h.finish(a, s(4));
  CHECK(h.policy->victims(h.pool, 1000, s(4)) == Ids{c, a, b});
  // C: 5000/128 x Freq 2 = 78.125, now the highest.
  h.warm(c, s(4));
  h.pool.costs().add("C", 128, true, 5000);
  h.finish(c, s(4));
  CHECK(h.policy->victims(h.pool, 1000, s(4)) == Ids{a, b, c});
}

TEST_CASE("keep_alive freq: Clock + Freq x Cost, size ignored", "[keep_alive]") {
  BudgetHost h("freq", 1024);
  CHECK(h.policy->name() == "freq");
  h.pool.costs().add("A", 128, true, 1100);
  h.pool.costs().add("A", 128, false, 100);  // 1000
  h.pool.costs().add("B", 256, true, 2600);
  h.pool.costs().add("B", 256, false, 100);  // 2500
  h.pool.costs().add("C", 512, true, 1200);
  h.pool.costs().add("C", 512, false, 200);  // 1000
  int64_t a = 0, b = 0, c = 0, c2 = 0;
  h.cold("A", 128, s(1), &a);
  h.finish(a, s(1));
  h.cold("B", 256, s(2), &b);
  h.finish(b, s(2));
  h.cold("C", 512, s(3), &c);
  h.finish(c, s(3));
  // A 1000 and C 1000 tie: the less recently used A first; B 2500.
  CHECK(h.policy->victims(h.pool, 2000, s(4)) == Ids{a, c, b});
  h.warm(a, s(4));  // A = 2000
  h.finish(a, s(4));
  CHECK(h.policy->victims(h.pool, 2000, s(5)) == Ids{c, a, b});
  // A 512 MB newcomer needs 384: C goes (Clock 1000); the new C = 1000 + 1000 = 2000 ties A,
  // which was used earlier.
  CHECK(h.cold("C", 512, s(6), &c2) == Ids{c});
  h.finish(c2, s(6));
  CHECK(h.policy->victims(h.pool, 2000, s(7)) == Ids{a, c2, b});
}

TEST_CASE("keep_alive size: Clock + Freq / Size, cost ignored", "[keep_alive]") {
  BudgetHost h("size", 1024);
  CHECK(h.policy->name() == "size");
  int64_t a = 0, b = 0, c = 0, b2 = 0;
  h.cold("A", 128, s(1), &a);  // 1/128 = 0.0078125
  h.finish(a, s(1));
  h.cold("B", 256, s(2), &b);  // 1/256 = 0.00390625
  h.finish(b, s(2));
  h.cold("C", 512, s(3), &c);  // 1/512 = 0.001953125
  h.finish(c, s(3));
  CHECK(h.policy->victims(h.pool, 2000, s(4)) == Ids{c, b, a});
  // 256 more: C goes (Clock 1/512); B's second environment: Freq 2: B = 1/512 + 2/256 =
  // 0.009765625, above A's 0.0078125.
  CHECK(h.cold("B", 256, s(5), &b2) == Ids{c});
  h.finish(b2, s(5));
  CHECK(h.policy->victims(h.pool, 2000, s(6)) == Ids{a, b, b2});
}

namespace {

// The policies' definition computed from scratch: every idle environment's priority from
// Clock and each function's last access, sorted; the shortest prefix that frees `need`.
struct Reference {
  std::string kind;
  double clock = 0;
  std::map<std::string, std::pair<double, int64_t>> access;  // f -> (Clock, Freq) at its last access

  double priority(const EnvInfo& e, const Pool& pool) const {
    auto it = access.find(e.function);
    const double c = it == access.end() ? clock : it->second.first;
    const double freq = it == access.end() ? 0 : static_cast<double>(it->second.second);
    const double size = e.memory_mb;
    const double cost = keep_alive::miss_cost_ms(pool, e.function, e.memory_mb);
    if (kind == "freq") return c + freq * cost;
    if (kind == "size") return c + freq / size;
    return c + freq * cost / size;
  }

  std::vector<std::pair<double, const EnvInfo*>> order(const Pool& pool) const {
    std::vector<std::pair<double, const EnvInfo*>> all;
    for (const EnvInfo* e : pool.idle()) all.emplace_back(priority(*e, pool), e);
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
      if (a.first != b.first) return a.first < b.first;
      if (a.second->last_used_us != b.second->last_used_us) return a.second->last_used_us < b.second->last_used_us;
      return a.second->id < b.second->id;
    });
    return all;
  }

  Ids victims(const Pool& pool, int64_t need) const {
    Ids out;
    int64_t freed = 0;
    for (const auto& [p, e] : order(pool)) {
      if (freed >= need) break;
      out.push_back(e->id);
      freed += e->memory_mb;
    }
    return out;
  }
};

}  // namespace

TEST_CASE("keep_alive greedy-dual freq size: victims agree with sorting every idle environment",
          "[keep_alive]") {
  for (const std::string kind : {"greedy-dual", "freq", "size"}) {
    CAPTURE(kind);
    BudgetHost h(kind.c_str(), 3000);
    Reference ref;
    ref.kind = kind;
    std::mt19937_64 rng(11);
    auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
    // Two memory sizes for f0: its environments fall in two groups.
    const std::vector<std::pair<std::string, int>> functions = {
        {"f0", 128}, {"f0", 256}, {"f1", 128}, {"f2", 256}, {"f3", 512}, {"f4", 128}, {"f5", 384}};
    std::map<int64_t, bool> busy_cold;  // busy environments: is their request the cold one
    TimeUs t = 0;
    auto accessed = [&](const std::string& f) { ref.access[f] = {ref.clock, h.pool.invocations(f)}; };
    for (int step = 0; step < 4000; ++step) {
      t += 1 + static_cast<TimeUs>(pick(3));  // ties in last_used happen too
      const int action = static_cast<int>(pick(4));
      if (action == 0) {  // a request that needs a new environment
        const auto& [f, mb] = functions[pick(functions.size())];
        const int64_t need = h.pool.used_mb() + mb - h.pool.budget_mb();
        Ids expected;
        std::map<int64_t, double> prio;
        if (need > 0) {
          expected = ref.victims(h.pool, need);
          for (const auto& [p, e] : ref.order(h.pool)) prio[e->id] = p;
          int64_t freed = 0;
          for (int64_t id : expected) freed += h.pool.find(id)->memory_mb;
          if (freed < need) continue;  // BudgetHost would fail: the budget is held by busy ones
        }
        std::vector<EnvInfo> gone;
        for (int64_t id : expected) gone.push_back(*h.pool.find(id));
        int64_t id = 0;
        REQUIRE(h.cold(f, mb, t, &id) == expected);
        for (const EnvInfo& e : gone) {
          ref.clock = std::max(ref.clock, prio[e.id]);
          if (h.pool.count(e.function) == 0) ref.access.erase(e.function);
        }
        accessed(f);
        busy_cold[id] = true;
      } else if (action == 1) {  // a warm request
        const std::vector<const EnvInfo*> idle = h.pool.idle();
        if (idle.empty()) continue;
        const EnvInfo* e = idle[pick(idle.size())];
        h.warm(e->id, t);
        accessed(e->function);
        busy_cold[e->id] = false;
      } else if (action == 2) {  // a request ends, its cost recorded first as the Scheduler does
        if (busy_cold.empty()) continue;
        auto it = std::next(busy_cold.begin(), static_cast<std::ptrdiff_t>(pick(busy_cold.size())));
        const EnvInfo& e = *h.pool.find(it->first);
        h.pool.costs().add(e.function, e.memory_mb, it->second, 50.0 + static_cast<double>(pick(2000)));
        h.finish(it->first, t);
        busy_cold.erase(it);
      } else {  // only asking
        const int64_t need = 1 + static_cast<int64_t>(pick(1500));
        REQUIRE(h.policy->victims(h.pool, need, t) == ref.victims(h.pool, need));
      }
    }
  }
}
