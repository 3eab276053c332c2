# Packages (CPack), from the install rules of packaging/CMakeLists.txt:
#   .deb  trustbase-scan    the scanner alone (+ man page, completion, scan.toml, service + timer)
#   .deb  trustbase-server  the server and admin command (+ man pages, server.toml, service, docs)
#   .rpm  trustbase-scan    the scanner
# Build them from a release build:  cmake --preset release && cmake --build --preset release &&
#   cd build/release && cpack        (packages land in build/release/packages/)
# tests/packaging/packages_test.sh checks them (contents, lintian, a run of the unpacked packages).

set(CPACK_PACKAGE_NAME "trustbase")
set(CPACK_PACKAGE_VENDOR "trustbase")
set(CPACK_PACKAGE_CONTACT "trustbase maintainers <trustbase@example.org>")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "software-integrity scanner and server for fleets of servers")
set(CPACK_PACKAGE_HOMEPAGE_URL "https://github.com/trustbase/trustbase")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_OUTPUT_FILE_PREFIX "${CMAKE_BINARY_DIR}/packages")  # or cpack -D CPACK_OUTPUT_FILE_PREFIX=DIR
set(CPACK_GENERATOR "DEB;RPM")
set(CPACK_STRIP_FILES ON)  # Debian wants stripped binaries, also from a debug build
set(CPACK_COMPONENTS_ALL trustbase-scan trustbase-server)
set(CPACK_COMPONENTS_GROUPING IGNORE)  # one package per component
set(CPACK_SET_DESTDIR OFF)
set(CPACK_VERBATIM_VARIABLES ON)

# --- Debian -----------------------------------------------------------------------------------
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "admin")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # Depends: from the libraries the binaries link (dpkg-shlibdeps)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_TRUSTBASE-SCAN_PACKAGE_NAME "trustbase-scan")
set(CPACK_DEBIAN_TRUSTBASE-SCAN_DESCRIPTION
  "software-integrity scanner (trustbase client)
 trustbase-scan walks directory trees, hashes every file with SHA-256 on all
 cores and writes a scan document, or sends it to a trustbase server and prints
 its verdict. The package ships a systemd timer for a daily scan, configured in
 /etc/trustbase/scan.toml.")
set(CPACK_DEBIAN_TRUSTBASE-SCAN_PACKAGE_CONTROL_EXTRA
  "${CMAKE_SOURCE_DIR}/packaging/deb/trustbase-scan/conffiles;${CMAKE_SOURCE_DIR}/packaging/deb/trustbase-scan/postinst")
set(CPACK_DEBIAN_TRUSTBASE-SERVER_PACKAGE_NAME "trustbase-server")
set(CPACK_DEBIAN_TRUSTBASE-SERVER_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_TRUSTBASE-SERVER_DESCRIPTION
  "software-integrity server for fleets of servers (trustbase)
 trustbase imports product and patch signatures from packages, archives and
 SWID tags, ingests the scans of trustbase-scan and reports per host, cluster
 and patch what is installed, whether it is complete and which files deviate.
 The package runs the HTTP API and dashboard as trustbase.service, configured
 in /etc/trustbase/server.toml.")
set(CPACK_DEBIAN_TRUSTBASE-SERVER_PACKAGE_CONTROL_EXTRA
  "${CMAKE_SOURCE_DIR}/packaging/deb/trustbase-server/conffiles;${CMAKE_SOURCE_DIR}/packaging/deb/trustbase-server/postinst")

# --- RPM (the scanner only) ---------------------------------------------------------------------
set(CPACK_RPM_COMPONENT_INSTALL ON)
set(CPACK_RPM_FILE_NAME RPM-DEFAULT)
set(CPACK_RPM_PACKAGE_RELOCATABLE OFF)
set(CPACK_RPM_PACKAGE_LICENSE "Proprietary")
set(CPACK_RPM_PACKAGE_GROUP "Applications/System")
set(CPACK_RPM_TRUSTBASE-SCAN_PACKAGE_NAME "trustbase-scan")
set(CPACK_RPM_TRUSTBASE-SCAN_PACKAGE_SUMMARY "software-integrity scanner (trustbase client)")
set(CPACK_RPM_TRUSTBASE-SCAN_USER_FILELIST "%config(noreplace) /etc/trustbase/scan.toml")
# Directories the system owns already (filesystem, systemd, bash-completion packages).
set(CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION
  /etc /lib /lib/systemd /lib/systemd/system /usr/share/bash-completion /usr/share/bash-completion/completions
  /usr/share/man /usr/share/man/man1 /usr/share/man/man5 /usr/share/doc)
set(CPACK_RPM_SPEC_MORE_DEFINE "%define _build_id_links none")
# CPack makes one package per component and generator; the server is not offered as an RPM:
# a CPACK_PROJECT_CONFIG_FILE narrows the components when the RPM generator runs.
set(CPACK_PROJECT_CONFIG_FILE "${CMAKE_BINARY_DIR}/CPackProjectConfig.cmake")
file(WRITE "${CMAKE_BINARY_DIR}/CPackProjectConfig.cmake"
  "if(CPACK_GENERATOR STREQUAL \"RPM\")\n  set(CPACK_COMPONENTS_ALL trustbase-scan)\nendif()\n")

include(CPack)
cpack_add_component(trustbase-scan DISPLAY_NAME "trustbase-scan" DESCRIPTION "The scanner")
cpack_add_component(trustbase-server DISPLAY_NAME "trustbase-server" DESCRIPTION "The server and admin command")
