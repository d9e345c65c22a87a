#include "parquet/reader.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace ccguard::parquet {
namespace {

// Test files live in the source tree (tests/data/parquet, written by DuckDB
// through tests/e2e/js/make_parquet_testdata.mjs; tests/data/wildguardtest,
// the upstream file written by hyparquet).
const std::filesystem::path kData =
    std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "tests" / "data";

std::string Slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Gunzip(const std::string& gz) {
  z_stream z{};
  inflateInit2(&z, 15 + 32);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = static_cast<uInt>(gz.size());
  std::string out;
  char buf[1 << 16];
  int rc;
  do {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof(buf);
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - z.avail_out);
  } while (rc == Z_OK);
  inflateEnd(&z);
  return out;
}

std::vector<Json> JsonLines(const std::string& text) {
  std::vector<Json> rows;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) rows.push_back(Json::parse(line));
  }
  return rows;
}

TEST(ParquetReaderTest, EveryVersionAndCodecReadsWhatDuckDbReads) {
  const std::vector<Json> expected = JsonLines(Slurp(kData / "parquet" / "types.expected.jsonl"));
  ASSERT_EQ(expected.size(), 5000u);
  for (const char* version : {"v1", "v2"}) {
    for (const char* codec : {"uncompressed", "snappy", "gzip", "zstd"}) {
      const std::string file =
          (kData / "parquet" / ("types_" + std::string(version) + "_" + codec + ".parquet"))
              .string();
      SCOPED_TRACE(file);
      auto r = Reader::Open(file);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_EQ((*r)->num_rows(), 5000);
      EXPECT_EQ((*r)->num_row_groups(), 3u);
      auto cols = (*r)->Select({});
      ASSERT_TRUE(cols.ok()) << cols.status().ToString();
      EXPECT_EQ(cols->size(), 16u);
      std::vector<Json> rows;
      for (size_t g = 0; g < (*r)->num_row_groups(); ++g) {
        auto part = (*r)->ReadRowGroup(g, *cols);
        ASSERT_TRUE(part.ok()) << part.status().ToString();
        EXPECT_EQ(static_cast<int64_t>(part->size()), (*r)->row_group_rows(g));
        rows.insert(rows.end(), part->begin(), part->end());
      }
      ASSERT_EQ(rows.size(), expected.size());
      for (size_t i = 0; i < rows.size(); ++i) {
        ASSERT_EQ(rows[i], expected[i]) << "row " << i << "\nread:     " << rows[i].dump()
                                        << "\nexpected: " << expected[i].dump();
      }
    }
  }
}

// hyparquet-writer, an encoding chosen per column (DELTA_BYTE_ARRAY and RLE
// booleans, which DuckDB does not write), 2 KB pages, three row groups; the
// expected rows are DuckDB's reading of the same file.
TEST(ParquetReaderTest, HyparquetEncodingsReadAsDuckDbReadsThem) {
  auto rows = ReadAll((kData / "parquet" / "hyparquet_encodings.parquet").string(), {});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  const std::vector<Json> expected =
      JsonLines(Slurp(kData / "parquet" / "hyparquet_encodings.expected.jsonl"));
  ASSERT_EQ(expected.size(), 1500u);
  ASSERT_EQ(rows->size(), expected.size());
  for (size_t i = 0; i < rows->size(); ++i) {
    ASSERT_EQ((*rows)[i], expected[i]) << "row " << i << "\nread:     " << (*rows)[i].dump()
                                       << "\nexpected: " << expected[i].dump();
  }
}

TEST(ParquetReaderTest, DescribesColumnTypes) {
  auto r = Reader::Open((kData / "parquet" / "types_v2_zstd.parquet").string());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::map<std::string, std::string> types;
  for (const ColumnInfo& c : (*r)->columns()) types[c.name] = c.type;
  EXPECT_EQ(types["s"], "string");
  EXPECT_EQ(types["u"], "uint32");
  EXPECT_EQ(types["ub"], "uint64");
  EXPECT_EQ(types["day"], "date");
  EXPECT_EQ(types["ts"], "timestamp");
  EXPECT_EQ(types["dec18"], "decimal");
  EXPECT_EQ(types["l"], "list<string>");
  EXPECT_EQ(types["li"], "list<int64>");
}

TEST(ParquetReaderTest, ReadsOnlyTheSelectedColumns) {
  auto r = Reader::Open((kData / "parquet" / "types_v1_snappy.parquet").string());
  ASSERT_TRUE(r.ok());
  auto cols = (*r)->Select({"ns", "id"});
  ASSERT_TRUE(cols.ok());
  auto rows = (*r)->ReadRowGroup(1, *cols);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 2048u);
  EXPECT_EQ((*rows)[0], (Json{{"ns", "row-2048" + std::string(2048 % 13, 'x')}, {"id", 2048}}));
  EXPECT_EQ((*rows)[2].size(), 2u);
  EXPECT_TRUE((*rows)[2]["ns"].is_null());  // 2050 % 5 == 0
}

TEST(ParquetReaderTest, MissingColumnIsNotFoundNamingFileAndColumns) {
  const std::string file = (kData / "parquet" / "types_v1_zstd.parquet").string();
  auto r = Reader::Open(file);
  ASSERT_TRUE(r.ok());
  auto cols = (*r)->Select({"id", "prompt"});
  ASSERT_FALSE(cols.ok());
  EXPECT_EQ(cols.status().code(), Status::Code::kNotFound);
  EXPECT_NE(cols.status().message().find(file), std::string::npos);
  EXPECT_NE(cols.status().message().find("'prompt'"), std::string::npos);
  EXPECT_NE(cols.status().message().find("columns: id,s,ns,"), std::string::npos);
}

TEST(ParquetReaderTest, RefusesNestingItDoesNotReadOnlyWhenSelected) {
  const std::string file = (kData / "parquet" / "nested.parquet").string();
  auto r = Reader::Open(file);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::map<std::string, std::string> why;
  for (const ColumnInfo& c : (*r)->columns()) why[c.name] = c.unsupported;
  EXPECT_EQ(why["id"], "");
  EXPECT_EQ(why["st"], "a struct");
  EXPECT_EQ(why["mp"], "a map");
  EXPECT_EQ(why["ll"], "a list of lists");
  EXPECT_EQ(why["ls"], "a list of structs");
  for (const char* col : {"st", "mp", "ll", "ls"}) {
    auto s = (*r)->Select({"id", col});
    ASSERT_FALSE(s.ok()) << col;
    EXPECT_EQ(s.status().code(), Status::Code::kNotSupported);
    EXPECT_NE(s.status().message().find(file), std::string::npos);
    EXPECT_NE(s.status().message().find("'" + std::string(col) + "'"), std::string::npos);
  }
  EXPECT_FALSE((*r)->Select({}).ok());  // "every column" includes the unreadable ones
  auto cols = (*r)->Select({"id", "name"});
  ASSERT_TRUE(cols.ok());
  auto rows = (*r)->ReadRowGroup(0, *cols);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, JsonLines(Slurp(kData / "parquet" / "nested.expected.jsonl")));
}

TEST(ParquetReaderTest, EmptyFileHasNoRows) {
  auto rows = ReadAll((kData / "parquet" / "empty.parquet").string(), {});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_TRUE(rows->empty());
}

// The upstream WildGuardTest file (written by hyparquet: format v2, RLE
// booleans, dictionary pages, SNAPPY) reads as its JSON Lines conversion.
TEST(ParquetReaderTest, UpstreamWildGuardTestMatchesItsConversion) {
  auto rows = ReadAll((kData / "wildguardtest" / "wildguard_test.parquet").string(), {});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  std::vector<Json> expected =
      JsonLines(Gunzip(Slurp(kData / "wildguardtest" / "wildguard_test.jsonl.gz")));
  ASSERT_EQ(rows->size(), 1035u);
  ASSERT_EQ(expected.size(), rows->size());
  for (size_t i = 0; i < rows->size(); ++i) ASSERT_EQ((*rows)[i], expected[i]) << "row " << i;
}

TEST(ParquetReaderTest, OpenErrorsNameTheFile) {
  auto missing = Reader::Open("/nonexistent/x.parquet");
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);
  auto tiny = Reader::OpenBuffer("PAR1", "tiny.parquet");
  EXPECT_EQ(tiny.status().code(), Status::Code::kCorruption);
  EXPECT_NE(tiny.status().message().find("tiny.parquet"), std::string::npos);
  auto csv = Reader::OpenBuffer("a,b\n1,2\n3,4\n5,6\n", "data.csv");
  EXPECT_NE(csv.status().message().find("no PAR1 magic"), std::string::npos);
  std::string bytes = Slurp(kData / "parquet" / "types_v1_snappy.parquet");
  std::string big = bytes;
  big[big.size() - 5] = '\x7f';  // footer length far past the file
  auto bad = Reader::OpenBuffer(big, "big.parquet");
  EXPECT_EQ(bad.status().code(), Status::Code::kCorruption);
  EXPECT_NE(bad.status().message().find("footer length"), std::string::npos);
  std::string enc = bytes;
  enc.replace(enc.size() - 4, 4, "PARE");
  EXPECT_EQ(Reader::OpenBuffer(enc, "enc.parquet").status().code(), Status::Code::kNotSupported);
}

// Every truncation and many byte flips of a real file: an error or rows,
// never a crash (ASan/UBSan run this too; the fuzz target goes further).
TEST(ParquetReaderTest, DamagedFilesFailCleanly) {
  const std::string bytes = Slurp(kData / "parquet" / "types_v2_snappy.parquet");
  ReaderOptions opt;
  opt.max_page_bytes = 1 << 22;
  opt.max_chunk_values = 1 << 20;
  auto read_all = [&](const std::string& data) -> Status {
    auto r = Reader::OpenBuffer(data, "damaged.parquet", opt);
    if (!r.ok()) return r.status();
    std::vector<size_t> cols;
    for (size_t i = 0; i < (*r)->columns().size(); ++i) {
      if ((*r)->columns()[i].unsupported.empty()) cols.push_back(i);
    }
    if (cols.empty()) return Status::Ok();
    for (size_t g = 0; g < (*r)->num_row_groups(); ++g) {
      auto rows = (*r)->ReadRowGroup(g, cols);
      if (!rows.ok()) return rows.status();
    }
    return Status::Ok();
  };
  size_t failed = 0;
  for (size_t cut = 0; cut < bytes.size(); cut += 2999) {
    Status s = read_all(bytes.substr(0, cut));
    EXPECT_FALSE(s.ok()) << cut;
    failed += !s.ok();
  }
  uint32_t seed = 12345;
  size_t flips = 0;
  for (int i = 0; i < 150; ++i) {
    seed = seed * 1664525u + 1013904223u;
    std::string d = bytes;
    size_t at = seed % d.size();
    d[at] = static_cast<char>(d[at] ^ (1 + (seed >> 24) % 255));
    Status s = read_all(d);
    flips += !s.ok();
    if (!s.ok()) {
      EXPECT_NE(s.message().find("damaged.parquet"), std::string::npos) << s.ToString();
    }
  }
  EXPECT_GT(failed, 0u);
  EXPECT_GT(flips, 0u);
}

}  // namespace
}  // namespace ccguard::parquet
