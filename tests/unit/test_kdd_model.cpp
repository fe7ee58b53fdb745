#include <zip.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>

#include "kdd/model.h"
#include "kdd/model_artifact.h"
#include "temp_dir.h"

using Catch::Matchers::Contains;
using coldlab::kdd::Features;
using coldlab::kdd::Model;
using coldlab::kdd::read_model_zip;
using coldlab::kdd::sigmoid;
using coldlab::kdd::write_model_zip;
using nlohmann::json;

using coldlab::testing::TempDir;

namespace {

// Awkward doubles on purpose: none is exact in decimal.
Model sample_model() {
  Model m;
  m.mean = {-2.1306584756013109, 5.5122222468892551, 7.6929982893390685};
  m.std_dev = {0.76435450122159598, 0.43303492088869462, 2.1289616061551029};
  m.weights = {0.39913469157111175, 0.76382527039662279, -0.3596152191484506};
  m.bias = -2.0837536135048147;
  m.threshold = 0.97037214567566632;
  m.training = {{"data", "synthetic, seed 1"}, {"records", 10}};
  return m;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// A zip holding one entry `name` with `content`, made with libzip directly.
void write_zip(const std::string& path, const std::string& name, const std::string& content) {
  int error = 0;
  zip_t* za = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
  REQUIRE(za != nullptr);
  zip_source_t* source = zip_source_buffer(za, content.data(), content.size(), 0);
  REQUIRE(source != nullptr);
  REQUIRE(zip_file_add(za, name.c_str(), source, 0) >= 0);
  REQUIRE(zip_close(za) == 0);
}

}  // namespace

TEST_CASE("kdd model: inference follows the contract's order of operations", "[kdd]") {
  const Model m = sample_model();
  const Features raw = {3, 54540, 8314};
  // Written out as the contract states it, step by step.
  double z[3];
  for (int i = 0; i < 3; ++i) z[i] = (std::log(raw[i] + 0.1) - m.mean[i]) / m.std_dev[i];
  double s = m.bias;
  s += m.weights[0] * z[0];
  s += m.weights[1] * z[1];
  s += m.weights[2] * z[2];
  const double expected = s >= 0 ? 1 / (1 + std::exp(-s)) : std::exp(s) / (1 + std::exp(s));
  CHECK(m.predict_probability(raw) == expected);  // bit for bit, not approximately
  CHECK(m.label(expected) == (expected >= m.threshold ? 1 : 0));
}

TEST_CASE("kdd model: a value of 0.9 is log 1 and a zero score gives exactly one half", "[kdd]") {
  Model m;
  m.mean = {0, 0, 0};
  m.std_dev = {1, 1, 1};
  m.weights = {1, 1, 1};
  m.bias = 0;
  m.threshold = 0.5;
  CHECK(m.predict_probability({0.9, 0.9, 0.9}) == 0.5);
  CHECK(m.label(0.5) == 1);  // label 1 iff p >= threshold
  CHECK(m.label(std::nextafter(0.5, 0.0)) == 0);
}

TEST_CASE("kdd model: the sigmoid does not overflow at plus or minus 1000", "[kdd]") {
  CHECK(sigmoid(1000) == 1.0);
  CHECK(sigmoid(-1000) == 0.0);
  CHECK(sigmoid(0) == 0.5);
  CHECK(sigmoid(-30) == Approx(1 - sigmoid(30)).margin(1e-15));
  CHECK(sigmoid(-745.5) >= 0.0);
  CHECK(std::isfinite(sigmoid(std::numeric_limits<double>::max())));
  CHECK(std::isfinite(sigmoid(-std::numeric_limits<double>::max())));

  // Through the model: scores of about +-1000 give 1 and 0, never NaN.
  Model m;
  m.mean = {0, 0, 0};
  m.std_dev = {1, 1, 1};
  m.weights = {0, 1000, 0};
  m.bias = 0;
  CHECK(m.predict_probability({0, 2.618281828459045, 0}) == 1.0);    // log(2.718...) = 1
  CHECK(m.predict_probability({0, 0.26787944117144233, 0}) == 0.0);  // log(0.3678...) = -1
}

TEST_CASE("kdd model: JSON round trip keeps every double exactly", "[kdd]") {
  const Model m = sample_model();
  const json j = m.to_json();
  CHECK(j["format"] == "coldlab-kdd-logreg/1");
  CHECK(j["features"] == json({"duration", "src_bytes", "dst_bytes"}));
  CHECK(j["transform"] == "log(x + 0.1)");
  const Model back = Model::from_json(json::parse(j.dump()));
  CHECK(back.mean == m.mean);
  CHECK(back.std_dev == m.std_dev);
  CHECK(back.weights == m.weights);
  CHECK(back.bias == m.bias);
  CHECK(back.threshold == m.threshold);
  CHECK(back.training == m.training);
}

TEST_CASE("kdd model: from_json refuses what inference cannot use", "[kdd]") {
  const json good = sample_model().to_json();
  const auto refused = [&](const char* key, const json& value, const std::string& what) {
    json j = good;
    j[key] = value;
    CAPTURE(key, value);
    CHECK_THROWS_WITH(Model::from_json(j), Contains(what));
  };
  refused("format", "coldlab-kdd-logreg/2", "\"format\" must be \"coldlab-kdd-logreg/1\"");
  refused("features", json({"duration", "dst_bytes", "src_bytes"}), "\"features\" must be");
  refused("transform", "log(x)", "\"transform\"");
  refused("mean", json({1, 2}), "\"mean\" must be an array of 3 numbers");
  refused("weights", json({1, 2, 3, 4}), "\"weights\" must be an array of 3 numbers");
  refused("weights", json({1, true, 3}), "\"weights\"[1] must be a number");
  refused("std", json({1, 0, 1}), "\"std\"[1] must be > 0");
  refused("std", json({1, 1, -2}), "\"std\"[2] must be > 0");
  refused("bias", "0", "\"bias\" must be a number");
  refused("threshold", 1.5, "\"threshold\" must be in [0, 1]");

  json missing = good;
  missing.erase("bias");
  CHECK_THROWS_WITH(Model::from_json(missing), Contains("\"bias\" is missing"));
  CHECK_THROWS_WITH(Model::from_json(json::array()), Contains("JSON object"));

  json no_training = good;
  no_training.erase("training");
  CHECK_NOTHROW(Model::from_json(no_training));
}

TEST_CASE("kdd model: artifact round trip gives identical doubles", "[kdd]") {
  TempDir dir;
  const Model m = sample_model();
  const std::string path = dir.path("model.zip");
  write_model_zip(path, m);
  const Model back = read_model_zip(path);
  CHECK(back.mean == m.mean);
  CHECK(back.std_dev == m.std_dev);
  CHECK(back.weights == m.weights);
  CHECK(back.bias == m.bias);
  CHECK(back.threshold == m.threshold);
  CHECK(back.training == m.training);
  CHECK(back.predict_probability({1, 2, 3}) == m.predict_probability({1, 2, 3}));

  // Replacing an existing artifact works, and the same model gives the same bytes.
  const std::string first = read_bytes(path);
  write_model_zip(path, m);
  CHECK(read_bytes(path) == first);
}

TEST_CASE("kdd model: artifact errors name the path and the problem", "[kdd]") {
  TempDir dir;
  const auto refused = [](const std::string& path, const std::string& what) {
    CHECK_THROWS_WITH(read_model_zip(path), Contains("model artifact " + path + ": ") && Contains(what));
  };

  refused(dir.path("absent.zip"), "no such file");

  const std::string text = dir.path("text.zip");
  write_bytes(text, "this is not a zip archive\n");
  refused(text, "not a zip archive");

  const std::string other = dir.path("other.zip");
  write_zip(other, "weights.json", "{}");
  refused(other, "no model.json entry");

  const std::string bad_json = dir.path("bad-json.zip");
  write_zip(bad_json, "model.json", "{\"format\": ");
  refused(bad_json, "model.json is not valid JSON");

  json wrong = sample_model().to_json();
  wrong["format"] = "tensorflow";
  const std::string wrong_format = dir.path("wrong-format.zip");
  write_zip(wrong_format, "model.json", wrong.dump());
  refused(wrong_format, "\"format\" must be \"coldlab-kdd-logreg/1\"");

  json zero_std = sample_model().to_json();
  zero_std["std"][0] = 0;
  const std::string zero = dir.path("zero-std.zip");
  write_zip(zero, "model.json", zero_std.dump());
  refused(zero, "\"std\"[0] must be > 0");

  // Damage inside the compressed entry: the CRC (or inflate) check catches it.
  const std::string good = dir.path("good.zip");
  write_model_zip(good, sample_model());
  std::string bytes = read_bytes(good);
  const std::string corrupt = dir.path("corrupt.zip");
  for (std::size_t i = 50; i < 90; ++i) bytes[i] = static_cast<char>(bytes[i] ^ 0x5A);
  write_bytes(corrupt, bytes);
  refused(corrupt, "model.json");

  // Cut short: the central directory at the end is gone.
  const std::string truncated = dir.path("truncated.zip");
  write_bytes(truncated, read_bytes(good).substr(0, 100));
  refused(truncated, "not a zip archive");
}
