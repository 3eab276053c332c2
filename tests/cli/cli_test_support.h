// Small file helpers shared by the end-to-end tests of the command-line programs.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace clitest {

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes `content` to `p`, creating the parent directories.
inline void write(const std::filesystem::path& p, const std::string& content) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << content;
}

}  // namespace clitest
