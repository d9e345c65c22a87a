// Options of a Template: Jinja2 environment settings and resource limits.
#pragma once

#include <cstddef>

namespace ccguard::jinja {

struct Options {
  // Jinja2's trim_blocks and lstrip_blocks (transformers enables both).
  bool trim_blocks = true;
  bool lstrip_blocks = true;
  // A render fails (ResourceExhausted) when its output, or any string or list it builds,
  // exceeds this size. Total work (bytes built and items visited) is capped at 16x this.
  size_t max_output_bytes = 64 << 20;
  // Loop iterations plus macro calls per render.
  size_t max_loop_iterations = 1 << 20;
  // Nesting of statements and of expressions when parsing; runtime recursion (nested
  // evaluation and macro calls) is capped at 3x this. With the default, rendering needs
  // about 1.5 MB of stack in the worst case (e.g. a macro recursing until the cap).
  int max_depth = 256;
};

}  // namespace ccguard::jinja
