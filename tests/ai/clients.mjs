// The official OpenAI and Anthropic clients (npm) against the AI gateway: one
// call per run, described by a JSON document on standard input, its outcome as
// one JSON document on standard output (tests/ai/test_ai_gateway.py).
//
//   {"sdk": "openai" | "anthropic", "baseURL", "apiKey",
//    "op": "chat" | "stream" | "models" | "embeddings", "request": {...}}
//
// -> {"ok": true, "body": ..., "headers": {...}} (chat, models, embeddings)
//    {"ok": true, "text": "...", "events": N, "usage": {...}, "headers": {...}} (stream)
//    {"ok": false, "status": N, "error": {...}, "headers": {...}}
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const cmd = JSON.parse(Buffer.concat(chunks).toString());

function pick(headers) {
  const out = {};
  for (const [k, v] of headers.entries()) out[k.toLowerCase()] = v;
  return out;
}

async function openai() {
  const client = new OpenAI({ apiKey: cmd.apiKey, baseURL: cmd.baseURL, maxRetries: 0 });
  if (cmd.op === 'models') {
    const { data, response } = await client.models.list().withResponse();
    return { ok: true, body: data.data.map((m) => m.id), headers: pick(response.headers) };
  }
  if (cmd.op === 'embeddings') {
    const { data, response } = await client.embeddings.create(cmd.request).withResponse();
    return { ok: true, body: data, headers: pick(response.headers) };
  }
  if (cmd.op === 'chat') {
    const { data, response } = await client.chat.completions.create(cmd.request).withResponse();
    return { ok: true, body: data, headers: pick(response.headers) };
  }
  const { data: stream, response } = await client.chat.completions
    .create({ ...cmd.request, stream: true }).withResponse();
  let text = '', events = 0, usage = null, finish = null, model = null;
  for await (const chunk of stream) {
    events++;
    model = chunk.model;
    if (chunk.usage) usage = chunk.usage;
    for (const ch of chunk.choices || []) {
      if (ch.delta && ch.delta.content) text += ch.delta.content;
      if (ch.finish_reason) finish = ch.finish_reason;
    }
  }
  return { ok: true, text, events, usage, finish, model, headers: pick(response.headers) };
}

async function anthropic() {
  const client = new Anthropic({ apiKey: cmd.apiKey, baseURL: cmd.baseURL, maxRetries: 0 });
  if (cmd.op === 'chat') {
    const { data, response } = await client.messages.create(cmd.request).withResponse();
    return { ok: true, body: data, headers: pick(response.headers) };
  }
  const { data: stream, response } = await client.messages
    .create({ ...cmd.request, stream: true }).withResponse();
  let text = '', events = 0, input = null, output = null, stop = null, model = null;
  for await (const ev of stream) {
    events++;
    if (ev.type === 'message_start') { input = ev.message.usage.input_tokens; model = ev.message.model; }
    if (ev.type === 'content_block_delta' && ev.delta.type === 'text_delta') text += ev.delta.text;
    if (ev.type === 'message_delta') {
      // cumulative: a stream translated from OpenAI knows the input only at its end
      if (ev.usage.input_tokens != null) input = ev.usage.input_tokens;
      output = ev.usage.output_tokens;
      stop = ev.delta.stop_reason;
    }
  }
  return { ok: true, text, events, usage: { input_tokens: input, output_tokens: output }, finish: stop,
           model, headers: pick(response.headers) };
}

try {
  const out = cmd.sdk === 'anthropic' ? await anthropic() : await openai();
  process.stdout.write(JSON.stringify(out));
} catch (e) {
  if (e && typeof e.status === 'number') {
    process.stdout.write(JSON.stringify({ ok: false, status: e.status, error: e.error ?? null,
                                          headers: e.headers ? pick(e.headers) : {} }));
  } else {
    process.stdout.write(JSON.stringify({ ok: false, status: 0, error: String(e && e.stack || e) }));
  }
}
