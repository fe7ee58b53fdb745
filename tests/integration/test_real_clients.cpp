// Unmodified AWS clients from Debian against coldlab: the AWS CLI v2 (/usr/bin/aws) and
// boto3 (/usr/bin/python3). They sign requests, send no Content-Type, and must not notice
// that this is not Lambda.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "coldlab_server.h"

using coldlab::testing::ColdlabServer;
using coldlab::testing::run;
using coldlab::testing::wait_rows;
using nlohmann::json;

namespace {
std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}
}  // namespace

TEST_CASE("aws lambda invoke, twice: the payload comes back, cold then warm") {
  ColdlabServer server({"--template", (coldlab::testing::binary_dir() / "functions" / "template.yaml").string()});
  const std::string aws = "/usr/bin/aws --endpoint-url " + server.endpoint() + " lambda ";
  const auto out = server.dir() / "out.json";
  for (int i = 0; i < 2; ++i) {
    auto r = run(aws + "invoke --function-name echo --cli-binary-format raw-in-base64-out --payload '{\"hello\": \"world\"}' " + out.string());
    INFO(r.out);
    REQUIRE(r.status == 0);
    CHECK(json::parse(r.out)["StatusCode"] == 200);
    CHECK(json::parse(slurp(out)) == json::parse(R"({"hello": "world"})"));
  }
  auto rows = wait_rows(server.db(), "SELECT * FROM invocations ORDER BY id", 2);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0]["cold"] == "1");
  CHECK(std::stod(rows[0]["init_ms"]) > 0);
  CHECK(rows[1]["cold"] == "0");
  CHECK(rows[0]["environment_id"] == rows[1]["environment_id"]);
}

TEST_CASE("aws lambda: function errors, Tail logs, management commands") {
  ColdlabServer server;
  const std::string aws = "/usr/bin/aws --endpoint-url " + server.endpoint() + " lambda ";
  const auto out = server.dir() / "out.json";

  auto err = run(aws + "invoke --function-name raiser " + out.string());
  INFO(err.out);
  REQUIRE(err.status == 0);  // the CLI exits 0 on function errors, as with Lambda
  CHECK(json::parse(err.out)["FunctionError"] == "Unhandled");
  CHECK(json::parse(slurp(out))["errorType"] == "ValueError");

  auto tail = run(aws + "invoke --function-name logger --cli-binary-format raw-in-base64-out "
                  "--payload '{\"lines\": 2}' --log-type Tail --query LogResult --output text " + out.string() +
                  " | base64 -d");
  INFO(tail.out);
  CHECK(tail.out.find("line 1") != std::string::npos);
  CHECK(tail.out.find("REPORT RequestId:") != std::string::npos);

  auto missing = run(aws + "invoke --function-name nope " + out.string());
  CHECK(missing.status != 0);
  CHECK(missing.out.find("ResourceNotFoundException") != std::string::npos);

  auto list = run(aws + "list-functions --output json");
  INFO(list.out);
  REQUIRE(list.status == 0);
  std::set<std::string> names;
  const auto listed = json::parse(list.out);
  for (const auto& f : listed["Functions"]) names.insert(f["FunctionName"].get<std::string>());
  CHECK(names.count("echo-native") == 1);
  CHECK(names.count("sleeper") == 1);
  CHECK(names.count("spin") == 1);
  CHECK(names.size() == 20);  // every function of tests/functions/template.yaml.in

  auto get = run(aws + "get-function --function-name echo-native --output json");
  REQUIRE(get.status == 0);
  CHECK(json::parse(get.out)["Configuration"]["Runtime"] == "provided.al2023");

  auto upd = run(aws + "update-function-configuration --function-name echo-native --memory-size 1024 --timeout 10 --output json");
  INFO(upd.out);
  REQUIRE(upd.status == 0);
  CHECK(json::parse(upd.out)["MemorySize"] == 1024);
  auto conf = run(aws + "get-function-configuration --function-name echo-native --output json");
  REQUIRE(conf.status == 0);
  CHECK(json::parse(conf.out)["Timeout"] == 10);

  auto settings = run(aws + "get-account-settings --output json");
  REQUIRE(settings.status == 0);
  CHECK(json::parse(settings.out)["AccountLimit"]["ConcurrentExecutions"] == 1000);
}

TEST_CASE("boto3 invoke with Event, DryRun and RequestResponse") {
  ColdlabServer server;
  const auto script = server.dir() / "client.py";
  std::ofstream(script) << R"(import base64, json, sys, boto3
c = boto3.client("lambda", endpoint_url=sys.argv[1], region_name="us-east-1",
                 aws_access_key_id="x", aws_secret_access_key="x")
r = c.invoke(FunctionName="echo-native", Payload=b'{"k": "v"}', LogType="Tail")
print(json.dumps({
  "status": r["StatusCode"],
  "payload": json.loads(r["Payload"].read()),
  "log": base64.b64decode(r["LogResult"]).decode(),
  "version": r["ExecutedVersion"],
  "event": c.invoke(FunctionName="echo-native", InvocationType="Event", Payload=b"{}")["StatusCode"],
  "dry": c.invoke(FunctionName="echo-native", InvocationType="DryRun")["StatusCode"],
}))
)";
  auto r = run("/usr/bin/python3 " + script.string() + " " + server.endpoint());
  INFO(r.out);
  REQUIRE(r.status == 0);
  auto doc = json::parse(r.out);
  CHECK(doc["status"] == 200);
  CHECK(doc["payload"]["k"] == "v");
  CHECK(doc["version"] == "$LATEST");
  CHECK(doc["log"].get<std::string>().find("Init Duration") != std::string::npos);
  CHECK(doc["event"] == 202);
  CHECK(doc["dry"] == 204);
}
