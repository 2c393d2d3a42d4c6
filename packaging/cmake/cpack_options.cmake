# Read by cpack (CPACK_PROJECT_CONFIG_FILE). The programs have their
# install paths compiled in (the page's directory) and the unit names
# /usr/bin: a .deb must come from a build configured for /usr.
if(CPACK_GENERATOR STREQUAL "DEB" AND NOT CPACK_PACKAGING_INSTALL_PREFIX STREQUAL "/usr")
  message(FATAL_ERROR
    "A .deb needs a build configured with -DCMAKE_INSTALL_PREFIX=/usr "
    "(this one installs to ${CPACK_PACKAGING_INSTALL_PREFIX}): "
    "cmake -S . -B build-deb -G Ninja -DCMAKE_INSTALL_PREFIX=/usr -DNB_BUILD_TESTS=OFF")
endif()
