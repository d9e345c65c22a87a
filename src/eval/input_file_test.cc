#include "eval/input_file.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

namespace ccguard::eval {
namespace {

std::string Gzip(const std::string& data) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, data.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string TempPath(const std::string& name) {
  return (std::filesystem::path(testing::TempDir()) / name).string();
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

TEST(InputFileTest, PlainFileIsReturnedAsIs) {
  const std::string path = TempPath("plain.csv");
  WriteFile(path, "a,b\n1,2\n");
  auto r = ReadInputFile(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "a,b\n1,2\n");
}

TEST(InputFileTest, GzipDetectedByMagicNotName) {
  std::string big;
  for (int i = 0; i < 100000; ++i) big += "line " + std::to_string(i) + "\n";
  const std::string path = TempPath("compressed.csv");  // no .gz suffix
  WriteFile(path, Gzip(big));
  auto r = ReadInputFile(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, big);
}

TEST(InputFileTest, ConcatenatedMembers) {
  auto r = Gunzip(Gzip("hello ") + Gzip("world"), "x");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "hello world");
}

TEST(InputFileTest, EmptyMember) {
  auto r = Gunzip(Gzip(""), "x");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "");
}

TEST(InputFileTest, TruncatedGzipIsCorruption) {
  std::string gz = Gzip(std::string(5000, 'a') + "b");
  auto r = Gunzip(gz.substr(0, gz.size() - 6), "f.gz");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
  EXPECT_NE(r.status().message().find("f.gz"), std::string::npos);
}

TEST(InputFileTest, TrailingGarbageIsCorruption) {
  auto r = Gunzip(Gzip("abc") + "xyz", "f.gz");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
}

TEST(InputFileTest, MissingFileIsNotFound) {
  auto r = ReadInputFile(TempPath("does-not-exist.csv"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
}

}  // namespace
}  // namespace ccguard::eval
