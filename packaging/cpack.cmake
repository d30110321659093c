# SPDX-License-Identifier: Apache-2.0
# Install rules and CPack settings for the hookfwd .deb and .rpm.
#
# Included at the end of the top-level CMakeLists.txt, after the `hookfwd`
# target and its install(TARGETS) rule:
#
#   include(packaging/cpack.cmake)
#
# `cmake --build build --target package` then writes
# hookfwd_<version>-1_<arch>.deb and, when rpmbuild is installed,
# hookfwd-<version>-1.<arch>.rpm into the build directory.
#
# CPack cannot chown, so the group of /etc/hookfwd/hookfwd.yaml
# (root:hookfwd 0640) is set by the maintainer scripts: debian/postinst
# (dpkg-statoverride) and the RPM file list (%attr, after rpm/pre.sh has
# created the account).

include_guard(GLOBAL)
include(GNUInstallDirs)

if(NOT PROJECT_VERSION)
  message(FATAL_ERROR "packaging/cpack.cmake: give project() a VERSION")
endif()
if(NOT TARGET hookfwd)
  message(FATAL_ERROR "packaging/cpack.cmake: include it after the hookfwd target")
endif()

set(HOOKFWD_PKG_DIR "${CMAKE_CURRENT_LIST_DIR}")
set(HOOKFWD_PKG_BINARY_DIR "${CMAKE_CURRENT_BINARY_DIR}/packaging")
set(HOOKFWD_DOCDIR "${CMAKE_INSTALL_DATAROOTDIR}/doc/hookfwd")

set(HOOKFWD_MAINTAINER "hookfwd maintainers <hookfwd@example.org>"
    CACHE STRING "Maintainer of the hookfwd packages (Name <address>)")
set(HOOKFWD_PACKAGE_RELEASE "1"
    CACHE STRING "Release number of the packages (the -N of <version>-N)")

# --------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------

# The unit hard-codes /usr/bin/hookfwd: CPack's DEB and RPM generators
# package under /usr (their default CPACK_PACKAGING_INSTALL_PREFIX),
# whatever CMAKE_INSTALL_PREFIX is.
install(FILES "${PROJECT_SOURCE_DIR}/config/hookfwd.yaml"
        DESTINATION /etc/hookfwd
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)

install(FILES "${HOOKFWD_PKG_DIR}/hookfwd.service"
        DESTINATION lib/systemd/system)

file(GLOB HOOKFWD_EXAMPLE_CONFIGS CONFIGURE_DEPENDS
     "${PROJECT_SOURCE_DIR}/config/examples/*.yaml")
install(FILES ${HOOKFWD_EXAMPLE_CONFIGS} "${HOOKFWD_PKG_DIR}/hookfwd-port443.conf"
        DESTINATION "${HOOKFWD_DOCDIR}/examples")

if(EXISTS "${PROJECT_SOURCE_DIR}/README.md")
  install(FILES "${PROJECT_SOURCE_DIR}/README.md" DESTINATION "${HOOKFWD_DOCDIR}")
endif()
install(FILES "${HOOKFWD_PKG_DIR}/debian/copyright" DESTINATION "${HOOKFWD_DOCDIR}")
install(FILES "${HOOKFWD_PKG_DIR}/debian/lintian-overrides"
        DESTINATION "${CMAKE_INSTALL_DATAROOTDIR}/lintian/overrides"
        RENAME hookfwd)

# The Debian changelog, dated by the last commit so that rebuilding the same
# tree gives the same bytes (SOURCE_DATE_EPOCH, then the clock, otherwise).
set(HOOKFWD_DEB_VERSION "${PROJECT_VERSION}-${HOOKFWD_PACKAGE_RELEASE}")
set(HOOKFWD_CHANGELOG_DATE "")
if(NOT DEFINED ENV{SOURCE_DATE_EPOCH})
  find_package(Git QUIET)
  if(GIT_FOUND)
    execute_process(
      COMMAND "${GIT_EXECUTABLE}" -C "${PROJECT_SOURCE_DIR}" log -1 --format=%cD
      OUTPUT_VARIABLE HOOKFWD_CHANGELOG_DATE
      OUTPUT_STRIP_TRAILING_WHITESPACE
      ERROR_QUIET)
  endif()
endif()
if(NOT HOOKFWD_CHANGELOG_DATE MATCHES "^[A-Z][a-z][a-z], ")
  string(TIMESTAMP HOOKFWD_CHANGELOG_DATE "%a, %d %b %Y %H:%M:%S +0000" UTC)
endif()
set(CPACK_PACKAGE_CONTACT "${HOOKFWD_MAINTAINER}")
configure_file("${HOOKFWD_PKG_DIR}/debian/changelog.in"
               "${HOOKFWD_PKG_BINARY_DIR}/changelog.Debian" @ONLY)

# Compressed at build time, with -n so that no name or time stamp goes in
# (lintian: package-contains-timestamped-gzip).
find_program(GZIP_EXECUTABLE gzip REQUIRED)
set(HOOKFWD_MAN_GZ "${HOOKFWD_PKG_BINARY_DIR}/gz/hookfwd.8.gz")
set(HOOKFWD_CHANGELOG_GZ "${HOOKFWD_PKG_BINARY_DIR}/gz/changelog.Debian.gz")
add_custom_command(
  OUTPUT "${HOOKFWD_MAN_GZ}"
  COMMAND "${CMAKE_COMMAND}" -E copy "${HOOKFWD_PKG_DIR}/hookfwd.8"
          "${HOOKFWD_PKG_BINARY_DIR}/gz/hookfwd.8"
  COMMAND "${GZIP_EXECUTABLE}" -9nf "${HOOKFWD_PKG_BINARY_DIR}/gz/hookfwd.8"
  DEPENDS "${HOOKFWD_PKG_DIR}/hookfwd.8"
  COMMENT "Compressing the hookfwd(8) manual page"
  VERBATIM)
add_custom_command(
  OUTPUT "${HOOKFWD_CHANGELOG_GZ}"
  COMMAND "${CMAKE_COMMAND}" -E copy "${HOOKFWD_PKG_BINARY_DIR}/changelog.Debian"
          "${HOOKFWD_PKG_BINARY_DIR}/gz/changelog.Debian"
  COMMAND "${GZIP_EXECUTABLE}" -9nf "${HOOKFWD_PKG_BINARY_DIR}/gz/changelog.Debian"
  DEPENDS "${HOOKFWD_PKG_BINARY_DIR}/changelog.Debian"
  COMMENT "Compressing changelog.Debian"
  VERBATIM)
add_custom_target(hookfwd-package-docs ALL
                  DEPENDS "${HOOKFWD_MAN_GZ}" "${HOOKFWD_CHANGELOG_GZ}")

install(FILES "${HOOKFWD_MAN_GZ}" DESTINATION "${CMAKE_INSTALL_MANDIR}/man8")
install(FILES "${HOOKFWD_CHANGELOG_GZ}" DESTINATION "${HOOKFWD_DOCDIR}")

# --------------------------------------------------------------------------
# CPack: common
# --------------------------------------------------------------------------

set(CPACK_PACKAGE_NAME "hookfwd")
set(CPACK_PACKAGE_VENDOR "hookfwd")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "webhook forwarding agent for SIEM and metrics pipelines")
set(CPACK_PACKAGE_DESCRIPTION
    "hookfwd receives signed webhooks (OmegaEngine, Sentinelayer and any
other HMAC-SHA256 or Standard Webhooks sender) over HTTP or HTTPS, verifies
each signature over the exact bytes received, turns every event into an
audit record and metrics, and forwards them in batches, with retries and
an on-disk journal, to Splunk HEC, Datadog, DogStatsD, Kafka, syslog or a
file.

The package installs a hardened systemd unit, which is not enabled: set
the sources, sinks and secrets in /etc/hookfwd first.")
set(CPACK_STRIP_FILES ON)
set(CPACK_VERBATIM_VARIABLES ON)

option(HOOKFWD_PACKAGE_RPM "Also build an .rpm (when rpmbuild is found)" ON)
set(CPACK_GENERATOR "DEB")
if(HOOKFWD_PACKAGE_RPM)
  find_program(HOOKFWD_RPMBUILD rpmbuild)
  if(HOOKFWD_RPMBUILD)
    list(APPEND CPACK_GENERATOR "RPM")
  else()
    message(STATUS "rpmbuild not found (apt package rpm): building no .rpm")
  endif()
endif()

set(CPACK_SOURCE_GENERATOR "TGZ")
set(CPACK_SOURCE_IGNORE_FILES "/\\.git/" "/build[^/]*/" "/_CPack_Packages/")

# --------------------------------------------------------------------------
# CPack: DEB
# --------------------------------------------------------------------------

set(CPACK_DEBIAN_PACKAGE_NAME "hookfwd")
set(CPACK_DEBIAN_PACKAGE_RELEASE "${HOOKFWD_PACKAGE_RELEASE}")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${HOOKFWD_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# adduser: postinst creates the account with it (useradd is only the
# fallback); procps: /bin/kill, which the unit's ExecReload runs
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, procps")
set(CPACK_DEBIAN_COMPRESSION_TYPE "xz")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${HOOKFWD_PKG_DIR}/debian/conffiles"
    "${HOOKFWD_PKG_DIR}/debian/postinst"
    "${HOOKFWD_PKG_DIR}/debian/prerm"
    "${HOOKFWD_PKG_DIR}/debian/postrm")
# 0755 for the scripts, 0644 for conffiles, whatever the checkout's modes
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

# --------------------------------------------------------------------------
# CPack: RPM
# --------------------------------------------------------------------------

set(CPACK_RPM_PACKAGE_NAME "hookfwd")
set(CPACK_RPM_PACKAGE_RELEASE "${HOOKFWD_PACKAGE_RELEASE}")
set(CPACK_RPM_FILE_NAME RPM-DEFAULT)
set(CPACK_RPM_PACKAGE_LICENSE "ASL 2.0 and MIT")
set(CPACK_RPM_PACKAGE_GROUP "System Environment/Daemons")
# not relocatable: the unit and the scripts name /usr and /etc
set(CPACK_PACKAGE_RELOCATABLE OFF)
# Requires: from the ELF dependencies (libevent, libssl, ...), by rpmbuild
set(CPACK_RPM_PACKAGE_AUTOREQ yes)
set(CPACK_RPM_PACKAGE_AUTOPROV no)
set(CPACK_RPM_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")
set(CPACK_RPM_PACKAGE_REQUIRES_PRE "/usr/sbin/useradd, /usr/sbin/groupadd, /usr/bin/getent")
set(CPACK_RPM_PRE_INSTALL_SCRIPT_FILE "${HOOKFWD_PKG_DIR}/rpm/pre.sh")
set(CPACK_RPM_POST_INSTALL_SCRIPT_FILE "${HOOKFWD_PKG_DIR}/rpm/post.sh")
set(CPACK_RPM_PRE_UNINSTALL_SCRIPT_FILE "${HOOKFWD_PKG_DIR}/rpm/preun.sh")
set(CPACK_RPM_POST_UNINSTALL_SCRIPT_FILE "${HOOKFWD_PKG_DIR}/rpm/postun.sh")
set(CPACK_RPM_USER_FILELIST
    "%dir %attr(0750,root,hookfwd) /etc/hookfwd"
    "%config(noreplace) %attr(0640,root,hookfwd) /etc/hookfwd/hookfwd.yaml")
# Left out of the .rpm: directories that belong to the filesystem, systemd
# and man packages, and the two Debian-only files (CPack's spec lets
# unpackaged files through with a warning).
set(CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION
    /usr/lib/systemd /usr/lib/systemd/system
    /usr/share/man /usr/share/man/man8
    /usr/share/lintian /usr/share/lintian/overrides
    /usr/share/lintian/overrides/hookfwd
    /usr/share/doc/hookfwd/changelog.Debian.gz)
# no /usr/lib/.build-id links: they would clash between packages built this way
set(CPACK_RPM_SPEC_MORE_DEFINE "%define _build_id_links none")

include(CPack)
