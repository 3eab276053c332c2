// libxml2 raises some errors with no parser context (converting the input's encoding:
// "<" and three NULs read as UCS-4, bytes invalid in a declared encoding): those go to the
// thread's structured handler, or else to stderr, where a hostile document would write
// lines of its making into the server's log (JSON lines with --log-format json). A
// LibxmlErrorRoute points the thread's handler (per thread in libxml2) at a callback of
// the parse for its lifetime and restores the previous one after.
#pragma once

#include <optional>
#include <string>

#include <libxml/xmlerror.h>

#include "core/error.h"

namespace tb {

class LibxmlErrorRoute {
 public:
  LibxmlErrorRoute(void* context, xmlStructuredErrorFunc handler);
  ~LibxmlErrorRoute();
  LibxmlErrorRoute(const LibxmlErrorRoute&) = delete;
  LibxmlErrorRoute& operator=(const LibxmlErrorRoute&) = delete;

  // Points the route at another callback (the parse's own, once it exists).
  void to(void* context, xmlStructuredErrorFunc handler);

 private:
  void* previous_context_;
  xmlStructuredErrorFunc previous_;
};

// libxml2's message of an error, printable (its trailing newline dropped).
std::string libxml_message(const xmlError& error);

// A callback for the route: keeps the first error (level error or worse) in the
// std::optional<Error> `first_error` points at, its message libxml2's.
void keep_first_libxml_error(void* first_error, xmlErrorPtr error);

}  // namespace tb
