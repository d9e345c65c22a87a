#include "tokenizer/normalizer.h"

#include <utf8proc.h>

#include <cstdlib>

namespace ccguard {
namespace {

Status AddFromJson(const Json& j, const std::string& what, std::vector<Normalizer::Form>* forms) {
  if (j.is_null()) return Status::Ok();
  if (!j.is_object()) return Status::Corruption(what + ": expected an object or null");
  auto type_it = j.find("type");
  if (type_it == j.end() || !type_it->is_string()) {
    return Status::Corruption(what + ".type: missing or not a string");
  }
  const std::string type = type_it->get<std::string>();
  if (type == "NFC") {
    forms->push_back(Normalizer::Form::kNFC);
  } else if (type == "NFD") {
    forms->push_back(Normalizer::Form::kNFD);
  } else if (type == "NFKC") {
    forms->push_back(Normalizer::Form::kNFKC);
  } else if (type == "NFKD") {
    forms->push_back(Normalizer::Form::kNFKD);
  } else if (type == "Sequence") {
    auto it = j.find("normalizers");
    if (it == j.end() || !it->is_array()) {
      return Status::Corruption(what + ".normalizers: missing or not an array");
    }
    for (size_t i = 0; i < it->size(); ++i) {
      CCG_RETURN_IF_ERROR(
          AddFromJson((*it)[i], what + ".normalizers[" + std::to_string(i) + "]", forms));
    }
  } else {
    return Status::NotSupported(what + ".type: unsupported normalizer type \"" + type +
                                "\" (supported: NFC, NFD, NFKC, NFKD, Sequence, null)");
  }
  return Status::Ok();
}

bool IsAscii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

}  // namespace

Result<Normalizer> Normalizer::FromJson(const Json& j, const std::string& what) {
  Normalizer n;
  CCG_RETURN_IF_ERROR(AddFromJson(j, what, &n.forms_));
  return n;
}

Result<std::string> Normalizer::Normalize(std::string_view text) const {
  std::string cur(text);
  // All four forms leave ASCII unchanged.
  if (forms_.empty() || IsAscii(cur)) return cur;
  for (Form f : forms_) {
    int options = UTF8PROC_STABLE;
    switch (f) {
      case Form::kNFC:
        options |= UTF8PROC_COMPOSE;
        break;
      case Form::kNFD:
        options |= UTF8PROC_DECOMPOSE;
        break;
      case Form::kNFKC:
        options |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT;
        break;
      case Form::kNFKD:
        options |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT;
        break;
    }
    utf8proc_uint8_t* dst = nullptr;
    utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(cur.data()),
                                      static_cast<utf8proc_ssize_t>(cur.size()), &dst,
                                      static_cast<utf8proc_option_t>(options));
    if (n < 0) {
      return Status::InvalidArgument(std::string("Unicode normalization failed: ") +
                                     utf8proc_errmsg(n));
    }
    cur.assign(reinterpret_cast<const char*>(dst), static_cast<size_t>(n));
    std::free(dst);
  }
  return cur;
}

}  // namespace ccguard
