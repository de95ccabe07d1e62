import { reqString } from '../args';
import { requireRegularFile } from '../scope';
import type { DocumentState } from '../editor';
import { json, SerializedResult, whenReady, type ToolResult, type Tool } from '../tool';

const filePathSchema = {
  type: 'object' as const,
  properties: { filePath: { type: 'string', description: 'Path of the file' } },
  required: ['filePath'],
  additionalProperties: false,
};

export const checkDocumentDirty: Tool = {
  name: 'checkDocumentDirty',
  description: 'Check whether a document has unsaved changes',
  listed: true,
  inputSchema: filePathSchema,
  call(args, ctx) {
    const raw = reqString(args, 'filePath');
    const abs = ctx.scope.absolute(raw, 'filePath');
    return whenReady(ctx.editor.checkDocumentDirty(abs), (state) => {
      // A buffer the editor resolved to a file inside the scope answers as is; any other path
      // is judged on its real path now (outside: the scope's error, not "not open").
      const filePath = state?.realPath !== undefined && ctx.scope.containsReal(state.realPath)
        ? abs : ctx.scope.resolve(raw, 'filePath');
      return state
        ? dirtyReply(state, filePath)
        : json({ success: false, message: `Document not open: ${filePath}` });
    });
  },
};

/** Serialized answers per frozen state (the editor makes a new one on change) and path asked. */
const dirtyReplies = new WeakMap<DocumentState, Map<string, SerializedResult>>();

function dirtyReply(state: DocumentState, filePath: string): ToolResult | SerializedResult {
  if (!Object.isFrozen(state)) return dirtyAnswer(state, filePath);
  let byPath = dirtyReplies.get(state);
  if (!byPath) dirtyReplies.set(state, (byPath = new Map()));
  let r = byPath.get(filePath);
  if (!r) {
    if (byPath.size >= 8) byPath.clear(); // a few spellings of one file; never grows unbounded
    r = new SerializedResult(JSON.stringify(dirtyAnswer(state, filePath)));
    byPath.set(filePath, r);
  }
  return r;
}

function dirtyAnswer(state: DocumentState, filePath: string): ToolResult {
  return json({ success: true, filePath, isDirty: state.isDirty, isUntitled: state.isUntitled });
}

export const saveDocument: Tool = {
  name: 'saveDocument',
  description: 'Save a document that has unsaved changes',
  listed: true,
  inputSchema: filePathSchema,
  async call(args, ctx) {
    const filePath = ctx.scope.resolve(reqString(args, 'filePath'), 'filePath');
    requireRegularFile(filePath, 'filePath', true);
    const r = await ctx.editor.saveDocument(filePath);
    switch (r.status) {
      case 'saved':
        return json({ success: true, filePath, saved: true, message: 'Document saved successfully' });
      case 'not_modified':
        return json({ success: true, filePath, saved: false, message: 'Document has no unsaved changes: nothing written' });
      case 'not_open':
        return json({ success: false, message: `Document not open: ${filePath}` });
      case 'conflict':
        return json({
          success: false, filePath, saved: false, conflict: true,
          message: `Not saved: the file ${r.message}; the editor keeps its unsaved changes for the user to resolve`,
        });
      case 'failed':
        return json({ success: false, filePath, saved: false, message: `Could not save: ${r.message}` });
    }
  },
};
