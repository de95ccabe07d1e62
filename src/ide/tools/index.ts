import type { Tool } from '../tool';
import { openFile } from './openFile';
import { openDiff } from './openDiff';
import { closeTab } from './closeTab';
import { closeAllDiffTabs } from './closeAllDiffTabs';
import { getDiagnostics } from './getDiagnostics';
import { getOpenEditors } from './getOpenEditors';
import { getWorkspaceFolders } from './getWorkspaceFolders';
import { getCurrentSelection, getLatestSelection } from './selection';
import { checkDocumentDirty, saveDocument } from './documents';

/** In tools/list order, which must stay stable. */
export const ALL_TOOLS: readonly Tool[] = [
  openFile,
  openDiff,
  getCurrentSelection,
  getLatestSelection,
  getOpenEditors,
  getWorkspaceFolders,
  getDiagnostics,
  checkDocumentDirty,
  saveDocument,
  closeAllDiffTabs,
  closeTab,
];

export const TOOLS_BY_NAME: ReadonlyMap<string, Tool> = new Map(ALL_TOOLS.map((t) => [t.name, t]));
