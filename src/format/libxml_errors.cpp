#include "format/libxml_errors.h"

#include <string>
#include <string_view>

#include <libxml/globals.h>

#include "format/encoding.h"

namespace tb {

LibxmlErrorRoute::LibxmlErrorRoute(void* context, xmlStructuredErrorFunc handler)
    : previous_context_(xmlStructuredErrorContext), previous_(xmlStructuredError) {
  xmlSetStructuredErrorFunc(context, handler);
}

LibxmlErrorRoute::~LibxmlErrorRoute() {
  xmlSetStructuredErrorFunc(previous_context_, previous_);
}

void LibxmlErrorRoute::to(void* context, xmlStructuredErrorFunc handler) {
  xmlSetStructuredErrorFunc(context, handler);
}

std::string libxml_message(const xmlError& error) {
  std::string_view text = error.message != nullptr ? std::string_view(error.message) : "malformed XML";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  return sanitize_text(text);
}

void keep_first_libxml_error(void* first_error, xmlErrorPtr error) {
  auto& first = *static_cast<std::optional<Error>*>(first_error);
  if (error == nullptr || error->level < XML_ERR_ERROR || first) return;
  first = Error(ErrorCode::parse, libxml_message(*error));
}

}  // namespace tb
