/**
 * Neovim columns are byte offsets into UTF-8 lines; the protocol (like LSP) counts UTF-16
 * code units. These convert one line's column between the two.
 */
export function byteColToUtf16(line: string, byteCol: number): number {
  const buf = Buffer.from(line, 'utf8');
  const clamped = Math.max(0, Math.min(byteCol, buf.length));
  return buf.subarray(0, clamped).toString('utf8').length;
}

export function utf16ToByteCol(line: string, utf16Col: number): number {
  return Buffer.byteLength(line.slice(0, Math.max(0, utf16Col)), 'utf8');
}
