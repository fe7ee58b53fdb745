// Every keep-alive policy in the registry, driven through random event sequences the way
// the Scheduler drives it: victims() and tick evictions only ever name idle environments
// in the pool, victims() frees enough whenever enough evictable idle memory exists (all
// of it but provisioned environments), the budget holds
// after every placement, and the same inputs give the same decisions.
#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <set>

#include "keep_alive/keep_alive_policy.h"
#include "registry.h"

using namespace coldlab::policies;

namespace {

class Sim {
 public:
  Sim(const std::string& spec, uint64_t seed, int64_t budget_mb)
      : policy_(make_keep_alive(spec)), rng_(seed) {
    pool_.set_budget_mb(budget_mb);
    pool_.set_function({"f0", 128, std::nullopt});
    pool_.set_function({"f1", 256, std::nullopt});
    pool_.set_function({"f2", 512, std::nullopt});
  }

  void run(int steps) {
    for (int i = 0; i < steps; ++i) step();
  }

  uint64_t trace() const { return trace_; }
  int victims_calls() const { return victims_calls_; }
  int evictions() const { return evictions_; }
  int tick_evictions() const { return tick_evictions_; }
  int prewarmed() const { return prewarmed_; }
  int pings() const { return pings_; }

 private:
  uint64_t below(uint64_t n) { return rng_() % n; }  // a test's draw: a slight bias is fine
  void mix(uint64_t x) { trace_ = (trace_ ^ x) * 1099511628211ull; }

  void step() {
    const uint64_t r = below(100);
    if (r < 40) {
      request("f" + std::to_string(below(3)));
    } else if (r < 75) {
      std::vector<int64_t> busy;
      for (const auto& [id, e] : pool_.environments())
        if (!e.idle()) busy.push_back(id);
      if (!busy.empty()) finish(busy[below(busy.size())]);
    } else if (r < 95) {
      const uint64_t kind = below(20);
      const TimeUs span = kind < 14 ? 60 * kSecondUs : kind < 19 ? 30 * kMinuteUs : 6 * 60 * kMinuteUs;
      pass_time(static_cast<TimeUs>(below(static_cast<uint64_t>(span))));
    } else if (r < 97) {
      if (pool_.environments().empty()) return;
      auto it = pool_.environments().begin();
      std::advance(it, static_cast<long>(below(pool_.environments().size())));
      crash(it->first);
    } else {
      const int64_t need = 1 + static_cast<int64_t>(below(1500));
      check_victims(policy_->victims(pool_, need, now_), need);
    }
  }

  void check_victims(const std::vector<int64_t>& victims, int64_t need) {
    ++victims_calls_;
    std::set<int64_t> seen;
    int64_t freed = 0;
    for (int64_t id : victims) {
      const EnvInfo* e = pool_.find(id);
      REQUIRE(e);
      REQUIRE(e->idle());
      REQUIRE(seen.insert(id).second);
      freed += e->memory_mb;
      mix(static_cast<uint64_t>(id));
    }
    // Provisioned environments are committed memory, never victims (only `provisioned`
    // makes them, and its contract says so); every other idle environment is evictable.
    int64_t evictable_mb = 0;
    for (const EnvInfo* e : pool_.idle())
      if (!e->provisioned) evictable_mb += e->memory_mb;
    if (evictable_mb >= need) REQUIRE(freed >= need);
  }

  void evict(int64_t id) {
    const EnvInfo* e = pool_.find(id);
    REQUIRE(e);
    REQUIRE(e->idle());
    const EnvInfo gone = *e;
    pool_.remove(id);
    keep_until_.erase(id);
    policy_->on_evicted(gone, pool_, now_);
    ++evictions_;
    mix(static_cast<uint64_t>(id) << 1);
  }

  // The Scheduler's make_room: the policy's victims from the front until enough is free,
  // all or nothing.
  bool make_room(int mb) {
    if (pool_.budget_mb() <= 0) return true;
    const int64_t need = pool_.used_mb() + mb - pool_.budget_mb();
    if (need <= 0) return true;
    const std::vector<int64_t> victims = policy_->victims(pool_, need, now_);
    check_victims(victims, need);
    int64_t freed = 0;
    size_t k = 0;
    for (; k < victims.size() && freed < need; ++k) freed += pool_.find(victims[k])->memory_mb;
    if (freed < need) return false;
    for (size_t i = 0; i < k; ++i) evict(victims[i]);
    REQUIRE(pool_.used_mb() + mb <= pool_.budget_mb());
    return true;
  }

  void request(const std::string& function) {
    policy_->on_request(function, pool_, now_);
    const std::vector<const EnvInfo*> idle = pool_.idle(function);
    if (!idle.empty() && below(10) != 0) {
      const EnvInfo* pick = idle.front();
      for (const EnvInfo* e : idle)
        if (e->last_used_us >= pick->last_used_us) pick = e;
      const EnvInfo& e = *pool_.find(pick->id);
      keep_until_.erase(e.id);
      pool_.start_request(e.id);
      policy_->on_start(e, false, pool_, now_);
      mix(static_cast<uint64_t>(e.id) << 2);
      return;
    }
    const int mb = pool_.function(function)->memory_mb;
    if (!make_room(mb)) {
      mix(0xdead);
      return;
    }
    EnvInfo e;
    e.id = next_id_++;
    e.function = function;
    e.memory_mb = mb;
    e.created_us = now_;
    e.last_used_us = now_;
    e.invocations = 1;
    e.active = 1;
    pool_.add(e);
    policy_->on_start(*pool_.find(e.id), true, pool_, now_);
    mix(static_cast<uint64_t>(e.id) << 3);
  }

  void finish(int64_t id) {
    const EnvInfo& e = *pool_.find(id);
    const bool cold = e.invocations == 1;
    pool_.costs().add(e.function, e.memory_mb, cold,
                      static_cast<double>(cold ? 800 + below(400) : 50 + below(100)));
    pool_.end_request(id, now_);
    const IdleDecision d = policy_->on_idle(e, pool_, now_);
    if (d.prewarm) {
      REQUIRE(pool_.function(d.prewarm->function));
      REQUIRE(d.prewarm->count >= 1);
      REQUIRE(d.prewarm->at_us > now_);
      REQUIRE(d.prewarm->keep_until_us >= d.prewarm->at_us);
      prewarms_.emplace(d.prewarm->at_us, *d.prewarm);
    }
    mix(static_cast<uint64_t>(d.keep_until_us));
    if (d.keep_until_us <= now_) {
      evict(id);
    } else if (d.keep_until_us != kForever) {
      keep_until_[id] = d.keep_until_us;
    }
  }

  void crash(int64_t id) {
    const EnvInfo gone = *pool_.find(id);
    pool_.remove(id);
    keep_until_.erase(id);
    policy_->on_evicted(gone, pool_, now_);
  }

  void start_prewarm(const Prewarm& p) {
    REQUIRE(pool_.function(p.function));
    REQUIRE(p.count >= 1);
    for (int i = 0; i < p.count; ++i) {
      const int mb = pool_.function(p.function)->memory_mb;
      if (!make_room(mb)) return;
      EnvInfo e;
      e.id = next_id_++;
      e.function = p.function;
      e.memory_mb = mb;
      e.created_us = now_;
      e.last_used_us = now_;
      e.provisioned = p.provisioned;
      pool_.add(e);
      if (p.keep_until_us != kForever) keep_until_[e.id] = p.keep_until_us;
      ++prewarmed_;
      mix(static_cast<uint64_t>(e.id) << 4);
    }
  }

  void pass_time(TimeUs dt) {
    now_ += dt;
    std::vector<int64_t> expired;
    for (const auto& [id, until] : keep_until_)
      if (until <= now_) expired.push_back(id);
    for (int64_t id : expired) evict(id);
    while (!prewarms_.empty() && prewarms_.begin()->first <= now_) {
      const Prewarm p = prewarms_.begin()->second;
      prewarms_.erase(prewarms_.begin());
      start_prewarm(p);
    }
    for (int rounds = 0; rounds < 16 && policy_->next_tick() <= now_; ++rounds) {
      const TickActions a = policy_->on_tick(pool_, now_);
      std::set<int64_t> seen;
      for (int64_t id : a.evict) {
        const EnvInfo* e = pool_.find(id);
        REQUIRE(e);
        REQUIRE(e->idle());
        REQUIRE(seen.insert(id).second);
      }
      for (int64_t id : a.evict) evict(id);
      tick_evictions_ += static_cast<int>(a.evict.size());
      for (const Prewarm& p : a.prewarm) {
        if (p.at_us <= now_) {
          start_prewarm(p);
        } else {
          prewarms_.emplace(p.at_us, p);
        }
      }
      for (const std::string& f : a.ping) {
        REQUIRE(pool_.function(f));
        ++pings_;
        request(f);
      }
    }
  }

  std::unique_ptr<KeepAlivePolicy> policy_;
  Pool pool_;
  std::mt19937_64 rng_;
  TimeUs now_ = 1'700'000'000 * kSecondUs;
  int64_t next_id_ = 1;
  std::map<int64_t, TimeUs> keep_until_;
  std::multimap<TimeUs, Prewarm> prewarms_;
  uint64_t trace_ = 1469598103934665603ull;
  int victims_calls_ = 0;
  int evictions_ = 0;
  int tick_evictions_ = 0;
  int prewarmed_ = 0;
  int pings_ = 0;
};

std::vector<std::string> specs() {
  std::vector<std::string> out;
  for (const auto& d : keep_alive_policies()) out.push_back(d.name);
  // Parameters that make the rarer branches come up within a few thousand steps.
  for (const char* s :
       {"fixed:ttl=30s", "halving:period=1m", "rand:seed=7", "hybrid-histogram:min_its=3,bin=10s,range=20m",
        "hybrid-histogram:min_its=2,cv=0.5", "hybrid-histogram:min_its=2,head=0.9,bin=10s,range=20m",
        "provisioned:n=2,ttl=1m", "provisioned:function=f1", "ping:every=1m,ttl=2m"})
    out.push_back(s);
  return out;
}

}  // namespace

TEST_CASE("keep_alive properties: only idle environments in the pool are ever evicted", "[keep_alive]") {
  for (const std::string& spec : specs()) {
    for (int64_t budget : {int64_t{1024}, int64_t{0}}) {
      for (uint64_t seed = 1; seed <= 3; ++seed) {
        CAPTURE(spec, budget, seed);
        Sim sim(spec, seed, budget);
        sim.run(3000);
        if (budget > 0) CHECK(sim.victims_calls() > 0);
        // The branches worth testing did come up.
        if (spec.rfind("halving", 0) == 0) CHECK(sim.tick_evictions() > 0);
        if (spec.rfind("ping", 0) == 0) CHECK(sim.pings() > 0);
        if (spec.rfind("provisioned", 0) == 0) CHECK(sim.prewarmed() > 0);
        if (spec.find("head=0.9") != std::string::npos) CHECK(sim.prewarmed() > 0);
      }
    }
  }
}

TEST_CASE("keep_alive properties: the same inputs give the same decisions", "[keep_alive]") {
  for (const std::string& spec : specs()) {
    CAPTURE(spec);
    Sim a(spec, 11, 1024);
    Sim b(spec, 11, 1024);
    a.run(2000);
    b.run(2000);
    CHECK(a.trace() == b.trace());
    CHECK(a.evictions() > 0);
  }
}
