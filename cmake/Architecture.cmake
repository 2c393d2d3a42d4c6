# The dependency rules of lib/ (README, "Layout"), checked when CMake
# configures: a target_link_libraries() that breaks one fails the
# configuration with the rule's number. tests/architecture_test.sh checks
# the includes and the programs' linked libraries.

# The targets `target` links, directly or through others (PUBLIC and
# PRIVATE), in `out`.
function(nb_link_closure target out)
  set(seen)
  set(todo ${target})
  while(todo)
    list(POP_FRONT todo current)
    if(current IN_LIST seen OR NOT TARGET ${current})
      if(NOT TARGET ${current})
        list(APPEND seen ${current})
      endif()
      continue()
    endif()
    list(APPEND seen ${current})
    get_target_property(libs ${current} LINK_LIBRARIES)
    get_target_property(ilibs ${current} INTERFACE_LINK_LIBRARIES)
    foreach(lib IN LISTS libs ilibs)
      if(lib AND NOT lib MATCHES "-NOTFOUND$" AND NOT lib MATCHES "^\\$<")
        list(APPEND todo ${lib})
      endif()
    endforeach()
  endwhile()
  list(REMOVE_ITEM seen ${target})
  set(${out} ${seen} PARENT_SCOPE)
endfunction()

# Fails when `target` reaches any of the FORBIDDEN targets.
function(nb_forbid_links rule target)
  cmake_parse_arguments(ARG "" "" "FORBIDDEN" ${ARGN})
  nb_link_closure(${target} closure)
  foreach(forbidden IN LISTS ARG_FORBIDDEN)
    if(forbidden IN_LIST closure)
      message(FATAL_ERROR "Architecture rule ${rule}: ${target} must not link "
        "${forbidden} (it links: ${closure}). See README, \"Layout\".")
    endif()
  endforeach()
endfunction()

function(nb_check_architecture)
  set(third_party CURL::libcurl PkgConfig::HTTPLIB CLI11::CLI11)
  if(TARGET rabbitmq::rabbitmq)
    list(APPEND third_party rabbitmq::rabbitmq)
  endif()
  # 1. The core and the hub reach no network or command-line library.
  nb_forbid_links(1 nb_core FORBIDDEN ${third_party} nb_cli nb_curl)
  nb_forbid_links(1 nb_hub FORBIDDEN ${third_party} nb_cli nb_curl)
  # 2. The upstream side and the server side never see each other. The
  # upstream side sees RabbitMQ only through lib/core's AmqpConnector.
  nb_forbid_links(2 nb_upstream FORBIDDEN nb_server nb_bridge PkgConfig::HTTPLIB
    nb_amqp ${third_party})
  nb_forbid_links(2 nb_server FORBIDDEN nb_upstream nb_bridge nb_curl CURL::libcurl
    nb_amqp)
  # 5. The bridge serves HTTP on its own loops: httplib is the mock's only.
  # lib/amqp is the only part that links librabbitmq, over the core only.
  nb_forbid_links(5 nb_server FORBIDDEN PkgConfig::HTTPLIB)
  nb_forbid_links(5 notifications-bridge FORBIDDEN PkgConfig::HTTPLIB nb_mock)
  nb_forbid_links(5 nb_amqp FORBIDDEN nb_hub nb_upstream nb_server nb_bridge
    nb_cli nb_curl CURL::libcurl PkgConfig::HTTPLIB CLI11::CLI11)
  # 4. The mock shares the core (and the command-line part), nothing of the
  # bridge, and the terminal client likewise.
  nb_forbid_links(4 nb_mock FORBIDDEN nb_hub nb_upstream nb_server nb_bridge
    nb_curl CURL::libcurl nb_amqp rabbitmq::rabbitmq)
  nb_forbid_links(4 nb_tail FORBIDDEN nb_hub nb_upstream nb_server nb_bridge
    PkgConfig::HTTPLIB nb_amqp rabbitmq::rabbitmq)
  # 5. Each program links only its part (readelf is checked by
  # tests/architecture_test.sh).
  nb_forbid_links(5 notifications-mock-api FORBIDDEN CURL::libcurl nb_bridge nb_tail
    nb_amqp rabbitmq::rabbitmq)
  nb_forbid_links(5 notifications-tail FORBIDDEN PkgConfig::HTTPLIB nb_bridge nb_mock
    nb_amqp rabbitmq::rabbitmq)
endfunction()
