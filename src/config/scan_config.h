// scan.toml: the configuration file of trustbase-scan (docs/config.md), bound to the
// variables the scanner's command-line options fill (cli/scan_main.cpp).
#pragma once

#include <string>
#include <vector>

#include "client/upload.h"
#include "config/config_file.h"
#include "scan/scanner.h"

namespace tb::config {

inline constexpr const char* kDefaultScanConfig = "/etc/trustbase/scan.toml";

// Where each key goes: the scanner's option variables (references; they outlive the keys).
struct ScanSettings {
  ScanOptions& scan;
  UploadOptions& upload;
  VerifyQuery& verify_query;
  std::string& output;            // -o
  std::string& format;            // --format
  std::string& token_file;        // --token-file
  std::string& enrol_token_file;  // --enrol-token-file
  bool& scan_pseudo_fs;           // --scan-pseudo-fs
  bool& inventory;                // --inventory / --no-inventory
  bool& nice;                     // --nice
  bool& quiet;                    // --quiet
  bool& progress;                 // --progress
  bool& verify;                   // --verify
  std::string& signing_key;       // --signing-key
  std::string& upload_mode;       // --upload: chunks | document
};

// The keys of scan.toml, each with the flags that override it.
std::vector<Key> scan_keys(const ScanSettings& settings);

}  // namespace tb::config
