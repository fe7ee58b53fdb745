#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "config/sam_template.h"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using coldlab::config::FunctionConfig;
using coldlab::config::load_sam_template;
using coldlab::config::LoadedTemplate;
using coldlab::config::RuntimeKind;
using coldlab::config::TemplateError;

namespace {

void write_file(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream out(file);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + file.string());
}

// A fresh folder holding template.yaml and two code folders: native/ (an executable
// bootstrap, for provided runtimes) and py/ (app.py, for python). Removed afterwards.
class Project {
 public:
  Project() {
    std::string pattern = (fs::temp_directory_path() / "coldlab-sam-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    root_ = pattern;
    write_file(root_ / "native" / "bootstrap", "#!/bin/sh\n");
    fs::permissions(root_ / "native" / "bootstrap",
                    fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);
    write_file(root_ / "py" / "app.py", "def handler(event, context):\n    return event\n");
  }
  ~Project() {
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }

  const fs::path& root() const { return root_; }
  fs::path template_path() const { return root_ / "template.yaml"; }
  // The prefix every message about this template starts with.
  std::string file() const { return template_path().string(); }

  LoadedTemplate load(const std::string& yaml) const {
    write_file(template_path(), yaml);
    return load_sam_template(template_path());
  }

  // The TemplateError message loading `yaml` gives; fails the test if it loads.
  std::string error(const std::string& yaml) const {
    try {
      load(yaml);
    } catch (const TemplateError& e) {
      return e.what();
    }
    FAIL("the template loaded, but a TemplateError was expected");
    return "";
  }

 private:
  fs::path root_;
};

// One AWS::Serverless::Function named Fn with a provided runtime and code in `code_uri`.
std::string native_function_at(const std::string& code_uri) {
  return "Resources:\n"
         "  Fn:\n"
         "    Type: AWS::Serverless::Function\n"
         "    Properties:\n"
         "      Runtime: provided.al2023\n"
         "      CodeUri: " +
         code_uri + "\n";
}

// The same with code in native/, plus `extra` lines (indented as properties).
std::string native_function(const std::string& extra = "") {
  return native_function_at("native") + extra;
}

// One AWS::Serverless::Function named Py with a python runtime, plus `extra` properties.
std::string python_function(const std::string& extra) {
  return "Resources:\n"
         "  Py:\n"
         "    Type: AWS::Serverless::Function\n"
         "    Properties:\n"
         "      CodeUri: py\n"
         "      Runtime: python3.12\n" +
         extra;
}

bool any_warning_contains(const LoadedTemplate& loaded, const std::string& text) {
  for (const std::string& warning : loaded.warnings) {
    if (warning.find(text) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("sam_template: reads Serverless and plain Lambda functions in template order",
          "[sam_template]") {
  Project p;
  const LoadedTemplate loaded = p.load(
      "AWSTemplateFormatVersion: '2010-09-09'\n"
      "Transform: AWS::Serverless-2016-10-31\n"
      "Resources:\n"
      "  Native:\n"
      "    Type: AWS::Serverless::Function\n"
      "    Properties:\n"
      "      FunctionName: echo-native\n"
      "      CodeUri: native\n"
      "      Runtime: provided.al2023\n"
      "      MemorySize: 512\n"
      "      Timeout: 10\n"
      "      Description: echoes its event\n"
      "  Plain:\n"
      "    Type: AWS::Lambda::Function\n"
      "    Properties:\n"
      "      Code: py\n"
      "      Runtime: python3.12\n"
      "      Handler: app.handler\n"
      "      MemorySize: 2048\n");
  REQUIRE(loaded.functions.size() == 2);
  CHECK(loaded.warnings.empty());

  const FunctionConfig& native = loaded.functions[0];
  CHECK(native.name == "echo-native");
  CHECK(native.code_dir == fs::weakly_canonical(p.root() / "native"));
  CHECK(native.runtime == "provided.al2023");
  CHECK(native.kind == RuntimeKind::kProvided);
  CHECK(native.handler.empty());
  CHECK(native.memory_mb == 512);
  CHECK(native.timeout_s == 10);
  CHECK(native.description == "echoes its event");

  const FunctionConfig& plain = loaded.functions[1];
  CHECK(plain.name == "Plain");
  CHECK(plain.code_dir == fs::weakly_canonical(p.root() / "py"));
  CHECK(plain.kind == RuntimeKind::kPython);
  CHECK(plain.handler == "app.handler");
  CHECK(plain.memory_mb == 2048);
}

TEST_CASE("sam_template: Lambda's defaults apply when properties are left out", "[sam_template]") {
  Project p;
  const FunctionConfig fn = p.load(native_function()).functions.at(0);
  CHECK(fn.name == "Fn");  // the logical id
  CHECK(fn.memory_mb == 128);
  CHECK(fn.timeout_s == 3);
  CHECK(fn.environment.empty());
  CHECK(fn.description.empty());
}

TEST_CASE("sam_template: Globals.Function fills in Serverless functions and their own values win",
          "[sam_template]") {
  Project p;
  const LoadedTemplate loaded = p.load(
      "Globals:\n"
      "  Function:\n"
      "    CodeUri: py\n"
      "    Runtime: python3.11\n"
      "    Handler: app.handler\n"
      "    MemorySize: 256\n"
      "    Timeout: 30\n"
      "    Environment:\n"
      "      Variables:\n"
      "        STAGE: global\n"
      "        SHARED: from-globals\n"
      "Resources:\n"
      "  Inherits:\n"
      "    Type: AWS::Serverless::Function\n"
      "  Overrides:\n"
      "    Type: AWS::Serverless::Function\n"
      "    Properties:\n"
      "      MemorySize: 1024\n"
      "      Environment:\n"
      "        Variables:\n"
      "          SHARED: from-function\n"
      "          OWN: only-here\n"
      "  Plain:\n"
      "    Type: AWS::Lambda::Function\n"
      "    Properties:\n"
      "      Code: native\n"
      "      Runtime: provided\n");
  REQUIRE(loaded.functions.size() == 3);

  const FunctionConfig& inherits = loaded.functions[0];
  CHECK(inherits.runtime == "python3.11");
  CHECK(inherits.handler == "app.handler");
  CHECK(inherits.code_dir == fs::weakly_canonical(p.root() / "py"));
  CHECK(inherits.memory_mb == 256);
  CHECK(inherits.timeout_s == 30);
  CHECK(inherits.environment ==
        std::map<std::string, std::string>{{"STAGE", "global"}, {"SHARED", "from-globals"}});

  const FunctionConfig& overrides = loaded.functions[1];
  CHECK(overrides.memory_mb == 1024);
  CHECK(overrides.timeout_s == 30);
  CHECK(overrides.environment == std::map<std::string, std::string>{{"STAGE", "global"},
                                                                    {"SHARED", "from-function"},
                                                                    {"OWN", "only-here"}});

  SECTION("AWS::Lambda::Function does not take Globals, as in SAM") {
    const FunctionConfig& plain = loaded.functions[2];
    CHECK(plain.memory_mb == 128);
    CHECK(plain.timeout_s == 3);
    CHECK(plain.handler.empty());
    CHECK(plain.environment.empty());
  }
}

TEST_CASE("sam_template: environment values keep the text written in the template",
          "[sam_template]") {
  Project p;
  const FunctionConfig fn = p.load(native_function("      Environment:\n"
                                                   "        Variables:\n"
                                                   "          COUNT: 007\n"
                                                   "          ENABLED: True\n"
                                                   "          RATIO: 1.50\n"
                                                   "          EMPTY: ''\n"))
                                .functions.at(0);
  CHECK(fn.environment.at("COUNT") == "007");
  CHECK(fn.environment.at("ENABLED") == "True");
  CHECK(fn.environment.at("RATIO") == "1.50");
  CHECK(fn.environment.at("EMPTY").empty());
}

TEST_CASE("sam_template: CodeUri is resolved against the template's folder", "[sam_template]") {
  Project p;
  write_file(p.root() / "stack" / "template.yaml", native_function_at("../native/"));
  const FunctionConfig fn = load_sam_template(p.root() / "stack" / "template.yaml").functions.at(0);
  CHECK(fn.code_dir.is_absolute());
  CHECK(fn.code_dir == fs::canonical(p.root() / "native"));
}

TEST_CASE("sam_template: an absolute CodeUri is used as is", "[sam_template]") {
  Project p;
  const fs::path code = fs::canonical(p.root() / "native");
  write_file(p.root() / "elsewhere" / "template.yaml", native_function_at(code.string()));
  CHECK(load_sam_template(p.root() / "elsewhere" / "template.yaml").functions.at(0).code_dir ==
        code);
}

TEST_CASE("sam_template: python handlers may name a module inside a package", "[sam_template]") {
  Project p;
  const std::string handler =
      GENERATE(as<std::string>{}, "app.handler", "pkg/mod.handler", "pkg.mod.handler");
  CAPTURE(handler);
  CHECK(p.load(python_function("      Handler: " + handler + "\n")).functions.at(0).handler ==
        handler);
}

TEST_CASE("sam_template: every supported runtime loads", "[sam_template]") {
  Project p;
  const std::string runtime =
      GENERATE(as<std::string>{}, "python3.8", "python3.9", "python3.13", "python3.14");
  CAPTURE(runtime);
  const FunctionConfig fn = p.load(
                                 "Resources:\n"
                                 "  Fn:\n"
                                 "    Type: AWS::Serverless::Function\n"
                                 "    Properties:\n"
                                 "      CodeUri: py\n"
                                 "      Handler: app.handler\n"
                                 "      Runtime: " +
                                 runtime + "\n")
                                .functions.at(0);
  CHECK(fn.runtime == runtime);
  CHECK(fn.kind == RuntimeKind::kPython);
}

namespace {

// One AWS::Serverless::Function named J with the java17 runtime, plus `extra` properties.
std::string java_function(const std::string& extra) {
  return "Resources:\n"
         "  J:\n"
         "    Type: AWS::Serverless::Function\n"
         "    Properties:\n"
         "      CodeUri: py\n"
         "      Runtime: java17\n" +
         extra;
}

}  // namespace

TEST_CASE("sam_template: java handlers are package.Class::method or package.Class",
          "[sam_template]") {
  Project p;
  const std::string good = GENERATE(as<std::string>{}, "example.Handler::handleRequest",
                                    "Handler::handleRequest", "example.StreamHandler");
  CAPTURE(good);
  const FunctionConfig fn = p.load(java_function("      Handler: " + good + "\n")).functions.at(0);
  CHECK(fn.kind == RuntimeKind::kJava);
  CHECK(fn.handler == good);

  const std::string bad = GENERATE(as<std::string>{}, "example.Handler::", "::handleRequest",
                                   "example.Handler::a.b", ".Handler");
  CAPTURE(bad);
  CHECK_THROWS_WITH(p.load(java_function("      Handler: \"" + bad + "\"\n")),
                    Contains("is not package.Class::method"));
  CHECK_THROWS_WITH(p.load(java_function("")), Contains("java runtimes need package.Class::method"));
}

TEST_CASE("runtime_kind: knows provided and python3.8 to python3.14 and java11/17/21 only", "[sam_template]") {
  using coldlab::config::runtime_kind;
  CHECK(runtime_kind("provided") == RuntimeKind::kProvided);
  CHECK(runtime_kind("provided.al2") == RuntimeKind::kProvided);
  CHECK(runtime_kind("provided.al2023") == RuntimeKind::kProvided);
  CHECK(runtime_kind("python3.8") == RuntimeKind::kPython);
  CHECK(runtime_kind("python3.14") == RuntimeKind::kPython);
  CHECK(runtime_kind("java11") == RuntimeKind::kJava);
  CHECK(runtime_kind("java17") == RuntimeKind::kJava);
  CHECK(runtime_kind("java21") == RuntimeKind::kJava);
  const std::string unknown =
      GENERATE(as<std::string>{}, "python3.7", "python3.15", "python2.7", "python3", "python3.08",
               "python3.12x", "provided.al3", "nodejs20.x", "java8", "java8.al2", "java", "");
  CAPTURE(unknown);
  CHECK_FALSE(runtime_kind(unknown));
}

TEST_CASE("validate_memory_size and validate_timeout: Lambda's bounds", "[sam_template]") {
  using coldlab::config::validate_memory_size;
  using coldlab::config::validate_timeout;
  CHECK_FALSE(validate_memory_size(128));
  CHECK_FALSE(validate_memory_size(10240));
  CHECK(validate_memory_size(127) == "MemorySize must be between 128 and 10240 MB, got 127");
  CHECK(validate_memory_size(10241));
  CHECK_FALSE(validate_timeout(1));
  CHECK_FALSE(validate_timeout(900));
  CHECK(validate_timeout(0) == "Timeout must be between 1 and 900 seconds, got 0");
  CHECK(validate_timeout(901));
}

TEST_CASE("sam_template: out-of-range MemorySize and Timeout are refused", "[sam_template]") {
  Project p;
  CHECK_THAT(p.error(native_function("      MemorySize: 64\n")),
             Contains(p.file() + ": resource Fn: property MemorySize: "
                                 "MemorySize must be between 128 and 10240 MB, got 64"));
  CHECK_THAT(
      p.error(native_function("      MemorySize: 10241\n")),
      Contains("property MemorySize: MemorySize must be between 128 and 10240 MB, got 10241"));
  CHECK_THAT(p.error(native_function("      Timeout: 0\n")),
             Contains(p.file() + ": resource Fn: property Timeout: "
                                 "Timeout must be between 1 and 900 seconds, got 0"));
  CHECK_THAT(p.error(native_function("      Timeout: 901\n")),
             Contains("property Timeout: Timeout must be between 1 and 900 seconds, got 901"));
}

TEST_CASE("sam_template: MemorySize and Timeout must be integers", "[sam_template]") {
  Project p;
  const std::string value = GENERATE(as<std::string>{}, "1.5", "lots", "'256MB'", "0x100",
                                     "99999999999999999999", "[256]");
  CAPTURE(value);
  CHECK_THAT(p.error(native_function("      MemorySize: " + value + "\n")),
             Contains(p.file() + ": resource Fn: property MemorySize: "));
  CHECK_THAT(p.error(native_function("      Timeout: " + value + "\n")),
             Contains(p.file() + ": resource Fn: property Timeout: "));
}

TEST_CASE("sam_template: an error in an inherited Globals value names the function and Globals",
          "[sam_template]") {
  Project p;
  const std::string message = p.error(
      "Globals:\n"
      "  Function:\n"
      "    Timeout: 1000\n" +
      native_function());
  CHECK_THAT(message, Contains(p.file() + ": resource Fn: property Timeout: "));
  CHECK_THAT(message, Contains("got 1000 (set in Globals.Function)"));
}

TEST_CASE("sam_template: the code folder must be given, local, unzipped and present",
          "[sam_template]") {
  Project p;
  SECTION("missing CodeUri") {
    CHECK_THAT(p.error("Resources:\n"
                       "  Fn:\n"
                       "    Type: AWS::Serverless::Function\n"
                       "    Properties:\n"
                       "      Runtime: provided\n"),
               Contains(p.file() + ": resource Fn: property CodeUri: missing"));
  }
  SECTION("a zip archive") {
    write_file(p.root() / "code.zip", "PK");
    CHECK_THAT(p.error(native_function_at("code.zip")),
               Contains(p.file() + ": resource Fn: property CodeUri: zip archives are not "
                                   "supported yet; point CodeUri at the unzipped folder"));
  }
  SECTION("a folder that does not exist") {
    CHECK_THAT(p.error(native_function_at("nowhere")),
               Contains(p.file() + ": resource Fn: property CodeUri: code folder " +
                        (fs::canonical(p.root()) / "nowhere").string() + " does not exist"));
  }
  SECTION("a file instead of a folder") {
    CHECK_THAT(p.error(native_function_at("py/app.py")),
               Contains(p.file() + ": resource Fn: property CodeUri: code folder ") &&
                   Contains("app.py is not a folder"));
  }
  SECTION("an S3 location") {
    CHECK_THAT(p.error(native_function_at("{Bucket: b, Key: k.zip}")),
               Contains(p.file() + ": resource Fn: property CodeUri: only local code paths"));
    CHECK_THAT(p.error(native_function_at("s3://bucket/code.zip")),
               Contains(p.file() + ": resource Fn: property CodeUri: only local code paths"));
  }
  SECTION("inline code in AWS::Lambda::Function") {
    CHECK_THAT(p.error("Resources:\n"
                       "  Fn:\n"
                       "    Type: AWS::Lambda::Function\n"
                       "    Properties:\n"
                       "      Code:\n"
                       "        ZipFile: print('hi')\n"
                       "      Runtime: python3.12\n"
                       "      Handler: index.handler\n"),
               Contains(p.file() + ": resource Fn: property Code: only local code paths"));
  }
}

TEST_CASE("sam_template: provided runtimes need an executable bootstrap", "[sam_template]") {
  Project p;
  SECTION("no bootstrap") {
    fs::remove(p.root() / "native" / "bootstrap");
    CHECK_THAT(p.error(native_function()),
               Contains(p.file() + ": resource Fn: property CodeUri: provided runtimes need an "
                                   "executable file named bootstrap"));
  }
  SECTION("bootstrap without execute permission") {
    fs::permissions(p.root() / "native" / "bootstrap",
                    fs::perms::owner_read | fs::perms::owner_write);
    CHECK_THAT(p.error(native_function()),
               Contains(p.file() + ": resource Fn: property CodeUri: ") &&
                   Contains("bootstrap is not executable"));
  }
}

TEST_CASE("sam_template: Runtime is required and must be one coldlab can run", "[sam_template]") {
  Project p;
  CHECK_THAT(p.error("Resources:\n"
                     "  Fn:\n"
                     "    Type: AWS::Serverless::Function\n"
                     "    Properties:\n"
                     "      CodeUri: native\n"),
             Contains(p.file() + ": resource Fn: property Runtime: missing"));
  const std::string message = p.error(
      "Resources:\n"
      "  Fn:\n"
      "    Type: AWS::Serverless::Function\n"
      "    Properties:\n"
      "      CodeUri: native\n"
      "      Runtime: nodejs20.x\n");
  CHECK_THAT(message, Contains(p.file() + ": resource Fn: property Runtime: "));
  CHECK_THAT(message, Contains("nodejs20.x"));
  CHECK_THAT(message, Contains("provided.al2023") && Contains("python3.14"));
}

TEST_CASE("sam_template: python functions need a module.function Handler", "[sam_template]") {
  Project p;
  CHECK_THAT(p.error(python_function("")),
             Contains(p.file() + ": resource Py: property Handler: missing"));
  CHECK_THAT(p.error(python_function("      Handler: app\n")),
             Contains(p.file() + ": resource Py: property Handler: ") &&
                 Contains("is not module.function"));
  CHECK_THAT(p.error(python_function("      Handler: app.\n")), Contains("property Handler: "));
}

TEST_CASE("sam_template: environment variable names follow Lambda's rules", "[sam_template]") {
  Project p;
  const std::string key = GENERATE(as<std::string>{}, "1ST", "MY-VAR", "A", "_PRIVATE");
  CAPTURE(key);
  CHECK_THAT(p.error(native_function("      Environment:\n"
                                     "        Variables:\n"
                                     "          " +
                                     key + ": x\n")),
             Contains(p.file() + ": resource Fn: property Environment: variable name \"" + key +
                      "\" is not valid"));
}

TEST_CASE("sam_template: Lambda's reserved environment variables cannot be set", "[sam_template]") {
  Project p;
  const std::string key = GENERATE(
      as<std::string>{}, "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_LAMBDA_FUNCTION_NAME",
      "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
      "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
      "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
      "AWS_EXECUTION_ENV", "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
      "_HANDLER", "_X_AMZN_TRACE_ID");
  CAPTURE(key);
  CHECK_THAT(
      p.error(native_function("      Environment:\n"
                              "        Variables:\n"
                              "          " +
                              key + ": x\n")),
      Contains(p.file() + ": resource Fn: property Environment: variable " + key + " is reserved"));
}

TEST_CASE("sam_template: Environment must be Variables: with one value per name",
          "[sam_template]") {
  Project p;
  const std::string environment =
      GENERATE(as<std::string>{}, "{Variables: {STAGE: dev}, Mode: x}", "{Mode: x}", "STAGE=dev",
               "{Variables: [STAGE]}", "{Variables: {STAGE: [a, b]}}", "{Variables: {STAGE: }}");
  CAPTURE(environment);
  CHECK_THAT(p.error(native_function("      Environment: " + environment + "\n")),
             Contains(p.file() + ": resource Fn: property Environment: "));
}

TEST_CASE("sam_template: a user variable that merely looks like AWS's is allowed",
          "[sam_template]") {
  Project p;
  const FunctionConfig fn = p.load(native_function("      Environment:\n"
                                                   "        Variables:\n"
                                                   "          AWS_PROFILE_NAME: dev\n"))
                                .functions.at(0);
  CHECK(fn.environment.at("AWS_PROFILE_NAME") == "dev");
}

TEST_CASE("sam_template: intrinsic functions are refused in the properties coldlab reads",
          "[sam_template]") {
  Project p;
  SECTION("!Ref tag") {
    CHECK_THAT(p.error(native_function("      MemorySize: !Ref Memory\n")),
               Contains(p.file() + ": resource Fn: property MemorySize: intrinsic functions are "
                                   "not supported"));
  }
  SECTION("!Sub inside an environment variable") {
    CHECK_THAT(p.error(native_function("      Environment:\n"
                                       "        Variables:\n"
                                       "          TABLE: !Sub '${AWS::StackName}-table'\n")),
               Contains(p.file() + ": resource Fn: property Environment: intrinsic functions are "
                                   "not supported"));
  }
  SECTION("{Ref: X} map") {
    CHECK_THAT(p.error(native_function("      FunctionName: {Ref: Name}\n")),
               Contains(p.file() + ": resource Fn: property FunctionName: intrinsic functions "
                                   "are not supported"));
  }
  SECTION("Fn::GetAtt map") {
    CHECK_THAT(p.error(native_function("      Description: {'Fn::GetAtt': [Other, Arn]}\n")),
               Contains(p.file() + ": resource Fn: property Description: intrinsic functions "
                                   "are not supported"));
  }
  SECTION("!GetAtt as the code location") {
    CHECK_THAT(p.error(native_function_at("!GetAtt Build.Output")),
               Contains(p.file() + ": resource Fn: property CodeUri: intrinsic functions are "
                                   "not supported"));
  }
}

TEST_CASE("sam_template: intrinsics in properties coldlab ignores only warn", "[sam_template]") {
  Project p;
  const LoadedTemplate loaded = p.load(native_function("      Role: !GetAtt Role.Arn\n"));
  CHECK(loaded.functions.size() == 1);
  CHECK(any_warning_contains(loaded, p.file() + ": resource Fn: property Role: "));
}

TEST_CASE("sam_template: unsupported parts of a template are warned about and skipped",
          "[sam_template]") {
  Project p;
  const LoadedTemplate loaded = p.load(
      "AWSTemplateFormatVersion: '2010-09-09'\n"
      "Transform: AWS::Serverless-2016-10-31\n"
      "Extras: true\n"
      "Globals:\n"
      "  Function:\n"
      "    Tracing: Active\n" +
      native_function("      Events:\n"
                      "        Api:\n"
                      "          Type: Api\n") +
      "  Second:\n"
      "    Type: AWS::Serverless::Function\n"
      "    Properties:\n"
      "      CodeUri: native\n"
      "      Runtime: provided\n"
      "  Bucket:\n"
      "    Type: AWS::S3::Bucket\n"
      "Outputs:\n"
      "  Arn:\n"
      "    Value: !GetAtt Fn.Arn\n");
  REQUIRE(loaded.functions.size() == 2);
  CHECK(loaded.functions[0].name == "Fn");
  CHECK(loaded.functions[1].name == "Second");
  CHECK(any_warning_contains(loaded, p.file() + ": resource Fn: property Events: "));
  CHECK(any_warning_contains(loaded, p.file() + ": resource Bucket: type AWS::S3::Bucket"));
  CHECK(any_warning_contains(loaded, p.file() + ": top-level key Extras"));
  CHECK(any_warning_contains(loaded, p.file() + ": Globals.Function: property Tracing: "));
  // Events, Bucket, Extras and Tracing: one warning each, Tracing not once per function.
  CHECK(loaded.warnings.size() == 4);
}

TEST_CASE("sam_template: a code property of the other resource type is not read",
          "[sam_template]") {
  Project p;
  const std::string message = p.error(
      "Resources:\n"
      "  Fn:\n"
      "    Type: AWS::Lambda::Function\n"
      "    Properties:\n"
      "      CodeUri: native\n"
      "      Runtime: provided\n");
  CHECK_THAT(message, Contains(p.file() + ": resource Fn: property Code: missing"));
}

TEST_CASE("sam_template: function names must be valid and unique", "[sam_template]") {
  Project p;
  CHECK_THAT(p.error(native_function("      FunctionName: my fn\n")),
             Contains(p.file() + ": resource Fn: property FunctionName: function name \"my fn\" "
                                 "is not valid"));
  CHECK_THAT(p.error(native_function("      FunctionName: shared\n") +
                     "  Other:\n"
                     "    Type: AWS::Serverless::Function\n"
                     "    Properties:\n"
                     "      FunctionName: shared\n"
                     "      CodeUri: native\n"
                     "      Runtime: provided\n"),
             Contains(p.file() + ": resource Other: property FunctionName: function name shared "
                                 "is already used by resource Fn"));
}

TEST_CASE("sam_template: sections of the wrong shape are refused", "[sam_template]") {
  Project p;
  CHECK_THAT(p.error("- just a list\n"), Contains(p.file() + ": expected a map"));
  CHECK_THAT(p.error("Resources: [Fn]\n"), Contains(p.file() + ": Resources must be a map"));
  CHECK_THAT(p.error("Globals: [Function]\n" + native_function()),
             Contains(p.file() + ": Globals must be a map"));
  CHECK_THAT(p.error("Globals:\n  Function: [MemorySize]\n" + native_function()),
             Contains(p.file() + ": Globals.Function must be a map"));
  CHECK_THAT(p.error("Resources:\n"
                     "  Fn:\n"
                     "    Type: AWS::Serverless::Function\n"
                     "    Properties: [CodeUri]\n"),
             Contains(p.file() + ": resource Fn: Properties must be a map"));
}

TEST_CASE("sam_template: a resource without a Type is refused", "[sam_template]") {
  Project p;
  CHECK_THAT(p.error("Resources:\n"
                     "  Fn:\n"
                     "    Properties: {}\n"),
             Contains(p.file() + ": resource Fn: expected a map with a Type"));
}

TEST_CASE("sam_template: a template without functions is refused", "[sam_template]") {
  Project p;
  CHECK_THAT(p.error("Resources:\n"
                     "  Bucket:\n"
                     "    Type: AWS::S3::Bucket\n"),
             Contains(p.file() + ": no AWS::Serverless::Function or AWS::Lambda::Function"));
  CHECK_THAT(p.error("Description: nothing here\n"), Contains(p.file() + ": no AWS::"));
}

TEST_CASE("sam_template: YAML syntax errors give the line and column", "[sam_template]") {
  Project p;
  CHECK_THAT(p.error("Resources:\n"
                     "  Fn: [unclosed\n"
                     "Other: x\n"),
             Contains(p.file() + ": line 3, column "));
}

TEST_CASE("sam_template: a key repeated in one map is refused", "[sam_template]") {
  Project p;
  CHECK_THAT(p.error(native_function("      MemorySize: 256\n"
                                     "      MemorySize: 512\n")),
             Contains(p.file() + ": line 8: key MemorySize appears twice"));
}

TEST_CASE("sam_template: a missing template file is refused", "[sam_template]") {
  Project p;
  const fs::path missing = p.root() / "absent.yaml";
  CHECK_THROWS_WITH(load_sam_template(missing), Contains(missing.string() + ": cannot read"));
}
