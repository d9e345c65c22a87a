#include "jinja/template.h"

#include <exception>
#include <new>

#include "jinja/interpreter.h"
#include "jinja/lexer.h"
#include "jinja/parser.h"

namespace ccguard::jinja {

Result<Template> Template::Parse(std::string_view source, Options options) {
  try {
    std::string normalized = NormalizeSource(source);
    LexerOptions lex;
    lex.trim_blocks = options.trim_blocks;
    lex.lstrip_blocks = options.lstrip_blocks;
    CCG_ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(normalized, lex));
    CCG_ASSIGN_OR_RETURN(std::unique_ptr<ast::Program> program,
                         ParseTokens(normalized, tokens, options.max_depth));
    return Template(std::shared_ptr<const ast::Program>(std::move(program)), options);
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("out of memory while parsing the template");
  } catch (const std::exception& e) {
    return Status::Internal(std::string("template parse failed: ") + e.what());
  }
}

Result<std::string> Template::Render(const Value& context) const {
  return RenderProgram(program_, options_, context);
}

}  // namespace ccguard::jinja
