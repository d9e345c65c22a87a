#include "jinja/format.h"

#include <cmath>
#include <cstdio>
#include <optional>

#include "jinja/access.h"
#include "jinja/pystring.h"

namespace ccguard::jinja {

namespace {

constexpr int64_t kMaxWidth = 1 << 20;

Status TooWide() { return Status::ResourceExhausted("format width or precision too large"); }

struct Spec {
  uint32_t fill = ' ';
  char align = 0;  // '<', '>', '^', '=' or 0 (default)
  char sign = '-';
  bool alt = false;
  bool zero = false;
  int64_t width = -1;
  char grouping = 0;
  int64_t precision = -1;
  char type = 0;
};

std::string Digits(uint64_t v, int base, bool upper) {
  if (v == 0) return "0";
  std::string out;
  const char* d = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  while (v) {
    out.insert(out.begin(), d[v % base]);
    v /= base;
  }
  return out;
}

std::string Group(const std::string& digits, char sep, int every) {
  std::string out;
  int n = static_cast<int>(digits.size());
  for (int i = 0; i < n; ++i) {
    if (i && (n - i) % every == 0) out.push_back(sep);
    out.push_back(digits[i]);
  }
  return out;
}

// Pads `sign+prefix` and `body` to spec width (align '=' pads between them).
std::string Align(const std::string& head, const std::string& body, const Spec& s,
                  char default_align) {
  std::string all = head + body;
  int64_t len = static_cast<int64_t>(pystr::Length(all));
  if (s.width <= len) return all;
  int64_t pad = s.width - len;
  char align = s.align ? s.align : default_align;
  uint32_t fill = s.fill;
  if (!s.align && s.zero) {
    align = '=';
    fill = '0';
  }
  std::string f;
  pystr::AppendCodePoint(fill, &f);
  auto rep = [&](int64_t n) {
    std::string r;
    for (int64_t i = 0; i < n; ++i) r += f;
    return r;
  };
  switch (align) {
    case '<':
      return all + rep(pad);
    case '^':
      return rep(pad / 2) + all + rep(pad - pad / 2);
    case '=':
      return head + rep(pad) + body;
    default:
      return rep(pad) + all;
  }
}

std::string SignOf(bool negative, char sign) {
  if (negative) return "-";
  if (sign == '+') return "+";
  if (sign == ' ') return " ";
  return "";
}

Result<std::string> FormatIntSpec(int64_t v, const Spec& s) {
  bool neg = v < 0;
  uint64_t mag = neg ? static_cast<uint64_t>(-(v + 1)) + 1 : static_cast<uint64_t>(v);
  std::string prefix, digits;
  switch (s.type) {
    case 0:
    case 'd':
    case 'n':
      digits = Digits(mag, 10, false);
      break;
    case 'b':
      digits = Digits(mag, 2, false);
      prefix = s.alt ? "0b" : "";
      break;
    case 'o':
      digits = Digits(mag, 8, false);
      prefix = s.alt ? "0o" : "";
      break;
    case 'x':
    case 'X':
      digits = Digits(mag, 16, s.type == 'X');
      prefix = s.alt ? (s.type == 'X' ? "0X" : "0x") : "";
      break;
    case 'c': {
      if (v < 0 || v > 0x10FFFF) return Status::InvalidArgument("%c arg not in range(0x110000)");
      std::string c;
      pystr::AppendCodePoint(static_cast<uint32_t>(v), &c);
      Spec t = s;
      return Align("", c, t, '<');
    }
    default:
      return Status::InvalidArgument(std::string("Unknown format code '") + s.type +
                                     "' for object of type 'int'");
  }
  if (s.grouping) digits = Group(digits, s.grouping, (s.type == 0 || s.type == 'd') ? 3 : 4);
  return Align(SignOf(neg, s.sign) + prefix, digits, s, '>');
}

std::string CFormat(double v, char type, int64_t precision, bool alt) {
  char spec[16];
  std::snprintf(spec, sizeof(spec), "%%%s.%d%c", alt ? "#" : "", static_cast<int>(precision), type);
  char buf[512];
  int n = std::snprintf(buf, sizeof(buf), spec, v);
  if (n < static_cast<int>(sizeof(buf))) return std::string(buf, n > 0 ? n : 0);
  std::string big(static_cast<size_t>(n) + 1, '\0');
  std::snprintf(big.data(), big.size(), spec, v);
  big.resize(n);
  return big;
}

Result<std::string> FormatFloatSpec(double v, const Spec& s) {
  bool neg = std::signbit(v) && !std::isnan(v);
  double mag = std::fabs(v);
  std::string body;
  char type = s.type;
  int64_t prec = s.precision;
  if (prec > kMaxWidth) return TooWide();
  if (std::isinf(mag) || std::isnan(mag)) {
    body = std::isnan(mag) ? "nan" : "inf";
    if (type == 'E' || type == 'F' || type == 'G') body = pystr::Upper(body);
    if (type == '%') body += "%";
  } else if (type == 0) {
    if (prec < 0) {
      body = FloatRepr(mag);
    } else {
      body = CFormat(mag, 'g', prec == 0 ? 1 : prec, s.alt);
      if (body.find_first_of(".e") == std::string::npos) body += ".0";
    }
  } else if (type == '%') {
    body = CFormat(mag * 100, 'f', prec < 0 ? 6 : prec, s.alt) + "%";
  } else if (type == 'e' || type == 'E' || type == 'f' || type == 'F' || type == 'g' ||
             type == 'G' || type == 'n') {
    body = CFormat(mag, type == 'n' ? 'g' : type, prec < 0 ? 6 : prec, s.alt);
  } else {
    return Status::InvalidArgument(std::string("Unknown format code '") + type +
                                   "' for object of type 'float'");
  }
  if (s.grouping && !std::isinf(mag) && !std::isnan(mag)) {
    size_t end = body.find_first_not_of("0123456789");
    if (end == std::string::npos) end = body.size();
    body = Group(body.substr(0, end), s.grouping, 3) + body.substr(end);
  }
  return Align(SignOf(neg, s.sign), body, s, '>');
}

Result<Spec> ParseSpec(std::string_view spec) {
  Spec s;
  size_t i = 0;
  auto is_align = [](char c) { return c == '<' || c == '>' || c == '^' || c == '='; };
  // [[fill]align]
  {
    size_t p = 0;
    if (!spec.empty()) {
      uint32_t cp = pystr::DecodeNext(spec, &p);
      if (p < spec.size() && is_align(spec[p])) {
        s.fill = cp;
        s.align = spec[p];
        i = p + 1;
      } else if (is_align(spec[0])) {
        s.align = spec[0];
        i = 1;
      }
    }
  }
  if (i < spec.size() && (spec[i] == '+' || spec[i] == '-' || spec[i] == ' ')) s.sign = spec[i++];
  if (i < spec.size() && spec[i] == '#') {
    s.alt = true;
    ++i;
  }
  if (i < spec.size() && spec[i] == '0') {
    s.zero = true;
    ++i;
  }
  auto number = [&](int64_t* out) -> Status {
    int64_t v = 0;
    bool any = false;
    while (i < spec.size() && spec[i] >= '0' && spec[i] <= '9') {
      v = v * 10 + (spec[i++] - '0');
      if (v > kMaxWidth) return TooWide();
      any = true;
    }
    if (any) *out = v;
    return Status::Ok();
  };
  CCG_RETURN_IF_ERROR(number(&s.width));
  if (i < spec.size() && (spec[i] == ',' || spec[i] == '_')) s.grouping = spec[i++];
  if (i < spec.size() && spec[i] == '.') {
    ++i;
    s.precision = 0;
    CCG_RETURN_IF_ERROR(number(&s.precision));
  }
  if (i < spec.size()) s.type = spec[i++];
  if (i != spec.size()) return Status::InvalidArgument("Invalid format specifier");
  return s;
}

// Python's format(value, spec).
Result<std::string> FormatValue(const Value& v, std::string_view spec_text) {
  if (spec_text.empty()) return v.Str();
  CCG_ASSIGN_OR_RETURN(Spec s, ParseSpec(spec_text));
  if (v.is_int() || v.is_bool()) {
    if (s.type == 'e' || s.type == 'E' || s.type == 'f' || s.type == 'F' || s.type == 'g' ||
        s.type == 'G' || s.type == '%') {
      return FormatFloatSpec(static_cast<double>(v.int_value()), s);
    }
    return FormatIntSpec(v.int_value(), s);
  }
  if (v.is_float()) return FormatFloatSpec(v.float_value(), s);
  if (v.is_string()) {
    if (s.type != 0 && s.type != 's') {
      return Status::InvalidArgument(std::string("Unknown format code '") + s.type +
                                     "' for object of type 'str'");
    }
    std::string body = v.string_value();
    if (s.precision >= 0) {
      std::vector<uint32_t> cps = pystr::CodePoints(body);
      body = pystr::FromCodePoints(cps, 0, static_cast<size_t>(s.precision));
    }
    return Align("", body, s, '<');
  }
  if (v.is_undefined()) return Status::InvalidArgument(v.UndefinedMessage());
  return Status::InvalidArgument(std::string("unsupported format string passed to ") +
                                 v.TypeName() + ".__format__");
}

}  // namespace

Result<std::string> PercentFormat(std::string_view fmt, const Value& args) {
  std::vector<Value> positional;
  const Value* mapping = nullptr;
  if (args.is_tuple()) {
    positional = args.list_value();
  } else if (args.is_dict()) {
    mapping = &args;
    positional.push_back(args);
  } else {
    positional.push_back(args);
  }
  size_t next = 0;
  bool used_mapping = false;
  std::string out;
  auto take = [&]() -> Result<Value> {
    if (next >= positional.size()) {
      return Status::InvalidArgument("not enough arguments for format string");
    }
    return positional[next++];
  };
  for (size_t i = 0; i < fmt.size();) {
    char c = fmt[i];
    if (c != '%') {
      out.push_back(c);
      ++i;
      continue;
    }
    ++i;
    if (i >= fmt.size()) return Status::InvalidArgument("incomplete format");
    std::optional<Value> keyed;
    if (fmt[i] == '(') {
      size_t close = fmt.find(')', i);
      if (close == std::string_view::npos) return Status::InvalidArgument("incomplete format key");
      if (!mapping) return Status::InvalidArgument("format requires a mapping");
      std::string key(fmt.substr(i + 1, close - i - 1));
      const Value* v = mapping->dict_value().Find(key);
      if (!v) return Status::InvalidArgument("KeyError: " + StringRepr(key));
      keyed = *v;
      used_mapping = true;
      i = close + 1;
    }
    Spec s;
    s.align = '>';
    bool left = false;
    for (; i < fmt.size(); ++i) {
      char f = fmt[i];
      if (f == '-') {
        left = true;
      } else if (f == '+') {
        s.sign = '+';
      } else if (f == ' ') {
        if (s.sign != '+') s.sign = ' ';
      } else if (f == '#') {
        s.alt = true;
      } else if (f == '0') {
        s.zero = true;
      } else {
        break;
      }
    }
    auto number = [&](int64_t* out_n) -> Status {
      if (i < fmt.size() && fmt[i] == '*') {
        ++i;
        CCG_ASSIGN_OR_RETURN(Value w, take());
        if (!w.is_int()) return Status::InvalidArgument("* wants int");
        *out_n = w.int_value();
        if (*out_n > kMaxWidth) return TooWide();
        return Status::Ok();
      }
      int64_t v = 0;
      bool any = false;
      while (i < fmt.size() && fmt[i] >= '0' && fmt[i] <= '9') {
        v = v * 10 + (fmt[i++] - '0');
        if (v > kMaxWidth) return TooWide();
        any = true;
      }
      if (any) *out_n = v;
      return Status::Ok();
    };
    CCG_RETURN_IF_ERROR(number(&s.width));
    if (s.width < -1) {
      left = true;
      s.width = -s.width;
    }
    if (i < fmt.size() && fmt[i] == '.') {
      ++i;
      s.precision = 0;
      CCG_RETURN_IF_ERROR(number(&s.precision));
    }
    while (i < fmt.size() && (fmt[i] == 'h' || fmt[i] == 'l' || fmt[i] == 'L')) ++i;
    if (i >= fmt.size()) return Status::InvalidArgument("incomplete format");
    char conv = fmt[i++];
    if (conv == '%') {
      out.push_back('%');
      continue;
    }
    Value v;
    if (keyed) {
      v = *keyed;
    } else {
      CCG_ASSIGN_OR_RETURN(v, take());
    }
    if (left) {
      s.align = '<';
      s.zero = false;
    } else if (s.zero) {
      s.align = 0;
    }
    std::string piece;
    switch (conv) {
      case 's':
      case 'r':
      case 'a': {
        std::string text = conv == 's' ? v.Str() : v.Repr();
        if (s.precision >= 0) {
          text =
              pystr::FromCodePoints(pystr::CodePoints(text), 0, static_cast<size_t>(s.precision));
        }
        Spec t = s;
        t.zero = false;
        if (!left) t.align = '>';
        piece = Align("", text, t, '>');
        break;
      }
      case 'd':
      case 'i':
      case 'u':
      case 'o':
      case 'x':
      case 'X': {
        int64_t n;
        if (v.is_int() || v.is_bool()) {
          n = v.int_value();
        } else if (v.is_float() && (conv == 'd' || conv == 'i' || conv == 'u')) {
          if (!std::isfinite(v.float_value())) {
            return Status::InvalidArgument("cannot convert float infinity or NaN to integer");
          }
          n = static_cast<int64_t>(v.float_value());
        } else {
          return Status::InvalidArgument(
              std::string("%") + conv + " format: " +
              (conv == 'o' || conv == 'x' || conv == 'X' ? "an integer" : "a real number") +
              " is required, not " + v.TypeName());
        }
        Spec t = s;
        t.type = (conv == 'd' || conv == 'i' || conv == 'u') ? 'd' : conv;
        t.alt = s.alt && conv != 'd';
        std::string digits;
        bool neg = n < 0;
        uint64_t mag = neg ? static_cast<uint64_t>(-(n + 1)) + 1 : static_cast<uint64_t>(n);
        digits = Digits(mag, t.type == 'd' ? 10 : t.type == 'o' ? 8 : 16, t.type == 'X');
        if (s.precision > static_cast<int64_t>(digits.size())) {
          digits.insert(0, static_cast<size_t>(s.precision - digits.size()), '0');
        }
        std::string prefix = !t.alt ? "" : t.type == 'o' ? "0o" : t.type == 'x' ? "0x" : "0X";
        piece = Align(SignOf(neg, s.sign) + prefix, digits, t, '>');
        break;
      }
      case 'e':
      case 'E':
      case 'f':
      case 'F':
      case 'g':
      case 'G': {
        if (!v.is_number()) {
          return Status::InvalidArgument(std::string("must be real number, not ") + v.TypeName());
        }
        Spec t = s;
        t.type = conv;
        if (t.precision < 0) t.precision = 6;
        CCG_ASSIGN_OR_RETURN(piece, FormatFloatSpec(v.AsDouble(), t));
        break;
      }
      case 'c': {
        Spec t = s;
        t.zero = false;
        if (v.is_string() && pystr::Length(v.string_value()) == 1) {
          piece = Align("", v.string_value(), t, '>');
        } else if (v.is_int()) {
          t.type = 'c';
          t.align = left ? '<' : '>';
          CCG_ASSIGN_OR_RETURN(piece, FormatIntSpec(v.int_value(), t));
        } else {
          return Status::InvalidArgument("%c requires int or char");
        }
        break;
      }
      default:
        return Status::InvalidArgument(std::string("unsupported format character '") + conv + "'");
    }
    out += piece;
  }
  // Python skips this check when the argument looks like a mapping (dicts, but also lists,
  // which have __getitem__).
  bool mapping_like = mapping || (args.is_sequence() && !args.is_tuple());
  if (!used_mapping && !mapping_like && next < positional.size()) {
    return Status::InvalidArgument("not all arguments converted during string formatting");
  }
  return out;
}

Result<std::string> StrFormat(std::string_view fmt, const CallArgs& args) {
  std::string out;
  int auto_index = 0;
  bool manual = false, automatic = false;
  for (size_t i = 0; i < fmt.size();) {
    char c = fmt[i];
    if (c == '}') {
      if (i + 1 < fmt.size() && fmt[i + 1] == '}') {
        out.push_back('}');
        i += 2;
        continue;
      }
      return Status::InvalidArgument("Single '}' encountered in format string");
    }
    if (c != '{') {
      out.push_back(c);
      ++i;
      continue;
    }
    if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
      out.push_back('{');
      i += 2;
      continue;
    }
    size_t close = fmt.find('}', i + 1);
    if (close == std::string_view::npos) {
      return Status::InvalidArgument("Single '{' encountered in format string");
    }
    std::string_view field = fmt.substr(i + 1, close - i - 1);
    if (field.find('{') != std::string_view::npos) {
      return Status::NotSupported("nested format fields are not supported");
    }
    i = close + 1;
    std::string_view spec;
    char conversion = 0;
    size_t colon = field.find(':');
    if (colon != std::string_view::npos) {
      spec = field.substr(colon + 1);
      field = field.substr(0, colon);
    }
    size_t bang = field.find('!');
    if (bang != std::string_view::npos) {
      if (bang + 2 != field.size()) {
        return Status::InvalidArgument("expected ':' after conversion specifier");
      }
      conversion = field[bang + 1];
      field = field.substr(0, bang);
    }
    size_t name_end = field.find_first_of(".[");
    std::string_view head = field.substr(0, name_end);
    Value v;
    if (head.empty() || (head[0] >= '0' && head[0] <= '9')) {
      size_t index;
      if (head.empty()) {
        if (manual) {
          return Status::InvalidArgument(
              "cannot switch from manual field specification to automatic field numbering");
        }
        automatic = true;
        index = static_cast<size_t>(auto_index++);
      } else {
        if (automatic) {
          return Status::InvalidArgument(
              "cannot switch from automatic field numbering to manual field specification");
        }
        manual = true;
        index = 0;
        for (char d : head) {
          if (d < '0' || d > '9') return Status::InvalidArgument("invalid field index");
          index = index * 10 + static_cast<size_t>(d - '0');
          if (index > 1000000) return Status::InvalidArgument("field index too large");
        }
      }
      if (index >= args.args.size()) {
        return Status::InvalidArgument("Replacement index " + std::to_string(index) +
                                       " out of range for positional args tuple");
      }
      v = args.args[index];
    } else {
      bool found = false;
      for (const auto& [k, kv] : args.kwargs) {
        if (k == head) {
          v = kv;
          found = true;
        }
      }
      if (!found) return Status::InvalidArgument("KeyError: " + StringRepr(head));
    }
    // .attr and [key] parts.
    size_t p = name_end;
    while (p != std::string_view::npos && p < field.size()) {
      if (field[p] == '.') {
        size_t e = field.find_first_of(".[", p + 1);
        std::string_view attr = field.substr(p + 1, e == std::string_view::npos ? e : e - p - 1);
        if (attr.empty() || attr[0] == '_') {
          return Status::InvalidArgument("invalid attribute in format field");
        }
        CCG_ASSIGN_OR_RETURN(v, GetAttr(v, attr));
        p = e;
      } else {
        size_t e = field.find(']', p);
        if (e == std::string_view::npos) return Status::InvalidArgument("Missing ']' in format");
        std::string_view key = field.substr(p + 1, e - p - 1);
        bool numeric =
            !key.empty() && key.find_first_not_of("0123456789") == std::string_view::npos;
        Value k = numeric && key.size() < 18 ? Value::Int(std::stoll(std::string(key)))
                                             : Value::String(std::string(key));
        CCG_ASSIGN_OR_RETURN(v, GetItem(v, k));
        p = e + 1;
      }
    }
    if (conversion == 'r' || conversion == 'a') {
      v = Value::String(v.Repr());
    } else if (conversion == 's') {
      v = Value::String(v.Str());
    } else if (conversion != 0) {
      return Status::InvalidArgument(std::string("Unknown conversion specifier ") + conversion);
    }
    CCG_ASSIGN_OR_RETURN(std::string piece, FormatValue(v, spec));
    out += piece;
  }
  return out;
}

}  // namespace ccguard::jinja
