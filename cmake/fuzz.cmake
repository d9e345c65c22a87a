# libFuzzer targets: each src/<layer>/<name>_fuzz.cc becomes the program
# <name>_fuzz, linked with its layer's library (ccguard_<layer>) and
# -fsanitize=fuzzer. Fixtures are unpacked into ${CCGUARD_FIXTURES_DIR}
# (CCGUARD_FIXTURES), as for the tests. Run them with scripts/fuzz.sh.
file(GLOB fuzz_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/src/*/*_fuzz.cc)
set(CCGUARD_FUZZ_TARGETS "")
foreach(src ${fuzz_sources})
  get_filename_component(name ${src} NAME_WE)
  get_filename_component(dir ${src} DIRECTORY)
  get_filename_component(layer ${dir} NAME)
  add_executable(${name} ${src})
  target_link_libraries(${name} PRIVATE ccguard_${layer})
  target_compile_definitions(${name} PRIVATE CCGUARD_FIXTURES="${CCGUARD_FIXTURES_DIR}")
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  list(APPEND CCGUARD_FUZZ_TARGETS ${name})
endforeach()
add_custom_target(fuzz_targets DEPENDS ${CCGUARD_FUZZ_TARGETS})

# clang ignores `#pragma GCC target(...)`: the kernel files that use it get
# the same instruction sets as compile flags (the runtime dispatch still
# decides which of them run).
file(GLOB_RECURSE kernel_sources ${CMAKE_CURRENT_SOURCE_DIR}/src/kernels/cpu/*.cc)
foreach(src ${kernel_sources})
  file(STRINGS ${src} pragmas REGEX "^#pragma GCC target\\(\"[^\"]+\"\\)")
  set(flags "")
  foreach(p ${pragmas})
    string(REGEX REPLACE "^#pragma GCC target\\(\"([^\"]+)\"\\).*" "\\1" isas "${p}")
    string(REPLACE "," ";" isas "${isas}")
    foreach(isa ${isas})
      list(APPEND flags "-m${isa}")
    endforeach()
  endforeach()
  if(flags)
    list(REMOVE_DUPLICATES flags)
    set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${flags}")
  endif()
endforeach()
