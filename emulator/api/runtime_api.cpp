#include "api/runtime_api.h"

#include <httplib.h>

#include <stdexcept>
#include <thread>

#include "api/http_body.h"
#include "api/http_guard.h"
#include "api/task_queue.h"
#include "core/lambda_errors.h"

namespace coldlab::api {
namespace {


class HttpRuntimeServer : public core::RuntimeServer {
 public:
  HttpRuntimeServer(core::RuntimeEndpoint& endpoint, const std::string& host) : endpoint_(endpoint) {
    // One long poll plus one answer at a time; a few spare workers for keep-alive sockets.
    // One worker is started with the server (a no-op task, then it idles), so the runtime's
    // first connection does not wait for a thread to be created.
    server_.new_task_queue = [] {
      auto* queue = new ElasticTaskQueue(16, 2);
      queue->enqueue([] {});
      return queue;
    };
    server_.set_tcp_nodelay(true);
    server_.set_keep_alive_max_count(1000000);
    server_.set_keep_alive_timeout(3600);
    server_.set_read_timeout(3600);
    server_.set_payload_max_length(std::numeric_limits<size_t>::max());
    // Answers over Lambda's 6 MB are read and refused by the routes (Function.ResponseSizeTooLarge);
    // only lengths no function would send are refused before their bytes.
    install_http_guard(server_, int64_t{1} << 30, ErrorShape::kRuntime);

    server_.Get("/2018-06-01/runtime/invocation/next", [this](const httplib::Request&, httplib::Response& res) {
      auto event = endpoint_.next();
      res.status = event.status;
      if (!event.ok) {
        res.set_content(event.body, "application/json");
        return;
      }
      res.set_header("Lambda-Runtime-Aws-Request-Id", event.request_id);
      res.set_header("Lambda-Runtime-Deadline-Ms", std::to_string(event.deadline_ms));
      res.set_header("Lambda-Runtime-Invoked-Function-Arn", event.function_arn);
      res.set_header("Lambda-Runtime-Trace-Id", event.trace_id);
      if (!event.client_context.empty()) res.set_header("Lambda-Runtime-Client-Context", event.client_context);
      if (!event.cognito_identity.empty()) res.set_header("Lambda-Runtime-Cognito-Identity", event.cognito_identity);
      res.set_content(event.body, "application/json");
    });

    server_.Post(R"(/2018-06-01/runtime/invocation/([^/]+)/response)",
                 [this](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
                   std::string body;
                   auto size = read_body(reader, body, core::kMaxResponseBytes + 1);
                   if (!size) return refuse_truncated(res);
                   send(res, endpoint_.respond(req.matches[1], std::move(body), *size));
                 });
    server_.Post(R"(/2018-06-01/runtime/invocation/([^/]+)/error)",
                 [this](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
                   std::string body;
                   if (!read_body(reader, body, core::kMaxResponseBytes)) return refuse_truncated(res);
                   send(res, endpoint_.error(req.matches[1], std::move(body),
                                             req.get_header_value("Lambda-Runtime-Function-Error-Type")));
                 });
    server_.Post("/2018-06-01/runtime/init/error",
                 [this](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
                   std::string body;
                   if (!read_body(reader, body, core::kMaxResponseBytes)) return refuse_truncated(res);
                   send(res, endpoint_.init_error(std::move(body),
                                                  req.get_header_value("Lambda-Runtime-Function-Error-Type")));
                 });

    port_ = server_.bind_to_any_port(host);
    if (port_ <= 0) throw std::runtime_error("cannot listen on " + host + " for the Runtime API");
    address_ = host + ":" + std::to_string(port_);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // httplib's stop() is a no-op until the listen loop runs; an environment may be
    // stopped right after it starts, so do not hand the server out before that.
    for (int i = 0; i < 20000 && !server_.is_running(); ++i)
      std::this_thread::sleep_for(std::chrono::microseconds(50));
  }

  ~HttpRuntimeServer() override { stop(); }

  std::string address() const override { return address_; }

  void stop() override {
    if (stopped_) return;
    stopped_ = true;
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  // A runtime killed while it posted an answer leaves the body short of its Content-Length,
  // and httplib hands the handler what arrived. Taking that for the answer would turn the
  // kill into a success with a cut (often empty) payload. The invocation stays in flight
  // instead: the process's exit fails it as Runtime.ExitError, or a live runtime that
  // merely lost its connection posts again.
  static void refuse_truncated(httplib::Response& res) {
    res.status = 400;
    res.set_content(core::runtime_error_body("InvalidRequestBody", "the body ended early (before its Content-Length, or in a broken chunked encoding)"),
                    "application/json");
  }

  static void send(httplib::Response& res, const core::RuntimeEndpoint::Reply& reply) {
    res.status = reply.status;
    res.set_content(reply.body, "application/json");
  }

  core::RuntimeEndpoint& endpoint_;
  httplib::Server server_;
  int port_ = 0;
  std::string address_;
  std::thread thread_;
  bool stopped_ = false;
};

}  // namespace

std::unique_ptr<core::RuntimeServer> start_runtime_server(core::RuntimeEndpoint& endpoint,
                                                          const std::string& host) {
  return std::make_unique<HttpRuntimeServer>(endpoint, host);
}

}  // namespace coldlab::api
