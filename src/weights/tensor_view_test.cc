#include "weights/tensor_view.h"

#include <gtest/gtest.h>

namespace ccguard {
namespace {

TEST(TensorViewTest, NumelAndShapeString) {
  TensorView t;
  t.shape = {2048, 1024};
  EXPECT_EQ(t.numel(), 2048 * 1024);
  EXPECT_EQ(t.ShapeString(), "[2048, 1024]");
  t.shape = {};
  EXPECT_EQ(t.numel(), 1);  // a scalar
  EXPECT_EQ(t.ShapeString(), "[]");
  t.shape = {3, 0, 5};
  EXPECT_EQ(t.numel(), 0);
  EXPECT_EQ(t.ShapeString(), "[3, 0, 5]");
  t.shape = {151936, 32};
  EXPECT_EQ(t.numel(), 4861952);
}

}  // namespace
}  // namespace ccguard
