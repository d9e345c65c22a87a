#include "jinja/json_dump.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "jinja/pystring.h"

namespace ccguard::jinja {

namespace {

constexpr int kMaxDepth = 512;

void AppendHex4(uint32_t u, std::string* out) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "\\u%04x", u & 0xFFFF);
  out->append(buf);
}

void AppendString(std::string_view s, bool ensure_ascii, std::string* out) {
  out->push_back('"');
  size_t pos = 0;
  while (pos < s.size()) {
    size_t start = pos;
    uint32_t c = pystr::DecodeNext(s, &pos);
    switch (c) {
      case '"':
        out->append("\\\"");
        continue;
      case '\\':
        out->append("\\\\");
        continue;
      case '\n':
        out->append("\\n");
        continue;
      case '\r':
        out->append("\\r");
        continue;
      case '\t':
        out->append("\\t");
        continue;
      case '\b':
        out->append("\\b");
        continue;
      case '\f':
        out->append("\\f");
        continue;
      default:
        break;
    }
    if (c < 0x20) {
      AppendHex4(c, out);
    } else if (!ensure_ascii || c < 0x7F) {
      out->append(s.substr(start, pos - start));
    } else if (c <= 0xFFFF) {
      AppendHex4(c, out);
    } else {
      uint32_t v = c - 0x10000;
      AppendHex4(0xD800 | (v >> 10), out);
      AppendHex4(0xDC00 | (v & 0x3FF), out);
    }
  }
  out->push_back('"');
}

class Encoder {
 public:
  Encoder(const JsonDumpOptions& o, std::string* out) : o_(o), out_(out) {}

  Status Encode(const Value& v, int level) {
    if (level > kMaxDepth) return Status::InvalidArgument("tojson: nesting too deep");
    switch (v.kind()) {
      case Value::Kind::kNone:
        out_->append("null");
        return Status::Ok();
      case Value::Kind::kBool:
        out_->append(v.bool_value() ? "true" : "false");
        return Status::Ok();
      case Value::Kind::kInt:
        out_->append(std::to_string(v.int_value()));
        return Status::Ok();
      case Value::Kind::kFloat: {
        double d = v.float_value();
        if (std::isnan(d)) {
          out_->append("NaN");
        } else if (std::isinf(d)) {
          out_->append(d < 0 ? "-Infinity" : "Infinity");
        } else {
          out_->append(FloatRepr(d));
        }
        return Status::Ok();
      }
      case Value::Kind::kString:
        AppendString(v.string_value(), o_.ensure_ascii, out_);
        return Status::Ok();
      case Value::Kind::kList: {
        if (v.is_generator()) {
          return Status::InvalidArgument("Object of type generator is not JSON serializable");
        }
        const auto& items = v.list_value();
        if (items.empty()) {
          out_->append("[]");
          return Status::Ok();
        }
        out_->push_back('[');
        Open(level + 1);
        for (size_t i = 0; i < items.size(); ++i) {
          if (i) Separator(level + 1);
          CCG_RETURN_IF_ERROR(Encode(items[i], level + 1));
        }
        Close(level);
        out_->push_back(']');
        return Status::Ok();
      }
      case Value::Kind::kDict: {
        const auto& entries = v.dict_value().entries();
        if (entries.empty()) {
          out_->append("{}");
          return Status::Ok();
        }
        std::vector<const std::pair<std::string, Value>*> order;
        order.reserve(entries.size());
        for (const auto& e : entries) order.push_back(&e);
        if (o_.sort_keys) {
          std::stable_sort(order.begin(), order.end(),
                           [](auto* a, auto* b) { return a->first < b->first; });
        }
        out_->push_back('{');
        Open(level + 1);
        for (size_t i = 0; i < order.size(); ++i) {
          if (i) Separator(level + 1);
          AppendString(order[i]->first, o_.ensure_ascii, out_);
          out_->append(o_.key_separator);
          CCG_RETURN_IF_ERROR(Encode(order[i]->second, level + 1));
        }
        Close(level);
        out_->push_back('}');
        return Status::Ok();
      }
      default:
        return Status::InvalidArgument(std::string("Object of type ") + v.TypeName() +
                                       " is not JSON serializable");
    }
  }

 private:
  void Newline(int level) {
    out_->push_back('\n');
    for (int i = 0; i < level; ++i) out_->append(*o_.indent);
  }
  void Open(int level) {
    if (o_.indent) Newline(level);
  }
  void Separator(int level) {
    out_->append(o_.item_separator);
    if (o_.indent) Newline(level);
  }
  void Close(int level) {
    if (o_.indent) Newline(level);
  }

  const JsonDumpOptions& o_;
  std::string* out_;
};

}  // namespace

JsonDumpOptions JsonDumpOptions::Python(std::optional<std::string> indent) {
  JsonDumpOptions o;
  if (indent) o.item_separator = ",";
  o.indent = std::move(indent);
  return o;
}

Result<std::string> JsonDumps(const Value& v, const JsonDumpOptions& options) {
  std::string out;
  Encoder enc(options, &out);
  CCG_RETURN_IF_ERROR(enc.Encode(v, 0));
  return out;
}

}  // namespace ccguard::jinja
