import { capDiagnostics, MAX_DIAGNOSTICS } from '../../src/ide/tools/getDiagnostics';
import type { Diagnostic, FileDiagnostics, Severity } from '../../src/ide/editor';

const diag = (severity: Severity, line: number): Diagnostic => ({
  message: `${severity} ${line}`, severity, range: { start: { line, character: 0 }, end: { line, character: 1 } },
});

describe('getDiagnostics cap', () => {
  test('a small answer is returned as is', () => {
    const all: FileDiagnostics[] = [{ uri: 'file:///a', diagnostics: [diag('Hint', 0), diag('Error', 1)] }];
    expect(capDiagnostics(all)).toBe(all);
  });

  test(`thousands of warnings: ${MAX_DIAGNOSTICS} kept, every error first, files and order kept`, () => {
    const warnings: FileDiagnostics = { uri: 'file:///noisy.ts', diagnostics: Array.from({ length: 3000 }, (_, i) => diag('Warning', i)) };
    const errors: FileDiagnostics = { uri: 'file:///broken.ts', diagnostics: [diag('Hint', 0), diag('Error', 5), diag('Info', 6), diag('Error', 9)] };
    const out = capDiagnostics([warnings, errors]);
    const flat = out.flatMap((f) => f.diagnostics);
    expect(flat).toHaveLength(MAX_DIAGNOSTICS);
    expect(out.map((f) => f.uri)).toEqual(['file:///noisy.ts', 'file:///broken.ts']);
    expect(out[1].diagnostics.map((d) => d.range.start.line)).toEqual([5, 9]);
    expect(out[0].diagnostics).toHaveLength(MAX_DIAGNOSTICS - 2);
    expect(out[0].diagnostics.map((d) => d.range.start.line)).toEqual(Array.from({ length: MAX_DIAGNOSTICS - 2 }, (_, i) => i));
  });

  test('a file left with nothing is left out; a smaller cap keeps the most severe', () => {
    const all: FileDiagnostics[] = [
      { uri: 'file:///hints', diagnostics: [diag('Hint', 0), diag('Hint', 1)] },
      { uri: 'file:///mixed', diagnostics: [diag('Info', 0), diag('Error', 1), diag('Warning', 2)] },
    ];
    expect(capDiagnostics(all, 2)).toEqual([{ uri: 'file:///mixed', diagnostics: [diag('Error', 1), diag('Warning', 2)] }]);
    expect(capDiagnostics(all, 3)).toEqual([{ uri: 'file:///mixed', diagnostics: [diag('Info', 0), diag('Error', 1), diag('Warning', 2)] }]);
  });
});
