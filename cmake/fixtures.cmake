# Test fixtures live in tests/fixtures; large files are stored xz-compressed
# (*.xz) and are unpacked into the build tree at configure time, so tests read
# ${CCGUARD_FIXTURES_DIR}/<same relative path without .xz>.
set(CCGUARD_FIXTURES_DIR ${CMAKE_BINARY_DIR}/fixtures)
file(GLOB_RECURSE fixture_files RELATIVE ${CMAKE_SOURCE_DIR}/tests/fixtures
     CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/fixtures/*)
find_program(XZ_EXECUTABLE xz REQUIRED)
foreach(f ${fixture_files})
  set(src ${CMAKE_SOURCE_DIR}/tests/fixtures/${f})
  if(f MATCHES "\\.xz$")
    string(REGEX REPLACE "\\.xz$" "" out ${f})
    set(dst ${CCGUARD_FIXTURES_DIR}/${out})
    if(NOT EXISTS ${dst} OR ${src} IS_NEWER_THAN ${dst})
      get_filename_component(d ${dst} DIRECTORY)
      file(MAKE_DIRECTORY ${d})
      execute_process(COMMAND ${XZ_EXECUTABLE} -dc ${src} OUTPUT_FILE ${dst} RESULT_VARIABLE rc)
      if(NOT rc EQUAL 0)
        message(FATAL_ERROR "cannot unpack fixture ${src}")
      endif()
    endif()
  else()
    configure_file(${src} ${CCGUARD_FIXTURES_DIR}/${f} COPYONLY)
  endif()
endforeach()
