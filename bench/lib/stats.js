'use strict';
// Small statistics helpers. Samples are in nanoseconds (BigInt from process.hrtime.bigint()
// converted to Number: a round trip is far below 2^53 ns).

/** Nearest-rank percentile of an ascending array (p in 0..1). */
function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1];
}

/** { n, p50, p99, max, mean } in milliseconds. */
function summarize(samplesNs) {
  const s = Float64Array.from(samplesNs).sort();
  let sum = 0;
  for (const x of s) sum += x;
  const ms = (ns) => ns / 1e6;
  return {
    n: s.length,
    p50: ms(percentile(s, 0.5)),
    p99: ms(percentile(s, 0.99)),
    max: ms(s[s.length - 1]),
    mean: ms(sum / s.length),
  };
}

/** A positive integer setting from the environment, else dflt. */
function envInt(name, dflt) {
  const v = Number.parseInt(process.env[name] ?? '', 10);
  return Number.isFinite(v) && v > 0 ? v : dflt;
}

module.exports = { percentile, summarize, envInt };
