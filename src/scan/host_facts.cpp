#include "scan/host_facts.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace tb {

namespace {
// Values follow shell quoting (os-release(5)): inside double quotes a backslash escapes
// only $ ` " and \ and is kept before any other character; single quotes are literal.
std::string unquote(std::string_view v) {
  if (v.size() < 2 || (v.front() != '"' && v.front() != '\'') || v.back() != v.front()) return std::string(v);
  const std::string_view body = v.substr(1, v.size() - 2);
  if (v.front() == '\'') return std::string(body);
  std::string out;
  out.reserve(body.size());
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '\\' && i + 1 < body.size() && std::string_view("$`\"\\").find(body[i + 1]) != std::string_view::npos)
      ++i;
    out += body[i];
  }
  return out;
}
}  // namespace

void parse_os_release(std::string_view text, HostFacts& facts) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos || line.starts_with('#')) continue;
    const std::string_view key = line.substr(0, eq);
    const std::string value = unquote(line.substr(eq + 1));
    if (key == "ID") facts.os_id = value;
    else if (key == "VERSION_ID") facts.os_version = value;
    else if (key == "PRETTY_NAME") facts.os_pretty = value;
  }
}

HostFacts collect_host_facts() {
  HostFacts facts;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0) facts.hostname = host;
  utsname u{};
  if (::uname(&u) == 0) {
    facts.kernel = u.release;
    facts.arch = u.machine;
  }
  for (const char* file : {"/etc/os-release", "/usr/lib/os-release"}) {
    std::ifstream in(file);
    if (!in) continue;
    std::stringstream ss;
    ss << in.rdbuf();
    parse_os_release(ss.str(), facts);
    break;
  }
  return facts;
}

}  // namespace tb
