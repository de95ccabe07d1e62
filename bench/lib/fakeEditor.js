'use strict';
// A plain-JS editor with the same shape as src/ide/editor.ts's Editor (and test/helpers/fakeEditor.ts),
// so the bench needs nothing but dist/. Every read answers synchronously from state it holds:
// this measures the server's own cost, not a Neovim round trip.
const path = require('path');

function tab(root, i, active) {
  const rel = `src/module${i}/file${i}.ts`;
  const abs = path.join(root, rel);
  return {
    uri: `file://${abs}`,
    isActive: active,
    isPinned: false,
    isPreview: false,
    isDirty: i % 5 === 0,
    label: path.basename(rel),
    groupIndex: 0,
    viewColumn: 1,
    isGroupActive: active,
    fileName: abs,
    languageId: 'typescript',
    lineCount: 100 + i * 37,
    isUntitled: false,
  };
}

const FILLER = " Argument of type 'string | undefined' is not assignable to parameter of type 'string'.";

/** `count` diagnostics over `files` files; `msgLen` pads each message (tunes the reply size). */
function makeDiagnostics(root, count, files, msgLen) {
  const out = [];
  for (let f = 0; f < files; f++) {
    out.push({ uri: `file://${path.join(root, `src/module${f}/file${f}.ts`)}`, diagnostics: [] });
  }
  const severities = ['Error', 'Warning', 'Info', 'Hint'];
  for (let i = 0; i < count; i++) {
    const line = 10 + i;
    let message = `Type mismatch (${i}).`;
    if (message.length < msgLen) message += FILLER.repeat(Math.ceil(msgLen / FILLER.length)).slice(0, msgLen - message.length);
    out[i % files].diagnostics.push({
      message,
      severity: severities[i % 4],
      range: { start: { line, character: 4 }, end: { line, character: 18 } },
      source: 'tsserver',
      code: String(2000 + (i % 300)),
    });
  }
  return out;
}

class BenchEditor {
  constructor(root, { tabs = 20, diagnostics = 200, diagnosticFiles = 10, msgLen = 60 } = {}) {
    this.root = root;
    // Frozen, as the plugin's editor state hands them out: the server may serialize them once.
    this.tabs = Object.freeze(Array.from({ length: tabs }, (_, i) => Object.freeze(tab(root, i, i === 0))));
    this.diagnostics = Object.freeze(makeDiagnostics(root, diagnostics, diagnosticFiles, msgLen));
  }
  openDiff(req) {
    // Decided at once (not timed by the bench yet).
    return { outcome: Promise.resolve({ kind: 'accepted', contents: req.newContents }), close() {} };
  }
  openFile() {}
  getOpenEditors() { return this.tabs; }
  getDiagnostics(filePath) {
    if (filePath === undefined) {
      if (!this.nonEmpty) this.nonEmpty = Object.freeze(this.diagnostics.filter((d) => d.diagnostics.length > 0));
      return this.nonEmpty;
    }
    return this.diagnostics.filter((d) => d.uri === `file://${filePath}` && d.diagnostics.length > 0);
  }
  getCurrentSelection() { return null; }
  getLatestSelection() { return null; }
  checkDocumentDirty() { return null; }
  saveDocument() { return { status: 'not_open' }; }
}

/**
 * The message length that makes the getDiagnostics {} reply frame (as the server builds it:
 * JSON text inside a JSON-RPC result) closest to `targetBytes`.
 */
function msgLenForReply(root, count, files, targetBytes) {
  let best = { len: 0, diff: Infinity };
  for (let len = 10; len <= 400; len++) {
    const diags = makeDiagnostics(root, count, files, len);
    const frame = JSON.stringify({ jsonrpc: '2.0', id: 100000, result: { content: [{ type: 'text', text: JSON.stringify(diags) }] } });
    const diff = Math.abs(Buffer.byteLength(frame) - targetBytes);
    if (diff < best.diff) best = { len, diff };
  }
  return best.len;
}

module.exports = { BenchEditor, makeDiagnostics, msgLenForReply };
