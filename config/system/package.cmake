# The Debian package (issue 22; docs/install.md): what is installed where, and CPack's DEB generator.
# Included by the top-level CMakeLists.txt. Build it with scripts/package (a release build of the installed
# programs and the firmware, then cpack); `ctest -L package` checks the result.
#
#   /usr/bin/{rig,rigd,rig-vmcu,rig-simavr}        the programs (their install rules are in host/app)
#   /usr/share/rig/web/                            the dashboard and the lab page, with uPlot's two files
#   /usr/lib/rig/firmware/                         rig-firmware.{elf,hex} (rig flash) and rig-firmware-simavr.elf
#                                                  (AVR images: architecture-dependent, so not in share/)
#   /usr/share/rig/protocols/                      the shipped protocols (the default rig config allows them)
#   /usr/share/doc/rig/                            README, the operator's documents, examples/ (configs, protocols)
#   /etc/rig/{rig.yaml,subjects.yaml}              conffiles: the simulated rig until the lab edits them
#   /lib/systemd/system/rigd.service, /lib/udev/rules.d/99-rig.rules
set(RIG_SYSTEM_DIR ${CMAKE_CURRENT_LIST_DIR})
set(RIG_PACKAGE_DIR ${PROJECT_BINARY_DIR}/package)

# /etc/rig/rig.yaml and subjects.yaml: the simulated rig's examples with the installed protocols, so that rigd
# and rig run work right after installing; a lab edits the device to its board (docs/install.md). Paths stay
# relative (../../usr/share/rig/protocols from /etc/rig), so that an unpacked package checks as installed.
function(rig_etc_file source destination from to header)
  file(READ ${source} text)
  string(REPLACE "${from}" "${to}" replaced "${text}")
  if(replaced STREQUAL text)
    message(FATAL_ERROR "${source} no longer contains '${from}': update config/system/package.cmake")
  endif()
  file(WRITE ${destination} "${header}${replaced}")
  set_property(DIRECTORY ${PROJECT_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${source})
endfunction()
rig_etc_file(${PROJECT_SOURCE_DIR}/config/rig.sim.yaml ${RIG_PACKAGE_DIR}/rig.yaml
  "protocol_dirs: [../protocols]" "protocol_dirs: [protocols, ../../usr/share/rig/protocols]"
  "# /etc/rig/rig.yaml, installed by the rig package (a conffile: your changes are kept on upgrade).
# As installed it is the simulated rig (device kind sim): rigd and rig run work without a board.
# For the real board set `device: {kind: serial, port: /dev/rig-mega}`, the rig's id, its valve
# calibration (rig calibrate) and its recording pins; see /usr/share/doc/rig/install.md and config.md.
# Your own protocols go in /etc/rig/protocols.
")
rig_etc_file(${PROJECT_SOURCE_DIR}/config/subjects.yaml ${RIG_PACKAGE_DIR}/subjects.yaml
  "stage: ../protocols/" "stage: ../../usr/share/rig/protocols/"
  "# /etc/rig/subjects.yaml, installed by the rig package (a conffile): the simulated subjects of the examples.
# Replace them with your mice; a stage is a protocol path relative to this file (protocols/NAME.yaml for
# /etc/rig/protocols). See /usr/share/doc/rig/config.md.
")

# The Debian changelog of a native package (lintian wants it, compressed without a time stamp).
string(TIMESTAMP rig_package_date "%a, %d %b %Y %H:%M:%S +0000" UTC)
file(WRITE ${RIG_PACKAGE_DIR}/changelog
     "rig (${PROJECT_VERSION}) bookworm; urgency=medium\n\n"
     "  * Release ${PROJECT_VERSION}: see /usr/share/doc/rig/README.md.\n\n"
     " -- Rig controller project <rig@rig-controller.org>  ${rig_package_date}\n")
find_program(RIG_GZIP gzip REQUIRED)
add_custom_command(OUTPUT ${RIG_PACKAGE_DIR}/changelog.gz
  COMMAND ${RIG_GZIP} -9 -n -c ${RIG_PACKAGE_DIR}/changelog > ${RIG_PACKAGE_DIR}/changelog.gz
  DEPENDS ${RIG_PACKAGE_DIR}/changelog VERBATIM)
add_custom_target(rig_package_files ALL DEPENDS ${RIG_PACKAGE_DIR}/changelog.gz)

install(FILES ${RIG_PACKAGE_DIR}/rig.yaml ${RIG_PACKAGE_DIR}/subjects.yaml DESTINATION /etc/rig)
install(FILES ${RIG_SYSTEM_DIR}/rigd.service DESTINATION /lib/systemd/system)
install(FILES ${RIG_SYSTEM_DIR}/99-rig.rules DESTINATION /lib/udev/rules.d)
file(GLOB rig_protocols ${PROJECT_SOURCE_DIR}/protocols/*.yaml)
install(FILES ${rig_protocols} DESTINATION share/rig/protocols)
install(FILES ${rig_protocols} DESTINATION share/doc/rig/examples/protocols)
install(FILES ${PROJECT_SOURCE_DIR}/config/rig.sim.yaml ${PROJECT_SOURCE_DIR}/config/subjects.yaml
        DESTINATION share/doc/rig/examples/config)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${RIG_SYSTEM_DIR}/copyright ${RIG_PACKAGE_DIR}/changelog.gz
        DESTINATION share/doc/rig)
# The AVR images are what lintian expects of no file of an amd64 package; the overrides say why each is right.
install(FILES ${RIG_SYSTEM_DIR}/lintian-overrides DESTINATION share/lintian/overrides RENAME rig)
foreach(doc install operator-guide config protocols rigd data-format analysis lab reliability)
  install(FILES ${PROJECT_SOURCE_DIR}/docs/${doc}.md DESTINATION share/doc/rig)
endforeach()
if(RIG_FIRMWARE_ELF_DIR)
  install(FILES ${RIG_FIRMWARE_ELF_DIR}/rig-firmware.elf ${RIG_FIRMWARE_ELF_DIR}/rig-firmware.hex
                ${RIG_FIRMWARE_ELF_DIR}/rig-firmware-simavr.elf
          DESTINATION lib/rig/firmware)
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME rig)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "Rig controller project")
set(CPACK_PACKAGE_CONTACT "Rig controller project <rig@rig-controller.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "controller for head-fixed mouse rigs (distractor-rewards task)")
# CPack's DEB generator takes the synopsis from the summary and the extended description from this (lines of
# at most 79 characters).
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "Runs training sessions of the distractor-rewards task on an Arduino Mega 2560
rig (or a simulated one): rigd serves a live dashboard and an API all day;
rig runs, checks, exports (CSV, NWB) and fits sessions. Includes the board's
firmware, a udev rule for the board and a systemd unit for the rig's service.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# adduser: the postinst creates the `rig` account (deb-systemd-invoke, which the maintainer scripts call, is in
# the essential init-system-helpers). avrdude: `rig flash` writes the firmware to a board.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "avrdude")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${RIG_SYSTEM_DIR}/debian/conffiles ${RIG_SYSTEM_DIR}/debian/postinst ${RIG_SYSTEM_DIR}/debian/prerm
    ${RIG_SYSTEM_DIR}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_PACKAGE_DIRECTORY ${RIG_PACKAGE_DIR})
include(CPack)
