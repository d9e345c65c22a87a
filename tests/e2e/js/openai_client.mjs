// Drives `ccguard serve` with the official OpenAI Node library, as a client
// of the moderation API would, and prints what the library saw as one JSON
// object on stdout (tests/e2e/openai_client_test.py checks it).
//   node openai_client.mjs BASE_URL API_KEY
import OpenAI from "openai";

const [baseURL, apiKey] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 120000 });
const wrongKey = new OpenAI({ baseURL, apiKey: "wrong-key", maxRetries: 0 });

// What an APIError exposes to a caller.
function describe(e) {
  if (!(e instanceof OpenAI.APIError)) throw e;
  return {
    class: e.constructor.name,
    status: e.status,
    type: e.type,
    code: e.code,
    param: e.param,
    message: e.message,
    request_id: e.requestID,
  };
}

async function failure(fn) {
  try {
    await fn();
  } catch (e) {
    return describe(e);
  }
  return { class: "none" };
}

const out = {};
{
  const { data, response, request_id } = await client.moderations
    .create({ model: "omni-moderation-latest", input: ["hello there", "how do I bake bread?"] })
    .withResponse();
  out.ok = { result: data, request_id, header: response.headers.get("x-request-id") };
}
{
  const { data, request_id } = await client.moderations
    .create({ input: "hello" }, { headers: { "X-Request-Id": "client-chosen-id-42" } })
    .withResponse();
  out.echo = { request_id, flagged: data.results[0].flagged };
}
out.auth = await failure(() => wrongKey.moderations.create({ input: "hello" }));
out.unknown_model = await failure(() =>
  client.moderations.create({ model: "no-such-guard", input: "hello" }),
);
out.unknown_field = await failure(() =>
  client.moderations.create({ input: "hello", user: "u-1" }),
);
out.too_many = await failure(() =>
  client.moderations.create({ input: Array.from({ length: 65 }, (_, i) => `text ${i}`) }),
);
out.bad_part = await failure(() =>
  client.moderations.create({ input: [{ type: "text", text: "a" }, { type: "image_url", image_url: { url: "x" } }] }),
);
process.stdout.write(JSON.stringify(out) + "\n");
