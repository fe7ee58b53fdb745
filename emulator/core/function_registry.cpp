#include "core/function_registry.h"

#include <filesystem>
#include <random>

namespace coldlab::core {

std::string new_uuid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t hi = rng(), lo = rng();
  hi = (hi & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  char buf[37];
  snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
           static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
           static_cast<unsigned>(lo >> 48), static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
  return buf;
}

namespace {

int64_t folder_size(const std::filesystem::path& dir) {
  std::error_code ec;
  int64_t total = 0;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) total += static_cast<int64_t>(it->file_size(ec));
  }
  return total;
}

}  // namespace

FunctionRegistry::FunctionRegistry(std::vector<config::FunctionConfig> functions, int64_t now_us) {
  for (auto& f : functions) {
    FunctionState s;
    s.code_size = folder_size(f.code_dir);
    s.config = std::move(f);
    s.revision_id = new_uuid();
    s.last_modified_us = now_us;
    functions_.emplace(s.config.name, std::move(s));
  }
}

std::optional<FunctionState> FunctionRegistry::find(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = functions_.find(name);
  if (it == functions_.end()) return std::nullopt;
  return it->second;
}

std::vector<FunctionState> FunctionRegistry::list() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<FunctionState> out;
  for (const auto& [name, s] : functions_) out.push_back(s);
  return out;
}

FunctionRegistry::UpdateResult FunctionRegistry::update(
    const std::string& name, const std::function<std::string(config::FunctionConfig&)>& change,
    int64_t now_us) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = functions_.find(name);
  if (it == functions_.end()) return {};
  config::FunctionConfig next = it->second.config;
  std::string error = change(next);
  if (!error.empty()) return {std::nullopt, error};
  it->second.config = std::move(next);
  it->second.revision += 1;
  it->second.revision_id = new_uuid();
  it->second.last_modified_us = now_us;
  return {it->second, ""};
}

}  // namespace coldlab::core
