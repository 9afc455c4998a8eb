# The Debian package (issue 22; docs/install.md): what is installed where, and CPack's DEB generator.
# Included by the top-level CMakeLists.txt. Build it with scripts/package (a release build of the installed
# programs and the firmware, then cpack); `ctest -L package` checks the result.
#
#   /usr/bin/{rig,rigd,rig-vmcu,rig-simavr}        the programs (their install rules are in host/app)
#   /usr/share/man/man1/                           their manual pages (help2man, from --help)
#   /usr/share/rig/web/                            the dashboard and the lab page, with uPlot's two files
#   /usr/lib/rig/firmware/                         rig-firmware.{elf,hex} (rig flash) and rig-firmware-simavr.elf
#                                                  (AVR images: architecture-dependent, so not in share/)
#   /usr/share/rig/protocols/                      the shipped protocols (the default rig config allows them)
#   /usr/share/rig/schema/                         JSON Schemas of protocols, rig configs and subjects files
#   /usr/share/doc/rig/                            README, the operator's documents, examples/ (configs, protocols)
#   /etc/rig/{rig.yaml,subjects.yaml}              conffiles: the simulated rig until the lab edits them
#   /lib/systemd/system/rigd.service, /lib/udev/rules.d/99-rig.rules
set(RIG_SYSTEM_DIR ${CMAKE_CURRENT_LIST_DIR})
set(RIG_PACKAGE_DIR ${PROJECT_BINARY_DIR}/package)

# Every installed YAML file starts with the modeline that points editors at its kind's schema in
# /usr/share/rig/schema/, relative to where the file is installed (the repository's copies point at
# config/schema/). `text` is a file's content with its own modeline; `out` gets the installed one's.
function(rig_installed_modeline text schema_relative out)
  string(REGEX REPLACE "^# yaml-language-server: \\$schema=[^\n]*\n" "" rest "${text}")
  if(rest STREQUAL text)
    message(FATAL_ERROR "a shipped YAML file has no `# yaml-language-server: $schema=` first line")
  endif()
  set(${out} "# yaml-language-server: $schema=${schema_relative}\n${rest}" PARENT_SCOPE)
endfunction()

# A shipped YAML file as installed under `install_dir` (relative to the prefix /usr), with its modeline there.
function(rig_shipped_yaml source install_dir schema)
  get_filename_component(name ${source} NAME)
  file(RELATIVE_PATH schema_relative /usr/${install_dir} /usr/share/rig/schema/${schema})
  file(READ ${source} text)
  rig_installed_modeline("${text}" ${schema_relative} installed)
  string(MAKE_C_IDENTIFIER ${install_dir} staging)
  file(WRITE ${RIG_PACKAGE_DIR}/${staging}/${name} "${installed}")
  install(FILES ${RIG_PACKAGE_DIR}/${staging}/${name} DESTINATION ${install_dir})
  set_property(DIRECTORY ${PROJECT_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${source})
endfunction()

# /etc/rig/rig.yaml and subjects.yaml: the simulated rig's examples with the installed protocols, so that rigd
# and rig run work right after installing; a lab edits the device to its board (docs/install.md). Paths stay
# relative (../../usr/share/rig/protocols from /etc/rig), so that an unpacked package checks as installed.
function(rig_etc_file source destination schema from to header)
  file(READ ${source} text)
  string(REPLACE "${from}" "${to}" replaced "${text}")
  if(replaced STREQUAL text)
    message(FATAL_ERROR "${source} no longer contains '${from}': update config/system/package.cmake")
  endif()
  rig_installed_modeline("${replaced}" ../../usr/share/rig/schema/${schema} installed)
  string(REGEX REPLACE "^([^\n]*\n)" "\\1${header}" installed "${installed}")
  file(WRITE ${destination} "${installed}")
  set_property(DIRECTORY ${PROJECT_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${source})
endfunction()
rig_etc_file(${PROJECT_SOURCE_DIR}/config/rig.sim.yaml ${RIG_PACKAGE_DIR}/rig.yaml rig.schema.json
  "protocol_dirs: [../protocols]" "protocol_dirs: [protocols, ../../usr/share/rig/protocols]"
  "# /etc/rig/rig.yaml, installed by the rig package (a conffile: your changes are kept on upgrade).
# As installed it is the simulated rig (device kind sim): rigd and rig run work without a board.
# For the real board set `device: {kind: serial, port: /dev/rig-mega}`, the rig's id, its valve
# calibration (rig calibrate) and its recording pins; see /usr/share/doc/rig/install.md and config.md.
# Your own protocols go in /etc/rig/protocols.
")
rig_etc_file(${PROJECT_SOURCE_DIR}/config/subjects.yaml ${RIG_PACKAGE_DIR}/subjects.yaml subjects.schema.json
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

# A manual page per program (man rig, man rigd), made by help2man from its --help and --version, in builds
# without sanitizers (the package's release build: a sanitizer's report at exit would end up in the page).
find_program(RIG_HELP2MAN help2man)
if(RIG_HELP2MAN AND NOT RIG_SANITIZE AND NOT RIG_TSAN)
  set(rig_man_pages)
  foreach(entry "rig|train head-fixed mice on the distractor-rewards task, and read what they did"
                "rigd|the daemon that owns the rig for the day: dashboard, API, one session at a time"
                "rig-vmcu|the virtual rig board (the firmware core on a simulated board) behind a pseudo-terminal"
                "rig-simavr|the rig firmware's AVR image in simavr behind a pseudo-terminal")
    string(REPLACE "|" ";" entry "${entry}")
    list(GET entry 0 program)
    list(GET entry 1 what)
    if(TARGET ${program})
      set(page ${RIG_PACKAGE_DIR}/man/${program}.1)
      add_custom_command(OUTPUT ${page}.gz
        COMMAND ${CMAKE_COMMAND} -E make_directory ${RIG_PACKAGE_DIR}/man
        COMMAND ${RIG_HELP2MAN} --no-info --no-discard-stderr --section 1 --name ${what} --output ${page}
                $<TARGET_FILE:${program}>
        COMMAND ${RIG_GZIP} -9 -n -f ${page}
        DEPENDS ${program} VERBATIM)
      list(APPEND rig_man_pages ${page}.gz)
      install(FILES ${page}.gz DESTINATION share/man/man1)
    endif()
  endforeach()
  add_custom_target(rig_man_pages ALL DEPENDS ${rig_man_pages})
elseif(NOT RIG_SANITIZE AND NOT RIG_TSAN)
  message(WARNING "help2man not found (scripts/setup installs it): the package will have no manual pages")
endif()

install(FILES ${RIG_PACKAGE_DIR}/rig.yaml ${RIG_PACKAGE_DIR}/subjects.yaml DESTINATION /etc/rig)
install(FILES ${RIG_SYSTEM_DIR}/rigd.service DESTINATION /lib/systemd/system)
install(FILES ${RIG_SYSTEM_DIR}/99-rig.rules DESTINATION /lib/udev/rules.d)
file(GLOB rig_protocols ${PROJECT_SOURCE_DIR}/protocols/*.yaml)
foreach(protocol ${rig_protocols})
  rig_shipped_yaml(${protocol} share/rig/protocols protocol.schema.json)
  rig_shipped_yaml(${protocol} share/doc/rig/examples/protocols protocol.schema.json)
endforeach()
rig_shipped_yaml(${PROJECT_SOURCE_DIR}/config/rig.sim.yaml share/doc/rig/examples/config rig.schema.json)
rig_shipped_yaml(${PROJECT_SOURCE_DIR}/config/subjects.yaml share/doc/rig/examples/config subjects.schema.json)
# The schemas editors check these files against: the repository's copies, which a test keeps equal to what
# `rig schema` writes from the loaders' field tables.
file(GLOB rig_schemas ${PROJECT_SOURCE_DIR}/config/schema/*.schema.json)
install(FILES ${rig_schemas} DESTINATION share/rig/schema)
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
