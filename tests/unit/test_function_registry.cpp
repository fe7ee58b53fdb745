#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/function_registry.h"

using coldlab::config::FunctionConfig;
using coldlab::core::FunctionRegistry;
using coldlab::core::FunctionState;
using coldlab::core::new_uuid;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() /
           ("coldlab-registry-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

void write_file(const fs::path& p, size_t bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << std::string(bytes, 'x');
}

FunctionConfig config(const std::string& name, const fs::path& code_dir) {
  FunctionConfig c;
  c.name = name;
  c.code_dir = code_dir;
  c.handler = "app.handler";
  c.runtime = "python3.11";
  c.kind = coldlab::config::RuntimeKind::kPython;
  c.memory_mb = 128;
  c.timeout_s = 3;
  c.environment = {{"STAGE", "test"}};
  c.description = "desc of " + name;
  return c;
}

const std::regex kUuidV4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");

constexpr int64_t kT0 = 1'700'000'000'000'000;

}  // namespace

TEST_CASE("function_registry: find returns the configuration and first revision",
          "[function_registry]") {
  TempDir code;
  write_file(code.path / "app.py", 1234);
  FunctionRegistry reg({config("alpha", code.path)}, kT0);
  const auto s = reg.find("alpha");
  REQUIRE(s);
  CHECK(s->config.name == "alpha");
  CHECK(s->config.code_dir == code.path);
  CHECK(s->config.handler == "app.handler");
  CHECK(s->config.runtime == "python3.11");
  CHECK(s->config.memory_mb == 128);
  CHECK(s->config.environment.at("STAGE") == "test");
  CHECK(s->revision == 1);
  CHECK(std::regex_match(s->revision_id, kUuidV4));
  CHECK(s->last_modified_us == kT0);
  CHECK(s->code_size == 1234);
}

TEST_CASE("function_registry: code_size counts every file in the code folder",
          "[function_registry]") {
  TempDir code;
  write_file(code.path / "bootstrap", 1000);
  write_file(code.path / "lib" / "a.so", 300);
  write_file(code.path / "lib" / "deep" / "b.txt", 34);
  write_file(code.path / "empty", 0);
  TempDir empty;
  FunctionRegistry reg({config("full", code.path), config("bare", empty.path)}, kT0);
  CHECK(reg.find("full")->code_size == 1334);
  CHECK(reg.find("bare")->code_size == 0);
}

TEST_CASE("function_registry: unknown names are not found", "[function_registry]") {
  TempDir code;
  FunctionRegistry reg({config("alpha", code.path)}, kT0);
  CHECK_FALSE(reg.find("beta"));
  CHECK_FALSE(reg.find("ALPHA"));
  CHECK_FALSE(reg.find(""));
}

TEST_CASE("function_registry: list is sorted by name", "[function_registry]") {
  TempDir code;
  FunctionRegistry reg({config("zeta", code.path), config("alpha", code.path),
                        config("Mid", code.path), config("beta", code.path)},
                       kT0);
  std::vector<std::string> names;
  for (const auto& s : reg.list()) names.push_back(s.config.name);
  CHECK(names == std::vector<std::string>{"Mid", "alpha", "beta", "zeta"});
  // Each function got its own revision id.
  std::set<std::string> ids;
  for (const auto& s : reg.list()) ids.insert(s.revision_id);
  CHECK(ids.size() == 4);
}

TEST_CASE("function_registry: readers get copies", "[function_registry]") {
  TempDir code;
  FunctionRegistry reg({config("alpha", code.path)}, kT0);
  auto s = reg.find("alpha");
  REQUIRE(s);
  s->config.memory_mb = 4096;
  s->revision = 99;
  auto listed = reg.list();
  listed.at(0).config.timeout_s = 900;
  CHECK(reg.find("alpha")->config.memory_mb == 128);
  CHECK(reg.find("alpha")->revision == 1);
  CHECK(reg.find("alpha")->config.timeout_s == 3);
}

TEST_CASE("function_registry: update bumps revision and revision_id and last_modified",
          "[function_registry]") {
  TempDir code;
  write_file(code.path / "app.py", 10);
  FunctionRegistry reg({config("alpha", code.path), config("beta", code.path)}, kT0);
  const auto before = *reg.find("alpha");
  const auto beta_before = *reg.find("beta");

  auto r = reg.update("alpha",
                      [](FunctionConfig& c) {
                        c.memory_mb = 512;
                        c.environment["NEW"] = "1";
                        return std::string();
                      },
                      kT0 + 5'000'000);
  CHECK(r.error.empty());
  REQUIRE(r.state);
  CHECK(r.state->config.memory_mb == 512);
  CHECK(r.state->revision == 2);
  CHECK(std::regex_match(r.state->revision_id, kUuidV4));
  CHECK(r.state->revision_id != before.revision_id);
  CHECK(r.state->last_modified_us == kT0 + 5'000'000);
  CHECK(r.state->code_size == 10);

  // The stored state is what update returned.
  const auto after = *reg.find("alpha");
  CHECK(after.config.memory_mb == 512);
  CHECK(after.config.environment.at("NEW") == "1");
  CHECK(after.config.environment.at("STAGE") == "test");  // the change started from a copy
  CHECK(after.revision == 2);
  CHECK(after.revision_id == r.state->revision_id);
  CHECK(after.last_modified_us == kT0 + 5'000'000);

  // A second update bumps again.
  auto r2 = reg.update("alpha", [](FunctionConfig& c) { c.timeout_s = 10; return std::string(); },
                       kT0 + 6'000'000);
  REQUIRE(r2.state);
  CHECK(r2.state->revision == 3);
  CHECK(r2.state->revision_id != after.revision_id);
  CHECK(r2.state->config.memory_mb == 512);
  CHECK(r2.state->config.timeout_s == 10);

  // Other functions are untouched.
  const auto beta = *reg.find("beta");
  CHECK(beta.revision == 1);
  CHECK(beta.revision_id == beta_before.revision_id);
  CHECK(beta.last_modified_us == kT0);
  CHECK(beta.config.memory_mb == 128);
}

TEST_CASE("function_registry: a change that returns an error leaves the state untouched",
          "[function_registry]") {
  TempDir code;
  FunctionRegistry reg({config("alpha", code.path)}, kT0);
  const auto before = *reg.find("alpha");
  auto r = reg.update("alpha",
                      [](FunctionConfig& c) {
                        c.memory_mb = 99999;  // modified, then refused
                        c.description = "changed";
                        return std::string("MemorySize must be at most 10240");
                      },
                      kT0 + 1'000'000);
  CHECK_FALSE(r.state);
  CHECK(r.error == "MemorySize must be at most 10240");
  const auto after = *reg.find("alpha");
  CHECK(after.config.memory_mb == 128);
  CHECK(after.config.description == "desc of alpha");
  CHECK(after.revision == 1);
  CHECK(after.revision_id == before.revision_id);
  CHECK(after.last_modified_us == kT0);
}

TEST_CASE("function_registry: update of an unknown name gives nullopt and no error",
          "[function_registry]") {
  TempDir code;
  FunctionRegistry reg({config("alpha", code.path)}, kT0);
  bool called = false;
  auto r = reg.update("nope",
                      [&](FunctionConfig&) {
                        called = true;
                        return std::string();
                      },
                      kT0);
  CHECK_FALSE(r.state);
  CHECK(r.error.empty());
  CHECK_FALSE(called);
}

TEST_CASE("function_registry: new_uuid is RFC 4122 version 4 shaped", "[function_registry]") {
  for (int i = 0; i < 1000; ++i) {
    const std::string id = new_uuid();
    CAPTURE(id);
    REQUIRE(id.size() == 36);
    REQUIRE(std::regex_match(id, kUuidV4));
  }
}

TEST_CASE("function_registry: new_uuid is unique over 10000 calls", "[function_registry]") {
  std::set<std::string> seen;
  for (int i = 0; i < 10'000; ++i) seen.insert(new_uuid());
  CHECK(seen.size() == 10'000);
}

TEST_CASE("function_registry: new_uuid is unique across threads", "[function_registry]") {
  constexpr int kThreads = 4, kPerThread = 2500;
  std::vector<std::vector<std::string>> made(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&made, t] {
      for (int i = 0; i < kPerThread; ++i) made[t].push_back(new_uuid());
    });
  for (auto& th : threads) th.join();
  std::set<std::string> all;
  for (const auto& v : made) all.insert(v.begin(), v.end());
  CHECK(all.size() == kThreads * kPerThread);
}
