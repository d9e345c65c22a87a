// Streaming output classification: the exchange prompt → response (after the
// earlier turns of a conversation, if any) is scored
// again after every appended chunk of the response. The session keeps the
// keys/values of the tokens it has seen, so an append runs only the tokens
// after the longest common prefix of the new and the previous token
// sequences (the new response tokens plus the closing template text). The
// score after the last chunk equals the one-shot score of the whole exchange.
//
// A session is used by one caller at a time (not thread-safe itself); many
// sessions may run concurrently. The Classifier must outlive its sessions.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "scoring/classifier.h"

namespace ccguard {

class StreamSession {
 public:
  // Appends `chunk` (valid UTF-8) to the response and scores the exchange.
  Result<ItemScore> Append(std::string_view chunk);
  // Scores the exchange with the response so far (possibly empty).
  Result<ItemScore> Current();

  const std::string& prompt() const { return base_.prompt; }
  const std::string& response() const { return response_; }
  // The exchange this session judges with `response` as the response.
  Item Exchange(std::string response) const {
    Item item = base_;
    item.response = std::move(response);
    return item;
  }
  // Tokens of the last scored sequence.
  int64_t n_tokens() const { return static_cast<int64_t>(tokens_.size()); }
  // Bytes of keys/values this session holds (the shared prefix not counted).
  size_t cache_bytes() const { return cache_ ? cache_->bytes() : 0; }

 private:
  friend class Classifier;
  StreamSession(Classifier* owner, Item base) : owner_(owner), base_(std::move(base)) {}
  Result<ItemScore> Rescore(const std::string& response);

  Classifier* owner_;
  Item base_;  // the context and prompt (kExchange, no response)
  std::string response_;
  std::vector<int32_t> tokens_;  // what cache_ holds (prefix part included)
  std::unique_ptr<KvCache> cache_;
};

}  // namespace ccguard
