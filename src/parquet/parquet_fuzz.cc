// libFuzzer target for the Parquet reader (footer, schema, pages, encodings,
// codecs). Built by the "fuzz" CMake preset; run with scripts/fuzz.sh, which
// seeds the corpus with tests/data/parquet/*.parquet.
//
// Each input is opened as a file in memory and every readable column of
// every row group is read, with small limits so that a hostile size field
// cannot make the run allocate gigabytes. An accepted row group must hold
// exactly the rows its metadata claims.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "parquet/reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ccguard::parquet;
  ReaderOptions opt;
  opt.max_page_bytes = 1 << 22;
  opt.max_chunk_values = 1 << 16;
  auto r = Reader::OpenBuffer(std::string(reinterpret_cast<const char*>(data), size),
                              "fuzz.parquet", opt);
  if (!r.ok()) return 0;
  std::vector<size_t> cols;
  for (size_t i = 0; i < (*r)->columns().size(); ++i) {
    if ((*r)->columns()[i].unsupported.empty()) cols.push_back(i);
  }
  if (cols.empty()) return 0;
  for (size_t g = 0; g < (*r)->num_row_groups(); ++g) {
    auto rows = (*r)->ReadRowGroup(g, cols);
    if (!rows.ok()) continue;
    if (static_cast<int64_t>(rows->size()) != (*r)->row_group_rows(g)) {
      std::fprintf(stderr, "invariant violated: row count differs from the metadata\n");
      std::abort();
    }
    for (const auto& row : *rows)
      (void)row.dump(-1, ' ', false, ccguard::Json::error_handler_t::replace);
  }
  return 0;
}
