#include "cli/cli_common.h"

#include <cstdlib>
#include <fstream>

namespace barfill::cli {
namespace {

std::optional<std::string> Env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

}  // namespace

std::string ResolveDbUrl(const std::string& flag_value) {
  if (!flag_value.empty()) return flag_value;
  return Env("BARFILL_DB").value_or(kDefaultDbUrl);
}

std::optional<std::string> ResolveApiKey(const std::string& flag_value) {
  if (!flag_value.empty()) return flag_value;
  if (auto key = Env("POLYGON_API_KEY")) return key;
  return Env("MASSIVE_API_KEY");
}

std::optional<std::string> ResolveS3AccessKey() {
  if (auto key = Env("MASSIVE_S3_ACCESS_KEY_ID")) return key;
  return Env("AWS_ACCESS_KEY_ID");
}

std::optional<std::string> ResolveS3SecretKey() {
  if (auto key = Env("MASSIVE_S3_SECRET_ACCESS_KEY")) return key;
  return Env("AWS_SECRET_ACCESS_KEY");
}

Status WriteTextFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Fail(ErrorCode::kUsage, "cannot write the report to " + path);
  return Ok();
}

}  // namespace barfill::cli
