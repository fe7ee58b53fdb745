#include "kdd/model_artifact.h"

#include <zip.h>

#include <ctime>
#include <memory>
#include <stdexcept>

namespace coldlab::kdd {

namespace {

// 2000-01-01T00:00:00Z: any fixed time after 1980 (zip's epoch) will do.
constexpr std::time_t kEntryTime = 946684800;
// model.json is well under a kilobyte; a bigger entry is not ours.
constexpr zip_uint64_t kMaxEntryBytes = 1 << 20;

struct Discard {
  void operator()(zip_t* za) const { zip_discard(za); }
};
using Archive = std::unique_ptr<zip_t, Discard>;

[[noreturn]] void fail(const std::string& prefix, const std::string& problem) {
  throw std::runtime_error(prefix + problem);
}

std::string open_error(int code) {
  zip_error_t error;
  zip_error_init_with_code(&error, code);
  std::string text = zip_error_strerror(&error);
  zip_error_fini(&error);
  return text;
}

}  // namespace

void write_model_zip(const std::string& path, const Model& model) {
  const std::string prefix = "cannot write model artifact " + path + ": ";
  int code = 0;
  Archive za(zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code));
  if (!za) fail(prefix, open_error(code));

  const std::string text = model.to_json().dump(2) + "\n";
  // The source copies nothing; `text` outlives it because zip_close() below consumes it.
  zip_source_t* source = zip_source_buffer(za.get(), text.data(), text.size(), 0);
  if (!source) fail(prefix, zip_strerror(za.get()));
  const zip_int64_t index = zip_file_add(za.get(), kModelEntry, source, ZIP_FL_ENC_UTF_8);
  if (index < 0) {
    zip_source_free(source);  // not taken over on failure
    fail(prefix, zip_strerror(za.get()));
  }
  if (zip_file_set_mtime(za.get(), static_cast<zip_uint64_t>(index), kEntryTime, 0) != 0) {
    fail(prefix, zip_strerror(za.get()));
  }
  // zip_close writes to a temporary file and renames it over `path`: readers never see
  // half an archive.
  if (zip_close(za.get()) != 0) fail(prefix, zip_strerror(za.get()));
  za.release();  // closed
}

Model read_model_zip(const std::string& path) {
  const std::string prefix = "model artifact " + path + ": ";
  int code = 0;
  Archive za(zip_open(path.c_str(), ZIP_RDONLY, &code));
  if (!za) {
    if (code == ZIP_ER_NOENT) fail(prefix, "no such file");
    if (code == ZIP_ER_NOZIP) fail(prefix, "not a zip archive");
    fail(prefix, "cannot open: " + open_error(code));
  }

  zip_stat_t stat;
  zip_stat_init(&stat);
  if (zip_stat(za.get(), kModelEntry, 0, &stat) != 0) {
    fail(prefix, std::string("the archive has no ") + kModelEntry + " entry");
  }
  if (!(stat.valid & ZIP_STAT_SIZE) || stat.size > kMaxEntryBytes) {
    fail(prefix, std::string(kModelEntry) + " is larger than 1 MiB; not a coldlab model");
  }
  zip_file_t* file = zip_fopen_index(za.get(), stat.index, 0);
  if (!file) fail(prefix, std::string("cannot open ") + kModelEntry + ": " + zip_strerror(za.get()));
  std::string text(stat.size, '\0');
  zip_uint64_t got = 0;
  while (got < stat.size) {
    const zip_int64_t n = zip_fread(file, text.data() + got, stat.size - got);
    if (n <= 0) break;
    got += static_cast<zip_uint64_t>(n);
  }
  // zip_fread checks the CRC at the end of the entry, so a corrupt entry fails here.
  const std::string read_error = got == stat.size ? "" : zip_file_strerror(file);
  zip_fclose(file);
  if (got != stat.size) fail(prefix, std::string("cannot read ") + kModelEntry + ": " + read_error);

  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    fail(prefix, std::string(kModelEntry) + " is not valid JSON: " + e.what());
  }
  try {
    return Model::from_json(j);
  } catch (const std::runtime_error& e) {
    fail(prefix, e.what());
  }
}

}  // namespace coldlab::kdd
