// Helpers for the server tests: the tiny fixture model (CCGUARD_FIXTURES).
#pragma once

#include <memory>
#include <string>

#include "scoring/classifier.h"
#include "server/config.h"

namespace ccguard::server::testing {

inline std::string FixtureDir() { return CCGUARD_FIXTURES; }

inline ServerConfig TinyConfig() {
  ServerConfig c;
  c.model = FixtureDir() + "/tiny-a/base";
  c.adapter = FixtureDir() + "/tiny-a/adapter";
  c.threads = 2;
  c.port = 0;
  c.http_threads = 16;
  c.max_event_streams = 4;
  c.access_log = "off";
  c.api_keys_env = "";
  return c;
}

inline std::shared_ptr<Engine> TinyEngine() {
  static std::shared_ptr<Engine> engine = [] {
    EngineOptions o;
    o.model_dir = FixtureDir() + "/tiny-a/base";
    o.adapter_dir = FixtureDir() + "/tiny-a/adapter";
    o.model.threads = 2;
    auto e = Engine::Create(o);
    return e.ok() ? std::move(e).value() : nullptr;
  }();
  return engine;
}

inline std::unique_ptr<Classifier> TinyClassifier(std::optional<double> threshold = {}) {
  auto e = TinyEngine();
  if (e == nullptr) return nullptr;
  auto c = Classifier::Create(e, Constitution::Default(), threshold);
  return c.ok() ? std::move(c).value() : nullptr;
}

}  // namespace ccguard::server::testing
