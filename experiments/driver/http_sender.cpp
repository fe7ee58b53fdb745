#include "driver/http_sender.h"

#include <chrono>
#include <thread>

#include "api/base64.h"

namespace coldlab::driver {

std::optional<ReportFacts> report_facts(const std::string& log_tail) {
  const size_t report = log_tail.rfind("REPORT RequestId:");
  if (report == std::string::npos) return std::nullopt;
  const size_t line_end = log_tail.find('\n', report);
  const std::string line = log_tail.substr(report, line_end == std::string::npos ? std::string::npos : line_end - report);
  ReportFacts facts;
  const std::string key = "Init Duration: ";
  const size_t init = line.find(key);
  if (init != std::string::npos) {
    facts.cold = true;
    try {
      facts.init_ms = std::stod(line.substr(init + key.size()));
    } catch (...) {
    }
  }
  return facts;
}

httplib::Headers Signer::headers(const std::string& method, const std::string& path,
                                 const std::string& payload) const {
  SigningRequest r;
  r.method = method;
  r.host = host;
  r.path = path;
  r.payload = payload;
  r.region = region;
  r.service = "lambda";
  r.amz_date = amz_date_now();
  httplib::Headers out;
  for (auto& [name, value] : sign_v4(r, credentials)) out.emplace(name, value);
  return out;
}

std::optional<Signer> Signer::for_endpoint(const std::string& endpoint) {
  auto region = lambda_endpoint_region(endpoint);
  if (!region) return std::nullopt;
  auto credentials = credentials_from_environment();
  if (!credentials)
    throw std::runtime_error(endpoint + " is AWS: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and "
                             "AWS_SESSION_TOKEN for temporary credentials) to sign requests");
  std::string host = endpoint.substr(endpoint.find("://") + 3);
  if (!host.empty() && host.back() == '/') host.pop_back();
  return Signer{*credentials, *region, host};
}

std::string function_path(const std::string& function, const std::string& tail, bool encoded) {
  return "/2015-03-31/functions/" + (encoded ? uri_encode(function) : function) + tail;
}

HttpSender::HttpSender(std::string endpoint, NetworkDelay& network, std::optional<Signer> signer, int timeout_s)
    : endpoint_(std::move(endpoint)), network_(network), signer_(std::move(signer)), timeout_s_(timeout_s) {}

std::unique_ptr<httplib::Client> HttpSender::connect() const {
  auto c = std::make_unique<httplib::Client>(endpoint_);
  c->set_keep_alive(true);
  c->set_tcp_nodelay(true);  // else each keep-alive request waits for the peer's delayed ACK
  c->set_connection_timeout(10);
  c->set_read_timeout(timeout_s_);
  c->set_write_timeout(60);
  return c;
}

void HttpSender::close_all() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [user, client] : clients_) client->stop();
  clients_.clear();
}

Answer HttpSender::send(int user, const std::string& function, const std::string& payload) {
  httplib::Client* client = nullptr;
  std::unique_ptr<httplib::Client> own;
  if (user > 0) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& slot = clients_[user];
    if (!slot) slot = connect();
    client = slot.get();
  } else {
    own = connect();
    client = own.get();
  }
  Answer a;
  const int64_t delay_us = network_.sample();
  a.network_delay_us = delay_us;
  if (delay_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(delay_us / 2));
  httplib::Headers headers = {{"X-Amz-Log-Type", "Tail"}, {"X-Amz-Invocation-Type", "RequestResponse"}};
  const std::string path = function_path(function, "/invocations", signer_.has_value());
  if (signer_) headers.merge(signer_->headers("POST", path, payload));
  auto res = client->Post(path.c_str(), headers, payload, "application/json");
  if (delay_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(delay_us - delay_us / 2));
  if (!res) {
    a.error = httplib::to_string(res.error());
    return a;
  }
  a.http_status = res->status;
  a.request_id = res->get_header_value("x-amzn-RequestId");
  a.function_error = res->get_header_value("X-Amz-Function-Error");
  a.response_bytes = static_cast<int64_t>(res->body.size());
  if (res->status != 200) a.error = res->get_header_value("x-amzn-ErrorType");
  if (res->status != 200 && a.error.empty()) a.error = "HTTP " + std::to_string(res->status);
  const std::string tail = res->get_header_value("X-Amz-Log-Result");
  if (!tail.empty()) {
    if (auto text = api::base64_decode(tail)) {
      if (auto facts = report_facts(*text)) {
        a.cold = facts->cold;
        a.init_ms = facts->init_ms;
      }
    }
  }
  return a;
}

}  // namespace coldlab::driver
