// Checks contracts/asyncapi.json with the AsyncAPI project's own parser (@asyncapi/parser).
//
//   node check.mjs <asyncapi.json>                    parse; exit 1 with the diagnostics on
//                                                     any error (warnings are printed too)
//   node check.mjs <asyncapi.json> <messages.json>    also validate each message, as sent
//                                                     on the wire, against the document
//
// messages.json: [{"topic": ..., "key": ..., "headers": {name: value}, "body": <JSON>}].
// A message is described when the topic's channel has a message named by its ce_type
// whose headers and payload schemas (as the parser resolved them) accept it, and whose
// Kafka key schema accepts the key.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Parser, fromFile, DiagnosticSeverity } from "@asyncapi/parser";
import Ajv from "ajv";
import addFormats from "ajv-formats";

const [documentPath, messagesPath] = process.argv.slice(2);
if (!documentPath) {
  console.error("usage: node check.mjs <asyncapi.json> [<messages.json>]");
  process.exit(2);
}

const parser = new Parser();
const { document, diagnostics } = await fromFile(parser, resolve(documentPath)).parse();
const severityName = Object.fromEntries(
  Object.entries(DiagnosticSeverity).map(([name, value]) => [value, name]));
for (const diagnostic of diagnostics) {
  const where = (diagnostic.path || []).join("/");
  console.error(`${severityName[diagnostic.severity]} ${diagnostic.code}: ` +
                `${diagnostic.message} at /${where}`);
}
const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
if (!document || errors.length) {
  console.error(`${errors.length} error(s): the document does not parse`);
  process.exit(1);
}
console.log(`parsed: ${document.channels().length} channels, ` +
            `${document.operations().length} operations, ` +
            `${document.messages().length} messages, ${diagnostics.length} diagnostics`);
if (!messagesPath) process.exit(0);

// The schemas as the parser resolved them: exactly what a code generator would see.
// One Ajv per schema: payloads carry their own $id, and one Ajv refuses an id twice.
function validator(schema) {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  return ajv.compile(schema.json());
}

const byChannel = new Map();
for (const channel of document.channels()) {
  const messages = new Map();
  for (const message of channel.messages()) {
    messages.set(message.name(), {
      headers: message.hasHeaders() ? validator(message.headers()) : null,
      payload: message.hasPayload() ? validator(message.payload()) : null,
      key: message.bindings().has("kafka") && message.bindings().get("kafka").value().key
        ? validator({ json: () => message.bindings().get("kafka").value().key }) : null,
    });
  }
  byChannel.set(channel.address(), messages);
}

const problems = [];
const messages = JSON.parse(readFileSync(messagesPath, "utf8"));
for (const [index, sent] of messages.entries()) {
  const where = `#${index} ${sent.headers.ce_type} on ${sent.topic}`;
  const channel = byChannel.get(sent.topic);
  if (!channel) { problems.push(`${where}: no channel has this address`); continue; }
  const described = channel.get(sent.headers.ce_type);
  if (!described) { problems.push(`${where}: the channel has no such message`); continue; }
  for (const [part, value] of [["headers", sent.headers], ["payload", sent.body],
                               ["key", sent.key]]) {
    const validate = described[part];
    if (!validate) { problems.push(`${where}: the message declares no ${part} schema`); continue; }
    if (!validate(value)) {
      problems.push(`${where}: ${part} ` + validate.errors.map(
        (e) => `${e.instancePath || "/"} ${e.message}`).join("; "));
    }
  }
}
for (const problem of problems) console.error(problem);
console.log(`${messages.length} messages checked, ${problems.length} problem(s)`);
process.exit(problems.length ? 1 : 0);
