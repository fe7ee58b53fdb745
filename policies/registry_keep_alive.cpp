// The keep-alive policies by name: one line each (docs/policies.md says more).
//
// The provider presets are fixed TTLs measured at one time; each names its source and
// year, because "AWS-like" meant 5 min, 27 min, 10 min or halving depending on the year
// (coldstart.md §2.5). They take no parameters: to vary the TTL, use fixed.
//
// `study` fits the target study's Scenario 1 (study.md): requests at minutes 0, 6, 16, 31
// and 61, warm after the 15-min gap and cold after the 30-min one. What the keep-alive
// sees is the idle time, the gap minus the previous request's duration d, so a TTL K fits
// when 15 min - d <= K < 30 min - d. K = 22 min leaves 7 min + d of margin on the warm
// side and 8 min - d on the cold side: balanced for requests of up to a minute, far from
// both edges, and a whole number of minutes. The 2018 bound of ~27 min also fits but
// leaves only 3 min before the 30-min gap turns warm.
#include "keep_alive/factories.h"
#include "registry.h"

namespace coldlab::policies {
namespace {

KeepAliveFactory preset(const std::string& label, TimeUs ttl) {
  return [label, ttl](PolicySpec&) { return make_fixed_preset(label, ttl); };
}

}  // namespace

const std::vector<KeepAliveEntry>& keep_alive_registry() {
  static const std::vector<KeepAliveEntry> table = {
      {"none", "evicts every environment as soon as it is idle, so every request is cold; no parameters",
       make_none},
      {"fixed", "keeps an idle environment for ttl (default 10m), then evicts it; LRU under a memory budget",
       make_fixed},
      {"aws-2018",
       "AWS Lambda 2018, idle environments gone after ~27 min (Wang et al., USENIX ATC'18): fixed ttl=27m",
       preset("aws-2018", 27 * kMinuteUs)},
      {"aws-2019",
       "AWS Lambda Jul-Aug 2019, evicted 10 min after the last request (Shilkov 2019): fixed ttl=10m",
       preset("aws-2019", 10 * kMinuteUs)},
      {"azure-2019",
       "Azure Functions Consumption plan 2019, 20 min (Shilkov 2019; Shahrad et al., ATC'20): fixed ttl=20m",
       preset("azure-2019", 20 * kMinuteUs)},
      {"openwhisk",
       "Apache OpenWhisk invoker, idle-container = 10 min (ContainerProxy, apache/openwhisk 2026): fixed "
       "ttl=10m",
       preset("openwhisk", 10 * kMinuteUs)},
      {"localstack", "LocalStack Lambda v2 (2023-2026), LAMBDA_KEEPALIVE_MS default 600000: fixed ttl=10m",
       preset("localstack", 10 * kMinuteUs)},
      {"study",
       "the target study (c. 2019-2020), warm after 15 min idle and cold after 30: fixed ttl=22m, "
       "mid-interval",
       preset("study", 22 * kMinuteUs)},
      {"halving",
       "halves each function's environments idle >= period every period, a lone one goes (SeBS, AWS ~2020); "
       "period (default 380s)",
       make_halving},
      {"lru",
       "keeps idle environments while memory allows, evicts least recently used first; needs a memory budget",
       make_lru},
      {"greedy-dual",
       "FaasCache (ASPLOS'21): evicts lowest Clock + Freq x (cold - warm) / memory first; needs a memory "
       "budget",
       make_greedy_dual},
      {"landlord",
       "FaasCache's LND: credit = warm time, rent min(credit/size) per MB on eviction; needs a memory budget",
       make_landlord},
      {"freq", "FaasCache's FREQ: evicts lowest Clock + Freq x (cold - warm) first; needs a memory budget",
       make_freq},
      {"size", "FaasCache's SIZE: evicts lowest Clock + Freq / memory first; needs a memory budget",
       make_size},
      {"rand",
       "FaasCache's RAND: evicts idle environments at random; seed (default 1); needs a memory budget",
       make_rand},
      {"hybrid-histogram",
       "Shahrad et al. (ATC'20): idle-time histogram pre-warm and keep-alive windows; range=4h, bin=1m, "
       "head=0.05, tail=0.99, margin=0.1, cv=2, min_its=10, oob=0.5, alpha=0.5 (forecaster)",
       make_hybrid_histogram},
      {"provisioned",
       "keeps n (default 1) provisioned environments per function (or function=NAME), re-created when "
       "they die; on-demand spill-over kept for ttl (default 10m)",
       make_provisioned},
      {"ping",
       "sends a keep-warm request to every function (or function=NAME) every `every` (default 5m); idle "
       "environments kept for ttl (default 20m)",
       make_ping},
  };
  return table;
}

}  // namespace coldlab::policies
