// Signatures from what a vendor or a build produced: a directory tree laid out as it is
// installed, or a scan document of a reference installation.
#pragma once

#include <string>

#include "core/error.h"
#include "core/scan_document.h"
#include "core/signature.h"

namespace tb {

// Which record attributes a signature keeps. A package fixes type, size, content, link
// target and (usually) mode; it cannot fix owners or times across hosts.
inline constexpr AttrSet kSignatureKeeps = Attr::type | Attr::size | Attr::mode | Attr::sha256 | Attr::link_target;

// Scans `dir` (never following symlinks) and maps every entry below it to
// info.install_root + its relative path: `dir`/bin/app with install root /opt/app becomes
// /opt/app/bin/app; the directory itself becomes the install root's record (left out
// when the install root is "/", which every product would claim). Fails when an
// entry cannot be read (a signature with holes would later report false deviations).
Expected<Signature> signature_from_directory(const std::string& dir, SignatureInfo info);

// Takes the records of a scan document (XML or JSON) under info.install_root (default
// "/": everything) as the signature's manifest.
Expected<Signature> signature_from_scan_document(const std::string& path, SignatureInfo info);
// The same from a document already parsed (an upload to the server); `source` names it
// in messages, and is the signature's source when info.source is empty.
Expected<Signature> signature_from_scan(const ScanDocument& scan, SignatureInfo info, const std::string& source);

// The records of `manifest` kept for a signature: only kSignatureKeeps attributes.
FileRecord signature_record(FileRecord record);

}  // namespace tb
