// The fuzz targets without libFuzzer (GCC builds, every CI run): each seed file of the
// corpus, then deterministic mutations of it (truncations, byte flips, inserted and
// spliced bytes), are fed to LLVMFuzzerTestOneInput. Under ASan/UBSan this catches what
// the seeds' neighbourhood breaks; the clang `fuzz` preset explores much further.
//   usage: TARGET [--mutations N] FILE|DIR...
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

void feed(const std::string& bytes) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

std::string mutate(const std::string& seed, const std::vector<std::string>& others, std::mt19937_64& rng) {
  std::string s = seed;
  auto pick = [&](std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(rng() % n); };
  switch (rng() % 5) {
    case 0:  // truncated
      s.resize(pick(s.size() + 1));
      break;
    case 1:  // a few bytes flipped
      for (int i = 0, n = 1 + static_cast<int>(rng() % 8); i < n && !s.empty(); ++i)
        s[pick(s.size())] ^= static_cast<char>(1u << (rng() % 8));
      break;
    case 2:  // interesting bytes written over
      for (int i = 0, n = 1 + static_cast<int>(rng() % 4); i < n && !s.empty(); ++i) {
        static constexpr char kBytes[] = {'\0', '\xff', '\x7f', '\x80', '<', '>', '"', '&', '/', '.', '{', '}'};
        s[pick(s.size())] = kBytes[rng() % sizeof kBytes];
      }
      break;
    case 3:  // a span duplicated (repeated elements, overlong fields)
      if (!s.empty()) {
        const std::size_t at = pick(s.size()), len = 1 + pick(std::min<std::size_t>(s.size() - at, 256));
        s.insert(at, s.substr(at, len));
      }
      break;
    default:  // spliced with another seed
      if (!others.empty()) {
        const std::string& o = others[pick(others.size())];
        s = s.substr(0, pick(s.size() + 1)) + o.substr(pick(o.size() + 1));
      }
      break;
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  long mutations = 0;
  std::vector<std::string> seeds;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--mutations" && i + 1 < argc) {
      mutations = std::strtol(argv[++i], nullptr, 10);
      continue;
    }
    std::vector<std::filesystem::path> files;
    if (std::filesystem::is_directory(arg)) {
      for (const auto& e : std::filesystem::directory_iterator(arg))
        if (e.is_regular_file()) files.push_back(e.path());
    } else {
      files.push_back(arg);
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      std::ifstream in(f, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      seeds.push_back(ss.str());
    }
  }
  if (seeds.empty()) {
    std::fprintf(stderr, "replay: no seed files\n");
    return 2;
  }
  for (const std::string& s : seeds) feed(s);
  std::mt19937_64 rng(20261126);  // fixed: a failure reproduces
  for (long i = 0; i < mutations; ++i) feed(mutate(seeds[i % seeds.size()], seeds, rng));
  std::printf("replay: %zu seeds, %ld mutations, no crash\n", seeds.size(), mutations);
  return 0;
}
