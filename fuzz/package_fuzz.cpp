// Fuzz target: a file dropped into the import feed. Written to a temporary file and read
// by every importer (.deb, .rpm, tar/zip, SWID): each must import it or refuse it cleanly.
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "sources/archive_source.h"
#include "sources/deb_source.h"
#include "sources/package_format.h"
#include "sources/rpm_source.h"
#include "sources/swid_source.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  char path[] = "/tmp/tb-fuzz-package-XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) return 0;
  const bool written = ::write(fd, data, size) == static_cast<ssize_t>(size);
  ::close(fd);
  if (written) {
    tb::ArchiveLimits limits;
    limits.max_entries = 1'000;
    limits.max_entry_bytes = 1 << 20;
    limits.max_total_bytes = 8 << 20;
    (void)tb::detect_package_format(path);
    (void)tb::read_deb(path, limits);
    (void)tb::read_rpm(path, limits);
    tb::SignatureInfo info;
    info.ref = tb::SignatureRef{"fuzz", "1"};
    (void)tb::signature_from_archive(path, info, 0, limits);
    (void)tb::read_swid_tag(path);
  }
  ::unlink(path);
  return 0;
}
