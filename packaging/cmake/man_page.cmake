# Writes a man page from a program's --help and --version with help2man.
#   cmake -DHELP2MAN=... -DPROGRAM=... -DNAME=... -DOUTPUT=....1.gz
#         -DBUILD_PATH=... -DINSTALLED_PATH=... -P man_page.cmake
# A program run from the build tree reports the source tree's public/ as
# its default --public-dir (the installed page is not there yet); the page
# says what an installed program reports: BUILD_PATH becomes INSTALLED_PATH.
execute_process(
  COMMAND "${HELP2MAN}" --no-info --no-discard-stderr
          --name "${NAME}" --section 1 --source "Nasqueron" "${PROGRAM}"
  OUTPUT_VARIABLE page
  RESULT_VARIABLE rc)
get_filename_component(prog "${PROGRAM}" NAME)
if(NOT rc EQUAL 0)
  # A program without a usable --help yet must not break the build.
  message(WARNING "help2man could not read ${prog} --help; writing a minimal page")
  set(page ".TH ${prog} 1\n.SH NAME\n${prog} \\- ${NAME}\n.SH DESCRIPTION\nSee ${prog} \\-\\-help.\n")
  set(BUILD_PATH "")
endif()
if(BUILD_PATH)
  # help2man writes every '-' of the text as '\-'.
  string(REPLACE "-" "\\-" build_escaped "${BUILD_PATH}")
  string(REPLACE "-" "\\-" installed_escaped "${INSTALLED_PATH}")
  string(REPLACE "${build_escaped}" "${installed_escaped}" page "${page}")
  string(REPLACE "${BUILD_PATH}" "${INSTALLED_PATH}" page "${page}")
endif()
# Debian ships man pages compressed, without a timestamp (gzip -n).
string(REGEX REPLACE "\\.gz$" "" plain "${OUTPUT}")
file(WRITE "${plain}" "${page}")
execute_process(COMMAND gzip -9nf "${plain}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "gzip failed on ${plain}")
endif()
